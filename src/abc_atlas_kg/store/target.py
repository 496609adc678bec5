"""Opening a store (embedded folder or server) and loading into it: the one place `load` and `info` start from."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyoxigraph as ox

from ..errors import UsageError
from ..rdf.terms import Term, term
from ..resources import ontology_dir, shapes_dir
from . import results
from .embedded import EmbeddedStore, default_store_dir
from .endpoint import Credentials, GraphStoreEndpoint
from .inputs import DocumentLike, Staged, Stager

ONTOLOGY_GRAPH = "https://w3id.org/abc-atlas-kg/graph/ontology"
SHAPES_GRAPH = "https://w3id.org/abc-atlas-kg/graph/shapes"
TRIPLES_COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


class Target(Protocol):
    """A triple store abc-kg can replace named graphs in and ask SPARQL queries of."""

    description: str

    def replace(self, staged: Staged) -> None: ...
    def scratch_dir(self) -> Path: ...
    def graphs(self) -> list[str]: ...
    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> results.Result: ...
    def close(self) -> None: ...


def open_target(
    store: Path | None = None,
    endpoint: str | None = None,
    query_url: str | None = None,
    gsp_param: str = "auto",
    auth: str = "auto",
    credentials: Credentials | None = None,
    read_only: bool = False,
) -> Target:
    """The store the options name: `endpoint` (a server) or `store` (a folder, default $ABC_KG_STORE)."""
    if store is not None and endpoint:
        raise UsageError("choose --store or --endpoint, not both")
    if endpoint:
        return GraphStoreEndpoint(endpoint, query_url, gsp_param, auth, credentials)
    if query_url:
        raise UsageError("--query-url goes with --endpoint")
    return EmbeddedStore(store or default_store_dir(), read_only=read_only)


@dataclass(frozen=True)
class Vocabulary:
    """The ontology and the SHACL shapes, loaded into their own graphs so that queries and validators find them."""

    stem: str
    triples: Sequence[ox.Triple]
    graph: ox.NamedNode


def vocabulary_documents() -> list[Vocabulary]:
    found = []
    for graph, files, stem in (
        (ONTOLOGY_GRAPH, [ontology_dir() / "abc-atlas-kg.ttl"], "ontology"),
        (SHAPES_GRAPH, sorted(shapes_dir().glob("*.ttl")), "shapes"),
    ):
        triples = [q.triple for f in files for q in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)]
        found.append(Vocabulary(stem, triples, ox.NamedNode(graph)))
    return found


@dataclass(frozen=True)
class GraphLoaded:
    graph: str
    triples: int
    origin: str


@dataclass(frozen=True)
class LoadSummary:
    target: str
    graphs: list[GraphLoaded]
    seconds: float

    def text(self) -> str:
        width = max((len(g.graph) for g in self.graphs), default=0)
        lines = [f"loaded {len(self.graphs)} graph(s) into {self.target} in {self.seconds:.2f} s:"]
        lines += [f"  {g.graph.ljust(width)}  {g.triples:>9,} triples  ({g.origin})" for g in self.graphs]
        return "\n".join(lines)


@contextlib.contextmanager
def staged_inputs(
    scratch_dir: Path, documents: Sequence[DocumentLike] = (), files: Sequence[Path] = (), graph: str | None = None
) -> Iterator[list[Staged]]:
    """Every input staged in a scratch store under its own graphs, named, ready to replace target graphs."""
    stager = Stager(scratch_dir, graph)
    try:
        for document in documents:
            stager.add_document(document)
        for path in files:
            stager.add_file(path)
        yield list(stager.staged.values())
    finally:
        stager.stores.clear()
        shutil.rmtree(scratch_dir, ignore_errors=True)


def count_triples(target: Target, graphs: Sequence[str]) -> dict[str, int]:
    """Triples per named graph, as the store counts them (never assumed from what was sent)."""
    result = target.query(TRIPLES_COUNT)
    assert isinstance(result, results.Solutions)
    counts = {
        term(row[0]).value: int(term(row[1]).value) for row in result.rows if row[0] is not None and row[1] is not None
    }
    return {g: counts.get(g, 0) for g in graphs}


def load(
    target: Target,
    documents: Sequence[DocumentLike] = (),
    files: Sequence[Path] = (),
    graph: str | None = None,
    vocabulary: bool = False,
) -> LoadSummary:
    """Replace each input's graph in the target with exactly that input's triples; count what the store holds.

    `documents` are `Document`s built in memory (no file written or re-read); `files` are RDF files (see
    `inputs` for where their triples go; `graph` is --graph). `vocabulary` also (re)loads the ontology and shapes.
    Inputs are all parsed and checked before the store is touched, so a bad file changes nothing.
    """
    start = time.perf_counter()
    chosen: list[DocumentLike] = [*(vocabulary_documents() if vocabulary else []), *documents]
    if not chosen and not files:
        raise UsageError("nothing to load")
    with staged_inputs(target.scratch_dir(), chosen, files, graph) as staged:
        for entry in staged:
            target.replace(entry)
    counts = count_triples(target, [s.graph for s in staged])
    loaded = [GraphLoaded(s.graph, counts[s.graph], s.origin) for s in staged]
    return LoadSummary(target.description, loaded, time.perf_counter() - start)
