"""Run transcription away from the ingesting process: local child processes, or a Dask cluster.

The ingesting process keeps the database; workers get a TranscribeJob (audio bytes or a
shared path) and return a JobResult. Up to `capacity()` jobs run at once. A worker that
crashes, hangs past its deadline or runs out of memory fails only its own job (JobFailed),
never the other jobs in flight or the batch.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from archive.config import Settings
from transcribe.worker import JobResult, TranscribeJob, init_worker, load_engine, run_job
from transcribe.errors import TranscriptionError
from transcribe.options import EngineOptions

log = logging.getLogger("podarchive.executor")
# Loading weights is not transcription: it gets its own, generous limit.
MODEL_LOAD_TIMEOUT = 600.0
_POLL = 0.2

# A progress report of one job: its key, audio seconds done, audio seconds in all.
JobProgress = Callable[[int, float, float], None]


class JobFailed(TranscriptionError):
    """The worker died, hung past its deadline or ran out of memory; retry later."""


@dataclass(frozen=True)
class Finished:
    """A job that left the executor: the worker's result, or the error that is its episode's alone."""

    key: int
    result: JobResult | None = None
    # JobFailed, the worker's TranscriptionError, or (local workers) the OSError of unreadable audio.
    error: Exception | None = None


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


def thread_share(threads: int, workers: int) -> int:
    """Each local worker's share of the CPU threads (0 = every core), at least 1.

    >>> thread_share(8, 2), thread_share(2, 2), thread_share(1, 2), thread_share(3, 2)
    (4, 1, 1, 1)
    """
    return max(1, (threads or os.cpu_count() or 1) // workers)


class TranscriptionExecutor(Protocol):
    """What the transcribe stage needs from an executor."""

    def job_for(self, key: int, path: Path, duration: float, **hints: Any) -> TranscribeJob:
        """A job for this audio, carrying bytes or a path as the workers need."""

    def capacity(self) -> int:
        """How many more jobs may start now."""

    def submit(self, job: TranscribeJob, timeout: float) -> None:
        """Start a job; it must finish within `timeout` seconds of starting."""

    def collect(self, wait: float, progress: JobProgress | None) -> list[Finished]:
        """The jobs that finished or failed, waiting up to `wait` s for one; forwards progress meanwhile."""

    def close(self) -> None:
        """Stop the workers."""


@dataclass
class _Slot:
    """One child process in a pool of its own, so that killing it breaks no other slot's job."""

    pool: ProcessPoolExecutor | None = None
    # This child's progress reports: a child killed mid-write can garble only its own queue.
    reports: Any = None
    loading: Future[str] | None = None
    load_deadline: float = 0.0
    job: TranscribeJob | None = None
    timeout: float = 0.0
    future: Future[JobResult] | None = None
    deadline: float = 0.0


class LocalProcessExecutor:
    """N child processes (PODARCHIVE_TRANSCRIBE_WORKERS), each keeping its model between jobs.

    Each child sits in its own single-worker ProcessPoolExecutor: a pool of N breaks every
    future in flight when one child dies, and a hung child can only be killed with its pool.
    A child that fails is killed and replaced when its slot next gets a job.
    """

    def __init__(self, settings: Settings, options: EngineOptions) -> None:
        self.settings = settings
        self.workers = settings.transcribe_workers
        # N decoders share the machine's cores instead of each taking them all.
        self.options = replace(options, threads=thread_share(options.threads, self.workers))
        self._ctx = multiprocessing.get_context("spawn")
        self._slots = [_Slot() for _ in range(self.workers)]

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
        """Process ids of the live children, in slot order (for tests and operators)."""
        return [pid for slot in self._slots if (pid := _child_pid(slot)) is not None]

    def pid_for(self, key: int) -> int | None:
        """The child running this job, if it is in flight."""
        for slot in self._slots:
            if slot.job is not None and slot.job.key == key:
                return _child_pid(slot)
        return None

    def warm(self) -> None:
        """Start the idle children and load the model in each at once, outside any episode's deadline."""
        idle = [slot for slot in self._slots if slot.job is None]
        for slot in idle:
            if slot.pool is None:
                self._start(slot)
        for slot in idle:
            if slot.loading is None:
                continue
            try:
                slot.loading.result(timeout=max(slot.load_deadline - time.monotonic(), 0.0))
            except BrokenProcessPool as exc:
                self._discard(slot)
                raise JobFailed(f"worker died while loading model {self.options.model!r}{self._limit_note()}") from exc
            except FutureTimeout as exc:
                self._discard(slot)
                raise JobFailed(f"loading model {self.options.model!r} took over {MODEL_LOAD_TIMEOUT:.0f} s") from exc
            except BaseException:
                self._discard(slot)
                raise
            slot.loading = None

    def capacity(self) -> int:
        """The idle slots."""
        return sum(slot.job is None for slot in self._slots)

    def submit(self, job: TranscribeJob, timeout: float) -> None:
        """Give the job to an idle child (a warm one first); a slot without one starts it and loads the model."""
        idle = [slot for slot in self._slots if slot.job is None]
        if not idle:
            raise RuntimeError("no idle worker: submit only up to capacity()")
        slot = next((s for s in idle if s.pool is not None and s.loading is None), idle[0])
        slot.job, slot.timeout = job, timeout
        if slot.pool is None:
            self._start(slot)
        if slot.loading is None:
            self._run(slot)

    def collect(self, wait: float, progress: JobProgress | None) -> list[Finished]:
        """Finished jobs; a child past its deadline or dead is killed and its job alone fails."""
        end = time.monotonic() + wait
        while True:
            finished = [f for slot in self._slots if (f := self._check(slot, progress)) is not None]
            now = time.monotonic()
            pending: list[Future[Any]] = [f for s in self._slots for f in (s.loading, s.future) if f is not None]
            if finished or not pending or now >= end:
                return finished
            # Wakes at once when any child answers; the timeout paces progress and deadlines.
            wait_futures(pending, timeout=min(_POLL, end - now), return_when=FIRST_COMPLETED)

    def close(self) -> None:
        """Stop the idle children gracefully (a SIGKILL would leak their semaphores); kill busy ones."""
        for slot in self._slots:
            if slot.job is not None:
                self._discard(slot)
                continue
            pool, slot.pool = slot.pool, None
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            self._close_reports(slot)
            slot.loading = None

    def _check(self, slot: _Slot, progress: JobProgress | None) -> Finished | None:
        """Forward the slot's progress, then see whether its model loaded or its job ended."""
        self._drain(slot, progress)
        if slot.job is None:
            return None
        if slot.loading is not None:
            return self._check_load(slot)
        assert slot.future is not None
        return self._check_job(slot)

    def _check_load(self, slot: _Slot) -> Finished | None:
        """Start the job once its child has the model; a child that cannot load it fails the job."""
        assert slot.loading is not None and slot.job is not None
        if not slot.loading.done():
            if time.monotonic() > slot.load_deadline:
                return self._fail(
                    slot, JobFailed(f"loading model {self.options.model!r} took over {MODEL_LOAD_TIMEOUT:.0f} s")
                )
            return None
        try:
            slot.loading.result()
        except BrokenProcessPool:
            return self._fail(
                slot, JobFailed(f"worker died while loading model {self.options.model!r}{self._limit_note()}")
            )
        except TranscriptionError as exc:  # ModelNotFound: the stage stops starting jobs
            return self._fail(slot, exc)
        except Exception as exc:
            return self._fail(slot, JobFailed(f"worker failed loading model: {type(exc).__name__}: {exc}"))
        slot.loading = None
        self._run(slot)
        return None

    def _check_job(self, slot: _Slot) -> Finished | None:
        """The job's result or error once it ends; past its deadline its child is killed."""
        assert slot.future is not None and slot.job is not None
        if not slot.future.done():
            if time.monotonic() > slot.deadline:
                return self._fail(slot, JobFailed(f"worker hung: no result after {slot.timeout:.0f} s; killed"))
            return None
        key, future = slot.job.key, slot.future
        try:
            result = future.result()
        except BrokenProcessPool:
            return self._fail(
                slot, JobFailed(f"worker process died (crash, kill or out of memory){self._limit_note()}")
            )
        except MemoryError:
            return self._fail(slot, JobFailed(f"worker ran out of memory{self._limit_note()}"))
        except (TranscriptionError, OSError) as exc:  # the child is fine: it keeps its slot
            outcome = Finished(key, error=exc)
        except Exception as exc:
            outcome = Finished(key, error=JobFailed(f"worker failed: {type(exc).__name__}: {exc}"))
        else:
            outcome = Finished(key, result=result)
        slot.job = slot.future = None
        return outcome

    def _fail(self, slot: _Slot, error: Exception) -> Finished:
        """Kill the slot's child (the next job starts a fresh one) and fail its job alone."""
        assert slot.job is not None
        key = slot.job.key
        self._discard(slot)
        return Finished(key, error=error)

    def _run(self, slot: _Slot) -> None:
        assert slot.pool is not None and slot.job is not None
        slot.future = slot.pool.submit(run_job, slot.job)
        slot.deadline = time.monotonic() + slot.timeout

    def _start(self, slot: _Slot) -> None:
        """A fresh child for the slot, loading the model (in the background)."""
        slot.reports = self._ctx.Queue()
        slot.pool = ProcessPoolExecutor(
            # One job per child: N slots run N jobs, and a dead child takes only its own.
            max_workers=1,
            mp_context=self._ctx,
            initializer=init_worker,
            initargs=(slot.reports, self._memory_mb(), os.getpid()),
        )
        slot.loading = slot.pool.submit(load_engine, self.options, str(self.settings.cache_dir))
        slot.load_deadline = time.monotonic() + MODEL_LOAD_TIMEOUT

    def _discard(self, slot: _Slot) -> None:
        """Kill the slot's child and forget its pool and job; the other slots are untouched."""
        pool, slot.pool = slot.pool, None
        slot.job = slot.future = slot.loading = None
        if pool is not None:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            for proc in procs:
                if proc.is_alive():
                    # A stopped (SIGSTOP) child ignores SIGTERM until continued; SIGKILL does not wait.
                    with contextlib.suppress(ProcessLookupError):  # reaped since is_alive()
                        os.kill(proc.pid, signal.SIGKILL)
            pool.shutdown(wait=True, cancel_futures=True)
        self._close_reports(slot)

    @staticmethod
    def _close_reports(slot: _Slot) -> None:
        reports, slot.reports = slot.reports, None
        if reports is not None:
            reports.close()
            reports.join_thread()

    @staticmethod
    def _drain(slot: _Slot, progress: JobProgress | None) -> None:
        """Forward the child's progress reports for its current job."""
        while slot.reports is not None:
            try:
                key, done, total = slot.reports.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            # A report that arrives after its job's result belongs to no job in flight.
            if progress is not None and slot.job is not None and key == slot.job.key:
                progress(key, done, total)

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


def _child_pid(slot: _Slot) -> int | None:
    """The slot's live child process, if it has one."""
    procs = getattr(slot.pool, "_processes", None) or {}
    return next((p.pid for p in procs.values() if p.is_alive()), None)


@dataclass
class _DaskRun:
    """A job submitted to the scheduler and not yet collected."""

    future: Any
    job: TranscribeJob
    timeout: float
    deadline: float


class DaskExecutor:
    """Jobs submitted to a Dask distributed scheduler, one in flight per worker; workers keep their model."""

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
        self._runs: dict[int, _DaskRun] = {}
        # Keys of finished futures, put there by Dask's callback thread.
        self._done: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._started: list[tuple[int, float, float]] = []
        self._workers = 1

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

    def warm(self) -> None:
        """Load the model on every worker connected now, outside any episode's deadline."""
        # Without it a worker loads the model inside its first job, within that job's deadline.
        self.client.run(load_engine, self.options, str(self.settings.cache_dir))

    def workers(self) -> int:
        """Workers connected to the scheduler now (at least 1: a job waits for one to join)."""
        try:
            self._workers = max(1, len(self.client.nthreads()))  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:  # scheduler unreachable: keep the last count
            log.warning("dask scheduler did not answer how many workers it has: %s", exc)
        return self._workers

    def capacity(self) -> int:
        """One job per worker: each decodes with all the threads PODARCHIVE_THREADS gives it."""
        return self.workers() - len(self._runs)

    def submit(self, job: TranscribeJob, timeout: float) -> None:
        """Submit to the scheduler; a worker lost mid-job gets its task rescheduled by Dask."""
        future = self.client.submit(run_job, job, pure=False, retries=0)
        future.add_done_callback(lambda _f, key=job.key: self._done.put(key))  # type: ignore[no-untyped-call]
        self._runs[job.key] = _DaskRun(future, job, timeout, time.monotonic() + timeout)
        self._started.append((job.key, 0.0, job.duration))

    def collect(self, wait: float, progress: JobProgress | None) -> list[Finished]:
        """Finished jobs, and jobs past their deadline (cancelled: JobFailed)."""
        started, self._started = self._started, []
        if progress is not None:
            for report in started:
                progress(*report)
        end = time.monotonic() + wait
        keys: list[int] = []
        while self._runs:
            with contextlib.suppress(queue.Empty):
                while True:
                    keys.append(self._done.get_nowait())
            finished = [self._outcome(key, progress) for key in keys if self._is_done(key)]
            keys = []
            now = time.monotonic()
            for key, run in list(self._runs.items()):
                if now > run.deadline and not run.future.done():
                    run.future.cancel()
                    del self._runs[key]
                    error = JobFailed(f"dask job hung: no result after {run.timeout:.0f} s; cancelled")
                    finished.append(Finished(key, error=error))
            if finished or now >= end or not self._runs:
                return finished
            next_deadline = min(run.deadline for run in self._runs.values())
            with contextlib.suppress(queue.Empty):
                keys.append(self._done.get(timeout=max(min(end, next_deadline) - now, 0.0) + 0.01))
        return []

    def _is_done(self, key: int) -> bool:
        """Whether the key is a job in flight whose future is done."""
        # Not in flight: cancelled at its deadline already (its callback fires all the same).
        run = self._runs.get(key)
        return run is not None and run.future.done()

    def _outcome(self, key: int, progress: JobProgress | None) -> Finished:
        """A done future's transcript, or its error turned into the episode's."""
        from distributed.client import FutureCancelledError

        run = self._runs.pop(key)
        try:
            result: JobResult = run.future.result()
        except FutureCancelledError as exc:
            return Finished(key, error=JobFailed(f"dask job cancelled: {exc}"))
        except TranscriptionError as exc:
            return Finished(key, error=exc)
        except Exception as exc:  # KilledWorker, CommClosedError, a worker's MemoryError or OSError, ...
            return Finished(key, error=JobFailed(f"dask worker failed: {type(exc).__name__}: {exc}"))
        if progress is not None:
            progress(key, run.job.duration, run.job.duration)
        return Finished(key, result=result)

    def close(self) -> None:
        """Cancel what is still in flight and disconnect (the cluster keeps running)."""
        for run in self._runs.values():
            run.future.cancel()
        self._runs.clear()
        self.client.close()  # type: ignore[no-untyped-call]


def make_executor(settings: Settings) -> LocalProcessExecutor | DaskExecutor:
    """A Dask executor when a scheduler address is set, else local child processes."""
    options = engine_options(settings)
    if settings.dask_scheduler:
        return DaskExecutor(settings, options)
    return LocalProcessExecutor(settings, options)
