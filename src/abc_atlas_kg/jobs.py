"""Many taxonomies at once, and the file sink over one build: `export`, `export_many` and their outcomes.

`build` (one release, validated, nothing written) stays below; this module joins it to the sinks and runs several
exports in worker processes, so that a failing taxonomy does not stop the others and Ctrl-C stops them all.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .build import BuildOptions, Built, Progress, Run, build, no_progress
from .errors import AbcKgError, OutputError

if TYPE_CHECKING:
    from .model import taxonomy as model
    from .store import LoadSummary, Target


@dataclass(frozen=True)
class ExportResult:
    built: Built
    files: list[Path]

    @property
    def taxonomy(self) -> model.Taxonomy:
        return self.built.taxonomy

    @property
    def triples(self) -> int:
        return self.built.triples

    def summary(self) -> str:
        return self.built.summary()


# --- sink: files --------------------------------------------------------------------------------------------


def write_files(built: Built, out: Path, formats: Sequence[str]) -> list[Path]:
    """Write a build under `out/<taxonomy>/<release>/`, atomically as one owned set (see write.write_all)."""
    from .files import write

    folder = out / built.taxonomy.id / built.taxonomy.release
    extra = {name: text.encode("utf-8") for name, text in built.side_files.items()}
    try:
        return write.write_all(built.documents, folder, list(formats), extra=extra, before_commit=built.confirm)
    except OSError as err:
        raise OutputError(f"cannot write {folder}: {err.strerror or err}") from err


def export(
    taxonomy_id: str,
    options: BuildOptions | None = None,
    out: Path = Path("output"),
    formats: Sequence[str] | None = None,
    *,
    progress: Progress = no_progress,
    run: Run | None = None,
) -> ExportResult:
    """Build, then write files under `out/<taxonomy>/<release>/` (all formats by default)."""
    from .files import write

    built = build(taxonomy_id, options, progress=progress, run=run, check_in_background=True)
    progress(built.taxonomy.id, "write")
    files = write_files(built, out, formats or write.formats())
    progress(built.taxonomy.id, "done")
    return ExportResult(built, files)


# --- many taxonomies ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One taxonomy of `export_many`: its summary and files, or the error that stopped it."""

    taxonomy_id: str
    summary: str = ""
    files: tuple[Path, ...] = ()
    error: AbcKgError | None = None


_worker_run: Run | None = None
_worker_queue: Any = None


def _init_worker(queue: Any, log_level: int) -> None:
    """Workers leave Ctrl-C to the parent, which stops them; they report progress through `queue` and log (to
    stderr) at the parent's level, so that --quiet and -v mean the same in every process."""
    global _worker_run, _worker_queue
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format="abc-kg: %(message)s", force=True)
    _worker_run, _worker_queue = Run(), queue


def _queue_progress(taxonomy_id: str, stage: str) -> None:
    if _worker_queue is not None:
        _worker_queue.put((taxonomy_id, stage))


@dataclass(frozen=True)
class _Export:
    """What every taxonomy of one `export_many` shares; it travels to the worker processes."""

    options: BuildOptions | None
    out: Path
    formats: Sequence[str] | None


def _export_one(taxonomy_id: str, run: Run | None, progress: Progress, job: _Export) -> Outcome:
    """Export one taxonomy; an abc-kg error becomes an Outcome so that the others still run."""
    try:
        result = export(taxonomy_id, job.options, job.out, job.formats, run=run, progress=progress)
    except AbcKgError as err:
        progress(taxonomy_id, "done")
        return Outcome(taxonomy_id, error=err)
    return Outcome(taxonomy_id, result.summary(), tuple(result.files))


def _export_in_worker(taxonomy_id: str, job: _Export) -> Outcome:
    """Runs in a worker process; only the summary and the paths travel back, not the whole model."""
    return _export_one(taxonomy_id, _worker_run, _queue_progress, job)


def export_many(
    taxonomy_ids: list[str],
    options: BuildOptions | None = None,
    out: Path = Path("output"),
    formats: Sequence[str] | None = None,
    jobs: int | None = None,
    progress: Progress = no_progress,
) -> Iterator[Outcome]:
    """Export several taxonomies, in parallel processes when asked or when there are cores to spare.

    Yields one Outcome per taxonomy as each finishes (in the order asked when sequential). Each export stays atomic
    on its own; a failed one does not stop the others. On Ctrl-C the workers are stopped at once.
    """
    job = _Export(options, out, formats)
    jobs = max(1, min(len(taxonomy_ids), jobs or os.cpu_count() or 1))
    if jobs == 1:
        run = Run()
        for taxonomy_id in taxonomy_ids:
            yield _export_one(taxonomy_id, run, progress, job)
        return
    yield from _export_parallel(taxonomy_ids, jobs, progress, job)


def _export_parallel(taxonomy_ids: list[str], jobs: int, progress: Progress, job: _Export) -> Iterator[Outcome]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no forked copies of locks or of a progress thread
    queue = context.Queue()
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(queue, logging.getLogger().getEffectiveLevel()),
    )
    try:
        pending: set[Future[Outcome]] = {pool.submit(_export_in_worker, t, job) for t in taxonomy_ids}
        while pending:
            done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            _drain(queue, progress)
            for future in done:
                yield future.result()
        _drain(queue, progress)
    except BaseException:
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        queue.close()


def _drain(queue: Any, progress: Progress) -> None:
    import queue as queues

    while True:
        try:
            taxonomy_id, stage = queue.get_nowait()
        except queues.Empty:
            return
        progress(taxonomy_id, stage)


# --- sink: stores -----------------------------------------------------------------------------------------------


def build_many(
    taxonomy_ids: Sequence[str], options: BuildOptions | None = None, progress: Progress = no_progress
) -> Iterator[Built]:
    """Build several taxonomies in turn, in this process, sharing one `Run` (a linked taxonomy is modelled once)."""
    run = Run()
    for taxonomy_id in taxonomy_ids:
        built = build(taxonomy_id, options, progress=progress, run=run)
        progress(taxonomy_id, "done")
        yield built


def load_many(
    target: Target,
    taxonomy_ids: Sequence[str],
    options: BuildOptions | None = None,
    files: Sequence[Path] = (),
    graph: str | None = None,
    vocabulary: bool = True,
    progress: Progress = no_progress,
) -> LoadSummary:
    """Build the taxonomies, then load their documents and the RDF `files` into `target`, one named graph each."""
    from . import store

    documents = [document for built in build_many(taxonomy_ids, options, progress) for document in built.documents]
    return store.load(target, documents=documents, files=files, graph=graph, vocabulary=vocabulary)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate every worker now: an interrupted export must not go on writing files."""
    processes = list(getattr(pool, "_processes", {}).values())  # Python 3.14 has pool.terminate_workers()
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + 2
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
