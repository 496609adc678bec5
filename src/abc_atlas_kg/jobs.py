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

from .build import Built, Progress, Run, build, no_progress
from .errors import AbcKgError, ExitCode, OutputError
from .rdf.vocab import DEFAULT_BASE_IRI, DEFAULT_KG_IRI

if TYPE_CHECKING:
    from .model import taxonomy as model
    from .source.bucket.settings import Settings
    from .source.integration import IntegrationSettings


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
    root: Path | None = None,
    out: Path = Path("output"),
    formats: Sequence[str] | None = None,
    base_iri: str = DEFAULT_BASE_IRI,
    release: str | None = None,
    check: bool = True,
    fetch_settings: Settings | None = None,
    *,
    kg_iri: str = DEFAULT_KG_IRI,
    progress: Progress = no_progress,
    run: Run | None = None,
    shapes: Path | None = None,
    integration: IntegrationSettings | None = None,
    layers: Sequence[str] | None = None,
) -> ExportResult:
    """Build, then write files."""
    from .files import write

    built = build(
        taxonomy_id,
        root=root,
        release=release,
        base_iri=base_iri,
        kg_iri=kg_iri,
        check=check,
        fetch_settings=fetch_settings,
        progress=progress,
        run=run,
        check_in_background=True,
        shapes=shapes,
        integration=integration,
        layers=layers,
    )
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


class ExportFailures(AbcKgError):
    """Some taxonomies of an `export --all` failed; the others were written. Exit code: the worst of them."""

    def __init__(self, failures: list[Outcome]):
        self.failures = failures
        worst = max(int(f.error.exit_code) for f in failures if f.error is not None)
        self.exit_code = ExitCode(worst)
        names = ", ".join(f.taxonomy_id for f in failures)
        super().__init__(f"{len(failures)} taxonomy export(s) failed: {names}")

    def __reduce__(self) -> tuple[type, tuple[list[Outcome]]]:
        return (ExportFailures, (self.failures,))


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


def _export_one(taxonomy_id: str, run: Run | None, progress: Progress, options: dict[str, Any]) -> Outcome:
    """Export one taxonomy; an abc-kg error becomes an Outcome so that the others still run."""
    try:
        result = export(taxonomy_id, run=run, progress=progress, **options)
    except AbcKgError as err:
        progress(taxonomy_id, "done")
        return Outcome(taxonomy_id, error=err)
    return Outcome(taxonomy_id, result.summary(), tuple(result.files))


def _export_in_worker(taxonomy_id: str, options: dict[str, Any]) -> Outcome:
    """Runs in a worker process; only the summary and the paths travel back, not the whole model."""
    return _export_one(taxonomy_id, _worker_run, _queue_progress, options)


def export_many(
    taxonomy_ids: list[str], jobs: int | None = None, progress: Progress = no_progress, **options: Any
) -> Iterator[Outcome]:
    """Export several taxonomies, in parallel processes when asked or when there are cores to spare.

    Yields one Outcome per taxonomy as each finishes (in the order asked when sequential). Each export stays atomic
    on its own; a failed one does not stop the others. On Ctrl-C the workers are stopped at once.
    """
    jobs = max(1, min(len(taxonomy_ids), jobs or os.cpu_count() or 1))
    if jobs == 1:
        run = Run()
        for taxonomy_id in taxonomy_ids:
            yield _export_one(taxonomy_id, run, progress, options)
        return
    yield from _export_parallel(taxonomy_ids, jobs, progress, options)


def _export_parallel(
    taxonomy_ids: list[str], jobs: int, progress: Progress, options: dict[str, Any]
) -> Iterator[Outcome]:
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
        pending: set[Future[Outcome]] = {pool.submit(_export_in_worker, t, options) for t in taxonomy_ids}
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


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate every worker now: an interrupted export must not go on writing files."""
    processes = list(getattr(pool, "_processes", {}).values())  # Python 3.14 has pool.terminate_workers()
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + 2
    for process in processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
