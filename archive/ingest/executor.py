"""Run transcription away from the ingesting process: a local child process, or a Dask cluster.

The ingesting process keeps the database; workers get a TranscribeJob (audio bytes or a
shared path) and return a transcribe.Transcript. A worker that crashes, hangs past its
deadline or runs out of memory fails only its own job (JobFailed), never the batch.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

from archive.config import Settings
from archive.ingest.workers import TranscribeJob, _init_worker, load_engine, run_job
from transcribe.errors import TranscriptionError
from transcribe.options import EngineOptions, Progress
from transcribe.result import Transcript

log = logging.getLogger("podarchive.executor")
# Loading weights is not transcription: it gets its own, generous limit.
# Loading weights is not transcription: it gets its own, generous limit.
MODEL_LOAD_TIMEOUT = 600.0
_POLL = 0.2


class JobFailed(TranscriptionError):
    """The worker died, hung past its deadline or ran out of memory; retry later."""


def deadline_for(settings: Settings, duration: float) -> float:
    """Seconds a job may take: a fixed allowance plus a multiple of the audio duration."""
    return settings.transcribe_timeout + settings.transcribe_timeout_factor * max(duration, 0.0)


def engine_options(settings: Settings) -> EngineOptions:
    """The Whisper options the settings ask for: the one place they are turned into EngineOptions."""
    return EngineOptions(
        model=settings.model,
        device=settings.device,
        compute_type=settings.compute_type,
        threads=settings.threads,
        batch_size=settings.batch_size,
        beam_size=settings.beam_size,
        chunk_seconds=settings.chunk_seconds,
        rerun_suspect=settings.rerun_suspect,
        switch_languages=tuple(sorted(settings.switch_languages)),
    )


class TranscriptionExecutor(Protocol):
    """What the transcribe stage needs from an executor."""

    def transcribe(self, job: TranscribeJob, timeout: float, progress: Progress | None) -> Transcript:
        """Run one job; raise JobFailed or TranscriptionError on failure."""

    def job_for(self, key: int, path: Path, duration: float, **hints: Any) -> TranscribeJob:
        """A job for this audio, carrying bytes or a path as the workers need."""

    def close(self) -> None:
        """Stop the workers."""


class LocalProcessExecutor:
    """One child process that keeps its model between jobs; replaced when it fails."""

    def __init__(self, settings: Settings, options: EngineOptions) -> None:
        self.settings, self.options = settings, options
        self._ctx = multiprocessing.get_context("spawn")
        self._queue: Any = self._ctx.Queue()
        self._pool: ProcessPoolExecutor | None = None

    def job_for(self, key: int, path: Path, duration: float, **hints: Any) -> TranscribeJob:
        """Local children share the disk: send the path."""
        return TranscribeJob(
            key=key,
            options=self.options,
            cache_dir=str(self.settings.cache_dir),
            duration=duration,
            audio_path=str(path),
            **hints,
        )

    def pids(self) -> list[int]:
        """Process ids of the live children (for tests and operators)."""
        procs = getattr(self._pool, "_processes", None) or {}
        return [p.pid for p in procs.values() if p.is_alive()]

    def warm(self) -> None:
        """Start the children and load the model once, outside any episode's deadline."""
        pool = self._ensure_pool()
        fut = pool.submit(load_engine, self.options, str(self.settings.cache_dir))
        try:
            fut.result(timeout=MODEL_LOAD_TIMEOUT)
        except BrokenProcessPool as exc:
            self._discard()
            raise JobFailed(f"worker died while loading model {self.options.model!r}{self._limit_note()}") from exc
        except FutureTimeout as exc:
            self._discard()
            raise JobFailed(f"loading model {self.options.model!r} took over {MODEL_LOAD_TIMEOUT:.0f} s") from exc

    def transcribe(self, job: TranscribeJob, timeout: float, progress: Progress | None) -> Transcript:
        """Run one job in a child; kill and replace the child if it dies or overruns."""
        if self._pool is None:
            self.warm()
        assert self._pool is not None
        deadline = time.monotonic() + timeout
        try:
            fut = self._pool.submit(run_job, job)
            while True:
                self._drain(job.key, progress)
                try:
                    return fut.result(timeout=_POLL)
                except FutureTimeout:
                    if time.monotonic() > deadline:
                        raise
        except FutureTimeout as exc:
            self._discard()
            raise JobFailed(f"worker hung: no result after {timeout:.0f} s; killed") from exc
        except BrokenProcessPool as exc:
            self._discard()
            raise JobFailed(f"worker process died (crash, kill or out of memory){self._limit_note()}") from exc
        except MemoryError as exc:
            self._discard()
            raise JobFailed(f"worker ran out of memory{self._limit_note()}") from exc
        finally:
            self._drain(job.key, progress)

    def close(self) -> None:
        """Stop the idle children gracefully (a SIGKILL would leak their semaphores)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            # transcribe() never returns with a job in flight: a hung child was already killed.
            pool.shutdown(wait=True, cancel_futures=True)
        self._queue.close()
        self._queue.join_thread()

    def _memory_mb(self) -> int:
        """The address-space cap to apply; none on a GPU, where CUDA maps huge virtual ranges."""
        device = self.options.device
        if device == "auto":
            import ctranslate2

            device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        return self.settings.transcribe_memory_mb if device == "cpu" else 0

    def _limit_note(self) -> str:
        mb = self._memory_mb()
        return f" (address-space limit {mb} MB: PODARCHIVE_TRANSCRIBE_MEMORY_MB)" if mb else ""

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                # One job at a time: the stage handles one episode at a time (Dask scales out).
                max_workers=1,
                mp_context=self._ctx,
                initializer=_init_worker,
                initargs=(self._queue, self._memory_mb(), os.getpid()),
            )
        return self._pool

    def _discard(self) -> None:
        """Kill the children and forget the pool; the next job starts a fresh one."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for proc in procs:
            if proc.is_alive():
                # A stopped (SIGSTOP) child ignores SIGTERM until continued; SIGKILL does not wait.
                with contextlib.suppress(ProcessLookupError):  # reaped since is_alive()
                    os.kill(proc.pid, signal.SIGKILL)
        pool.shutdown(wait=True, cancel_futures=True)

    def _drain(self, key: int, progress: Progress | None) -> None:
        """Forward the children's progress reports for this job to the caller."""
        while True:
            try:
                jkey, done, total = self._queue.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if progress is not None and jkey == key:
                progress(done, total)


class DaskExecutor:
    """Jobs submitted to a Dask distributed scheduler; workers keep their model between jobs."""

    def __init__(self, settings: Settings, options: EngineOptions) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # the optional extra is missing
            raise TranscriptionError(
                "PODARCHIVE_DASK_SCHEDULER is set but dask.distributed is not installed: pip install 'podarchive[dask]'"
            ) from exc
        self.settings, self.options = settings, options
        # distributed leaves Client.__init__, Future.cancel and Client.close unannotated.
        self.client = Client(settings.dask_scheduler, timeout=30, set_as_default=False)  # type: ignore[no-untyped-call]

    def job_for(self, key: int, path: Path, duration: float, **hints: Any) -> TranscribeJob:
        """Workers may be other machines: send the audio itself."""
        # Workers' cache_dir is their own; the setting names a path that exists on each.
        return TranscribeJob(
            key=key,
            options=self.options,
            cache_dir=str(self.settings.cache_dir),
            duration=duration,
            audio_bytes=path.read_bytes(),
            suffix=path.suffix,
            **hints,
        )

    def transcribe(self, job: TranscribeJob, timeout: float, progress: Progress | None) -> Transcript:
        """Submit, wait up to `timeout`, and turn worker loss into JobFailed."""
        from distributed import TimeoutError as DaskTimeout
        from distributed.client import FutureCancelledError

        fut = self.client.submit(run_job, job, pure=False, retries=0)
        if progress is not None:
            progress(0.0, job.duration)
        try:
            result: Transcript = fut.result(timeout=timeout)
        except (DaskTimeout, FutureTimeout, TimeoutError) as exc:
            fut.cancel()  # type: ignore[no-untyped-call]
            raise JobFailed(f"dask job hung: no result after {timeout:.0f} s; cancelled") from exc
        except FutureCancelledError as exc:
            raise JobFailed(f"dask job cancelled: {exc}") from exc
        except TranscriptionError:
            raise
        except Exception as exc:  # KilledWorker, CommClosedError, a worker's MemoryError, ...
            raise JobFailed(f"dask worker failed: {type(exc).__name__}: {exc}") from exc
        if progress is not None:
            progress(job.duration, job.duration)
        return result

    def close(self) -> None:
        """Disconnect (the cluster keeps running)."""
        self.client.close()  # type: ignore[no-untyped-call]


def make_executor(settings: Settings) -> LocalProcessExecutor | DaskExecutor:
    """A Dask executor when a scheduler address is set, else local child processes."""
    options = engine_options(settings)
    if settings.dask_scheduler:
        return DaskExecutor(settings, options)
    return LocalProcessExecutor(settings, options)
