"""The SHACL gate of a build: validation in a daemon thread, fed while the triples are converted.

Oxigraph loads and queries without holding the GIL, so validation overlaps conversion (and, in `export`, the file
writers) on a second core. Each document is validated on its own, as a store holding only it would see it.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import NotConformingError

if TYPE_CHECKING:
    from ..model.taxonomy import Taxonomy

log = logging.getLogger(__name__)


class _Abandoned(Exception):
    """The build stopped before the gate saw all of a document; its verdict is never read."""


_END = None  # after a document's last batch
GATE_BATCH = 20_000  # triples handed to the gate at a time


class Gate:
    """The SHACL gate in a daemon thread, fed while the triples are converted.

    Oxigraph loads and queries without holding the GIL, so validation overlaps conversion (and, in `export`, the
    file writers) on a second core. Each document is validated on its own, as a store holding only it would see
    it. The verdict is a Future: NotConformingError if a document fails.
    """

    def __init__(self, taxonomy: Taxonomy, shapes: Path | None = None):
        self.verdict: Future[None] = Future()
        self._shapes = shapes
        self._documents: queue.SimpleQueue[tuple[str, queue.SimpleQueue[Any]] | None] = queue.SimpleQueue()
        thread = threading.Thread(target=self._run, args=(taxonomy,), name=f"shacl-gate-{taxonomy.id}", daemon=True)
        thread.start()

    def feed(self, stem: str, triples: Iterator[Any]) -> list[Any]:
        batches: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._documents.put((stem, batches))
        collected: list[Any] = []
        try:
            while batch := list(itertools.islice(triples, GATE_BATCH)):
                collected.extend(batch)
                batches.put(batch)
        except BaseException:
            batches.put(_Abandoned())
            raise
        batches.put(_END)
        return collected

    def close(self) -> Future[None]:
        self._documents.put(None)
        return self.verdict

    def abandon(self) -> None:
        """Let the thread end when the build failed before `close`."""
        self._documents.put(None)

    def _run(self, taxonomy: Taxonomy) -> None:
        try:
            while (document := self._documents.get()) is not None:
                stem, batches = document
                _check(taxonomy, stem, _received(batches), self._shapes)
        except BaseException as err:  # handed to whoever confirms the build
            self.verdict.set_exception(err)
        else:
            self.verdict.set_result(None)


def _received(batches: queue.SimpleQueue[Any]) -> Iterator[Any]:
    while (batch := batches.get()) is not _END:
        if isinstance(batch, _Abandoned):
            raise batch
        yield from batch


def _check(taxonomy: Taxonomy, stem: str, triples: Iterable[Any], shapes: Path | None = None) -> None:
    """The SHACL gate, one graph at a time."""
    from . import run as validate

    report = validate.validate(triples, shapes)
    if not report.conforms:
        raise NotConformingError(
            f"{taxonomy.id} release {taxonomy.release} ({stem}) does not conform to the SHACL shapes "
            f"({len(report.violations)} result(s)); nothing was written:\n{report.text()}"
        )
    log.info("SHACL: %s conforms", stem)
