"""The worker side of transcription: one job in, one transcript out; the model loaded once per worker.

Runs in a local child process or on a Dask worker, never in the ingesting process. It
imports only the standard library and transcribe's light modules (faster-whisper loads
when a job first needs the model): a spawned child imports this module before
`init_worker` can tie its life to the parent's, so a heavy import here would leave an
orphan decoding alone for as long as the import takes when the ingest is killed, and a
Dask worker needs nothing of archive/.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.options import EngineOptions, Progress
from transcribe.result import Transcript

if TYPE_CHECKING:
    from transcribe.diarize import Diarizer
    from transcribe.engine import Engine


@dataclass(frozen=True)
class TranscribeJob:
    """Everything a worker needs: engine options, audio, and decoding hints."""

    key: int
    options: EngineOptions
    cache_dir: str
    duration: float
    audio_path: str | None = None
    audio_bytes: bytes | None = None
    suffix: str = ".audio"
    language: str | None = None
    initial_prompt: str | None = None
    hotwords: str | None = None
    # The diarize step (transcribe.speaker_step): on or off, the ONNX file ("" the
    # default path), and the show's speaker count hint (None: estimated).
    speakers: bool = False
    speaker_model: str = ""
    num_speakers: int | None = None


@dataclass(frozen=True)
class JobResult:
    """A worker's answer: the transcript, which worker made it, and when (its own clock, epoch seconds)."""

    transcript: Transcript
    worker: str
    # When the model was ready and the job began, and when its transcript was done: a job
    # records them itself, so overlapping jobs show that workers ran them at once.
    started: float
    finished: float


_engines: dict[tuple[EngineOptions, str], Engine] = {}
_diarizers: dict[str, Diarizer] = {}
_progress_queue: Any = None


def _engine(options: EngineOptions, cache_dir: str) -> Engine:
    """The worker's engine for these options, loaded on first use and kept."""
    from transcribe.engine import Engine

    key = (options, cache_dir)
    if key not in _engines:
        _engines[key] = Engine(options, Path(cache_dir))
    return _engines[key]


def _diarizer(model: str) -> Diarizer:
    """The worker's diarizer for this ONNX file, kept between jobs (its model loads on first use)."""
    from transcribe.diarize import Diarizer
    from transcribe.voice_model import VoiceEmbedder

    if model not in _diarizers:
        _diarizers[model] = Diarizer(VoiceEmbedder(Path(model) if model else None))
    return _diarizers[model]


def _with_speakers(job: TranscribeJob, result: Transcript, audio: Path) -> Transcript:
    """The diarize step on a finished transcript, when the job asks for it."""
    if not job.speakers:
        return result
    from transcribe.speaker_step import add_speakers

    return add_speakers(result, audio, _diarizer(job.speaker_model), job.num_speakers)


def load_engine(options: EngineOptions, cache_dir: str) -> str:
    """Load the model in this worker now; returns where it came from."""
    return _engine(options, cache_dir).model_path


def run_job(job: TranscribeJob) -> JobResult:
    """Transcribe one job in the worker (module-level so processes and Dask can import it)."""
    engine = _engine(job.options, job.cache_dir)
    # Before the first report: whoever hears of the job has its start already recorded.
    started = time.time()
    report: Progress | None = None
    if _progress_queue is not None:
        q = _progress_queue

        def report(done: float, total: float) -> None:
            q.put((job.key, done, total))

        # The first report says a worker has the job (tests kill it at this moment).
        report(0.0, job.duration)
    if job.audio_path is not None:
        path = Path(job.audio_path)
        transcript = engine.transcribe(
            path, language=job.language, initial_prompt=job.initial_prompt, hotwords=job.hotwords, progress=report
        )
        transcript = _with_speakers(job, transcript, path)
    else:
        with tempfile.TemporaryDirectory(prefix="podarchive-job-") as tmp:
            path = Path(tmp) / f"audio{job.suffix}"
            path.write_bytes(job.audio_bytes or b"")
            transcript = engine.transcribe(
                path, language=job.language, initial_prompt=job.initial_prompt, hotwords=job.hotwords, progress=report
            )
            transcript = _with_speakers(job, transcript, path)
    return JobResult(transcript, f"{socket.gethostname()}:{os.getpid()}", started, time.time())


def init_worker(progress_queue: Any, memory_mb: int, parent_pid: int) -> None:
    """Child set-up: die with the parent, cap the address space, report progress."""
    global _progress_queue
    _progress_queue = progress_queue
    # PR_SET_PDEATHSIG: a kill -9 of the ingest must not leave a model decoding alone.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    # The parent may have died while this child was still starting (before prctl): then
    # no signal will ever come, and the child is already an orphan.
    if os.getppid() != parent_pid:
        os._exit(1)
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
