"""The embedded store: an on-disk pyoxigraph (RocksDB) store, no server.

Replacing a graph never loses the previous one:
- a graph the store does not hold yet is bulk-loaded (fast) after its name is written to a journal file; if the
  load dies (kill -9, full disk) the next writable open removes the partial graph it names;
- a graph the store holds is replaced in ONE SPARQL update (one RocksDB transaction): only the triples that
  differ are deleted and inserted (a re-load of the same release changes nothing, an edit changes little); a
  graph with blank nodes is dropped and inserted whole, still in that one transaction. A failure before the
  commit leaves the previous graph whole; the commit is atomic.

`serve_lock` and the writable open share one lock file (`abc-kg.lock` in the store folder, an flock released by
the kernel when its process dies): `load` refuses a store that `abc-kg serve` is serving, and the reverse.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from ..defaults import STORE_ENV
from ..errors import StoreError, UsageError
from ..fileio import atomic_write
from ..rdf.formats import serialized
from ..rdf.terms import Term
from . import results
from .binding import Sparql, bind
from .inputs import Staged, has_blank, rdf_format

log = logging.getLogger(__name__)

LOCK_FILE = "abc-kg.lock"
JOURNAL_FILE = "abc-kg-journal.json"


def default_store_dir() -> Path:
    """Where the embedded store lives unless `--store` says otherwise: $ABC_KG_STORE, else the user data dir."""
    configured = os.environ.get(STORE_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return platformdirs.user_data_path("abc-atlas-kg", appauthor=False) / "store"


def _is_store(path: Path) -> bool:
    return (path / "CURRENT").is_file()


@contextlib.contextmanager
def _locked(path: Path, role: str) -> Iterator[None]:
    """Hold the store's lock file for `role` ("load" or "serve"); refuse clearly when another process holds it."""
    path.mkdir(parents=True, exist_ok=True)
    lock_path = path / LOCK_FILE
    try:
        handle = lock_path.open("a+")
    except OSError as err:
        raise StoreError(f"cannot open the store at {path}: {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise StoreError(
                f"the store at {path} is in use ({holder}); stop `abc-kg serve` or wait for the other load"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"abc-kg {role}, pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


@contextlib.contextmanager
def serve_lock(path: Path) -> Iterator[None]:
    """Hold this while `abc-kg serve` serves the store, so that `load` refuses to write under the server."""
    if not _is_store(path):
        raise StoreError(f"no store at {path}; load something first with `abc-kg load`")
    with _locked(path, "served by abc-kg serve"):
        yield


def serve_command(binary: str, path: Path, port: int) -> list[str]:
    """The Oxigraph server command line for `abc-kg serve` (read-only; queries choose their dataset).

    No `--union-default-graph`: Oxigraph then ignores FROM. abc-kg's own queries ask for the union per request
    (the `union-default-graph` parameter) when they name no dataset; see `endpoint.GraphStoreEndpoint.query`.
    """
    return [binary, "serve-read-only", "--location", str(path), "--bind", f"127.0.0.1:{port}"]


class EmbeddedStore:
    """An on-disk pyoxigraph store: one writer at a time (locked), readers opened read-only."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self.description = f"embedded Oxigraph store {path}"
        self._lock: contextlib.ExitStack | None = None
        if read_only and not _is_store(path):
            raise StoreError(f"no store at {path}; load something first with `abc-kg load`")
        if path.exists() and not path.is_dir():
            raise StoreError(f"the store path {path} is a file, not a store folder")
        if not read_only:
            self._lock = contextlib.ExitStack()
            self._lock.enter_context(_locked(path, "load"))
        try:
            self.store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
        except (OSError, ValueError) as err:
            self._release()
            raise StoreError(f"cannot open the store at {path}: {err} (is it an abc-kg store, and intact?)") from None
        if not read_only:
            self._recover()
        else:
            for graph in self._journal():
                log.warning("graph %s in %s is incomplete (interrupted load); the next load removes it", graph, path)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- journal of graphs being created ---------------------------------------------------------------------

    def _journal(self) -> list[str]:
        try:
            return list(json.loads((self.path / JOURNAL_FILE).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []

    def _write_journal(self, graphs: list[str]) -> None:
        target = self.path / JOURNAL_FILE
        if not graphs:
            target.unlink(missing_ok=True)
            return
        atomic_write(target, json.dumps(graphs).encode("utf-8"))

    def _recover(self) -> None:
        """Remove what an interrupted load left: the graph it was creating, its scratch folders."""
        for graph in self._journal():
            log.warning("removing the incomplete graph %s left by an interrupted load", graph)
            self.store.remove_graph(ox.NamedNode(graph))
        self._write_journal([])
        for scratch in self.path.parent.glob(f".{self.path.name}.scratch-*"):
            shutil.rmtree(scratch, ignore_errors=True)

    # --- writing ---------------------------------------------------------------------------------------------

    def scratch_dir(self) -> Path:
        """A scratch folder beside the store (same disk), for staging inputs; removed after the load."""
        return Path(tempfile.mkdtemp(prefix=f".{self.path.name}.scratch-", dir=self.path.parent))

    def clear(self) -> None:
        """Empty the whole store: fast in Oxigraph, unlike dropping one big graph."""
        self.store.clear()

    def replace(self, staged: Staged) -> None:
        """Make the graph hold exactly the staged triples, without ever losing the previous graph."""
        graph = ox.NamedNode(staged.graph)
        try:
            if self.store.contains_named_graph(graph):
                self._swap(graph, staged)
            else:
                self._create(graph, staged)
        except OSError as err:
            raise StoreError(f"loading {staged.origin} into {self.path} failed: {err}") from None

    def _create(self, graph: ox.NamedNode, staged: Staged) -> None:
        self._write_journal([graph.value])
        try:
            source = staged.single_file()
            if source is not None:  # checked and parsed once already: now at the bulk loader's native speed
                fmt, gzipped = rdf_format(source)
                with gzip.open(source, "rb") if gzipped else source.open("rb") as handle:
                    self.store.bulk_load(
                        cast(IO[bytes], handle), fmt, base_iri=source.resolve().as_uri(), to_graph=graph
                    )
            else:
                self.store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in staged.triples())
            self.store.flush()
        except BaseException:
            with contextlib.suppress(OSError):
                self.store.remove_graph(graph)
                self._write_journal([])
            raise
        self._write_journal([])

    def _swap(self, graph: ox.NamedNode, staged: Staged) -> None:
        old = [q.triple for q in self.store.quads_for_pattern(None, None, None, graph)]
        whole, gone, new = _difference(old, staged)
        if not (gone or new):
            return
        g = str(graph)
        if whole:
            gone = []
        operations = [f"DROP SILENT GRAPH {g}"] if whole else []
        if gone:
            operations.append(f"DELETE DATA {{ GRAPH {g} {{ {_ntriples(gone)} }} }}")
        if new:
            operations.append(f"INSERT DATA {{ GRAPH {g} {{ {_ntriples(new)} }} }}")
        log.info("replacing %s in one transaction: %d triples out, %d in", graph.value, len(gone) or len(old), len(new))
        self.store.update(" ;\n".join(operations))  # one update, one transaction: all or nothing
        self.store.flush()

    # --- reading ---------------------------------------------------------------------------------------------

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> results.Result:
        """Run a query; the default graph is the union of all graphs unless the query names its dataset (FROM)."""
        text = bind(sparql, bindings or {})
        union = not Sparql(text).names_a_dataset
        try:
            answer = self.store.query(text, use_default_graph_as_union=union)
            return results.materialise(answer, str(self.path))
        except SyntaxError as err:
            raise UsageError(f"the query does not parse: {err}") from None
        except OSError as err:
            raise StoreError(f"the query failed on {self.path}: {err}") from None

    def close(self) -> None:
        """Flush a writable store and let RocksDB release its lock, so that `serve` or another load can open it."""
        if hasattr(self, "store"):
            if not self.read_only:
                with contextlib.suppress(OSError):
                    self.store.flush()
            del self.store
        self._release()


def _difference(old: list[ox.Triple], staged: Staged) -> tuple[bool, list[ox.Triple], list[ox.Triple]]:
    """Whether to replace the graph whole, the triples to delete and the triples to insert.

    Blank nodes never match across loads, and deleting most of a graph triple by triple costs more than dropping
    it: then the graph is dropped and inserted whole (still in the one transaction of the caller).
    """
    gone = [t for t in old if t not in staged]
    whole = len(gone) > len(old) // 2 or any(has_blank(t) for t in gone)
    held = set(old)
    new = list(staged.triples()) if whole else [t for t in staged.triples() if t not in held]
    return whole, gone, new


def _ntriples(triples: Sequence[ox.Triple]) -> str:
    return serialized(triples, ox.RdfFormat.N_TRIPLES).decode("utf-8")
