"""Kaldi-style log mel filter-bank features in numpy, as CAM++ was trained on.

The same computation as Kaldi's `compute-fbank-feats` and torchaudio's
`compliance.kaldi.fbank` with their defaults (which 3D-Speaker uses for CAM++): 25 ms
frames every 10 ms without padding at the edges, DC offset removed per frame,
pre-emphasis 0.97, Povey window, 512-point power spectrum, 80 triangular mel bins from
20 Hz to Nyquist, natural log floored at float32 epsilon, no dither.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SAMPLE_RATE = 16000
FRAME_LENGTH = 400  # 25 ms
FRAME_SHIFT = 160  # 10 ms
_FFT = 512
_PREEMPHASIS = 0.97
_LOW_HZ = 20.0
_EPSILON = float(np.finfo(np.float32).eps)


def frame_count(samples: int) -> int:
    """How many whole frames `samples` samples hold (Kaldi's snip_edges).

    >>> frame_count(399), frame_count(400), frame_count(16000)
    (0, 1, 98)
    """
    return 0 if samples < FRAME_LENGTH else 1 + (samples - FRAME_LENGTH) // FRAME_SHIFT


def mel_banks(bins: int = 80) -> NDArray[np.float32]:
    """Triangular filters on Kaldi's mel scale, shape (257, bins), the Nyquist row zero."""

    def mel(hz: NDArray[np.float64]) -> NDArray[np.float64]:
        return 1127.0 * np.log1p(hz / 700.0)

    low, high = mel(np.array(_LOW_HZ)), mel(np.array(SAMPLE_RATE / 2))
    delta = (high - low) / (bins + 1)
    left = low + delta * np.arange(bins)
    centre, right = left + delta, left + 2 * delta
    # Kaldi weighs the fft bins below Nyquist only (padded / 2 of them).
    fft_mel = mel(np.arange(_FFT // 2, dtype=np.float64) * (SAMPLE_RATE / _FFT))[:, None]
    up = (fft_mel - left) / (centre - left)
    down = (right - fft_mel) / (right - centre)
    weights = np.maximum(0.0, np.minimum(up, down))
    return np.vstack([weights, np.zeros((1, bins))]).astype(np.float32)


_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME_LENGTH) / (FRAME_LENGTH - 1))) ** 0.85
_BANKS = mel_banks()


def fbank(samples: NDArray[np.float32], *, chunk_frames: int = 6000) -> NDArray[np.float32]:
    """Log mel energies (frames, 80) of 16 kHz mono samples; computed `chunk_frames` at a time.

    >>> fbank(np.zeros(16000, dtype=np.float32)).shape
    (98, 80)
    """
    total = frame_count(len(samples))
    out = np.empty((total, _BANKS.shape[1]), dtype=np.float32)
    audio = np.asarray(samples, dtype=np.float32)
    for first in range(0, total, chunk_frames):
        count = min(chunk_frames, total - first)
        start = first * FRAME_SHIFT
        piece = audio[start : start + (count - 1) * FRAME_SHIFT + FRAME_LENGTH]
        frames = np.lib.stride_tricks.sliding_window_view(piece, FRAME_LENGTH)[::FRAME_SHIFT].astype(np.float64)
        frames = frames - frames.mean(axis=1, keepdims=True)
        # Pre-emphasis, the first sample against itself (Kaldi's convention).
        frames[:, 1:] -= _PREEMPHASIS * frames[:, :-1]
        frames[:, 0] *= 1.0 - _PREEMPHASIS
        frames *= _WINDOW
        power = np.abs(np.fft.rfft(frames, n=_FFT)) ** 2
        energies = power.astype(np.float32) @ _BANKS
        out[first : first + count] = np.log(np.maximum(energies, _EPSILON))
    return out
