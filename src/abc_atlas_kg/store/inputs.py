"""What `load` and `info` read: export documents handed over in memory, and RDF files; and where each graph goes.

Rules (docs/stores.md):
- A `Document` goes to its own `graph`, as the exporter named it.
- Quads (.nq, .trig) keep their graphs. Triples of other files (.nt, .ttl, .jsonld, .rdf, .owl, .xml, each also
  gzipped as .gz) go to `--graph` if given; else to the graph the file describes itself as: an export's file
  describes its own graph, the one node typed `akg:ReleaseGraph` (the release graph `{kg}graph/{accession}/
  {release}`) or `akg:MappingSet` (the mappings graph `…/mappings`); else, for an ontology such as CL or UBERON,
  its `owl:Ontology` IRI; otherwise the file is refused (pass --graph). A file that describes two graphs (two
  exports concatenated) is refused too: its triples cannot be split back by graph.
- Every input file is first bulk-loaded into its own scratch store, so two inputs can never mix even when they look
  alike (two releases of one taxonomy); several inputs that name the same graph are united, so loading the .nq and
  the .ttl of one export gives the graph once.
- RDF/XML with a DTD that declares entities is refused before parsing: pyoxigraph expands entities, and a
  1 KB "billion laughs" file becomes gigabytes.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from ..errors import InputError, Problem, UsageError
from ..rdf.vocab import AKG, OWL, RDF_TYPE

QUAD_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}
TRIPLE_FORMATS = {
    "nt": ox.RdfFormat.N_TRIPLES,
    "ttl": ox.RdfFormat.TURTLE,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdf": ox.RdfFormat.RDF_XML,
    "owl": ox.RdfFormat.RDF_XML,
    "xml": ox.RdfFormat.RDF_XML,
}
RDF_FILE_SUFFIXES = tuple(f".{e}" for e in (*QUAD_FORMATS, *TRIPLE_FORMATS)) + tuple(
    f".{e}.gz" for e in (*QUAD_FORMATS, *TRIPLE_FORMATS)
)
PROLOG_LIMIT = 1 << 20  # bytes of RDF/XML read looking for the root element (DTD check)


class DocumentLike(Protocol):
    """`Document`: the store does not import the writer, it only needs these three attributes."""

    stem: str
    triples: Sequence[ox.Triple]
    graph: ox.NamedNode


def rdf_format(path: Path) -> tuple[ox.RdfFormat, bool]:
    """The file's RDF format from its extension, and whether it is gzipped; unknown types are a usage error."""
    name = path.name.lower()
    gzipped = name.endswith(".gz")
    extension = name.removesuffix(".gz").rsplit(".", 1)[-1]
    fmt = QUAD_FORMATS.get(extension) or TRIPLE_FORMATS.get(extension)
    if fmt is None:
        raise UsageError(f"{path}: unknown RDF file type; use one of {', '.join(RDF_FILE_SUFFIXES)}")
    return fmt, gzipped


def _open(path: Path, gzipped: bool) -> IO[bytes]:
    try:
        return gzip.open(path, "rb") if gzipped else path.open("rb")  # type: ignore[return-value]
    except OSError as err:
        raise UsageError(f"{path}: cannot be read: {err.strerror or err}") from None


def check_xml_prolog(path: Path, gzipped: bool) -> None:
    """Refuse RDF/XML whose DTD declares entities (billion laughs), before the parser can expand them."""
    with _open(path, gzipped) as handle:
        try:
            head = handle.read(PROLOG_LIMIT)
        except (OSError, EOFError) as err:
            raise InputError([Problem(str(path), f"cannot be read: {err}")]) from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:200]:
        raise InputError([Problem(str(path), "RDF/XML must be UTF-8 (UTF-16 files are not read)")])
    text = head.decode("utf-8", errors="replace")
    root = _root_element(text)
    prolog = text if root is None else text[:root]
    if "<!ENTITY" in prolog.upper():
        raise InputError(
            [Problem(str(path), "the RDF/XML declares DTD entities, which are refused (entity expansion is unbounded); "
                     "convert the file to Turtle or N-Triples, e.g. with ROBOT, or remove the DOCTYPE")]
        )  # fmt: skip
    if root is None and len(head) == PROLOG_LIMIT:
        raise InputError([Problem(str(path), f"no root element in the first {PROLOG_LIMIT} bytes of RDF/XML")])


def _root_element(text: str) -> int | None:
    """Offset of the first element start tag, past the XML declaration, comments and the DOCTYPE."""
    i = 0
    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= len(text):
            return None
        if text.startswith("<?", i):
            i = text.find("?>", i)
        elif text.startswith("<!--", i):
            i = text.find("-->", i)
        elif text.startswith("<!", i):
            i = _doctype_end(text, i)
        else:
            return i
        if i < 0:
            return None


def _doctype_end(text: str, start: int) -> int:
    """End of a DOCTYPE with or without an internal subset ([...])."""
    bracket = text.find("[", start)
    close = text.find(">", start)
    if bracket != -1 and (close == -1 or bracket < close):
        end = text.find("]", bracket)
        return -1 if end < 0 else text.find(">", end)
    return close


@dataclass
class Staged:
    """One target graph's content, from one or more inputs: how to stream it and how to test a triple against it."""

    graph: str
    origins: list[str]
    streams: list[Callable[[], Iterable[ox.Triple]]]
    tests: list[Callable[[ox.Triple], bool]]
    files: list[Path] = field(default_factory=list)  # triple files whose whole content this graph is

    def single_file(self) -> Path | None:
        """The one triples file that is this graph's whole content: the store can bulk-load it natively."""
        return self.files[0] if len(self.files) == 1 and len(self.streams) == 1 else None

    def triples(self) -> Iterator[ox.Triple]:
        return itertools.chain.from_iterable(stream() for stream in self.streams)

    def __contains__(self, triple: ox.Triple) -> bool:
        return any(test(triple) for test in self.tests)

    @property
    def origin(self) -> str:
        return ", ".join(self.origins)


class Stager:
    """Parses each input file into its own scratch store (Oxigraph's bulk loader, no Python per triple), then
    decides which target graph each of its graphs goes to. Two inputs never share a scratch store, so they never
    mix, whatever graphs they name."""

    def __init__(self, scratch_dir: Path, graph: str | None = None):
        self.scratch_dir = scratch_dir
        self.graph = graph
        self.staged: dict[str, Staged] = {}
        self.stores: list[ox.Store] = []

    def _add(self, graph: str, origin: str, stream: Callable[[], Iterable[ox.Triple]],
             test: Callable[[ox.Triple], bool]) -> bool:  # fmt: skip
        """Stage one input's triples for `graph`; False when an earlier input already staged the same triples.

        Two inputs of one call naming the same graph must hold the same triples (the .nq and the .ttl of one export):
        uniting two different files would mix them (two builds of one release), and letting one win would make the
        result depend on the order of the arguments. So they are refused; separate calls replace in turn.
        """
        entry = self.staged.get(graph)
        if entry is None:
            self.staged[graph] = Staged(graph, [origin], [stream], [test])
            return True
        difference = _difference(entry, stream, test)
        if difference:
            raise InputError(
                [Problem(origin, f"names the graph {graph} as {entry.origin} does, but {difference}; load them in "
                                 "separate calls (each replaces the graph) or choose one")]
            )  # fmt: skip
        entry.origins.append(origin)
        return False

    def add_document(self, document: DocumentLike) -> None:
        """A document stays in memory where the caller built it: no copy, no re-parse."""
        if not document.triples:
            raise InputError([Problem(document.stem, "no triples to load")])
        members: set[ox.Triple] | None = None

        def test(triple: ox.Triple) -> bool:
            nonlocal members
            if members is None:
                members = set(document.triples)
            return triple in members

        self._add(document.graph.value, document.stem, lambda: iter(document.triples), test)

    def add_file(self, path: Path) -> None:
        scratch = self._bulk_load(path)
        graphs: list[ox.NamedNode | ox.DefaultGraph] = [ox.DefaultGraph()]
        for name in scratch.named_graphs():
            if isinstance(name, ox.BlankNode):
                raise InputError([Problem(str(path), "a graph named by a blank node cannot be loaded")])
            graphs.append(name)
        found = False
        for graph in graphs:
            if next(iter(scratch.quads_for_pattern(None, None, None, graph)), None) is None:
                continue
            found = True
            default = isinstance(graph, ox.DefaultGraph)
            target = (self.graph or self._derive(scratch, path)) if default else graph.value
            added = self._add(target, str(path), _stream(scratch, graph), _test(scratch, graph))
            if added and default and rdf_format(path)[0] not in QUAD_FORMATS.values():
                self.staged[target].files.append(path)
        if not found:
            raise InputError([Problem(str(path), "no triples to load")])

    def _bulk_load(self, path: Path) -> ox.Store:
        if not path.is_file():
            raise UsageError(f"no such file: {path}")
        fmt, gzipped = rdf_format(path)
        if fmt == ox.RdfFormat.RDF_XML:
            check_xml_prolog(path, gzipped)
        try:
            scratch = ox.Store(str(self.scratch_dir / f"input-{len(self.stores)}"))
        except OSError as err:
            raise _scratch_error(err) from None
        self.stores.append(scratch)
        handle = _open(path, gzipped)
        try:
            scratch.bulk_load(handle, fmt, base_iri=path.resolve().as_uri())
        except (SyntaxError, ValueError) as err:
            raise InputError([Problem(str(path), f"cannot be parsed: {err}")]) from None
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as err:
            raise InputError([Problem(str(path), f"cannot be read: {err}")]) from None
        except OSError as err:
            raise _scratch_error(err) from None
        finally:
            handle.close()
        return scratch

    def _derive(self, scratch: ox.Store, path: Path) -> str:
        exported = _self_described(scratch, ox.DefaultGraph())
        if len(exported) > 1:
            raise UsageError(
                f"{path}: triples without a named graph that describe {len(exported)} graphs "
                f"({', '.join(exported)}); load each export's own file, its .nq, or pass --graph IRI"
            )
        found = exported[0] if exported else _ontology_iri(scratch, ox.DefaultGraph())
        if found is None:
            raise UsageError(
                f"{path}: triples without a named graph, and the file names no graph of its own (no akg:ReleaseGraph "
                "or akg:MappingSet node of an export, no owl:Ontology); pass --graph IRI"
            )
        return found


def _difference(entry: Staged, stream: Callable[[], Iterable[ox.Triple]], test: Callable[[ox.Triple], bool]) -> str:
    """How a second input for a staged graph differs from it ("" when it holds the same triples).

    Triples with blank nodes cannot be matched across inputs (their labels are local), so they are compared by count.
    """
    counts = [0, 0]
    for side, (triples, other) in enumerate(((entry.triples(), test), (stream(), entry.__contains__))):
        for triple in triples:
            counts[side] += 1
            if not has_blank(triple) and not other(triple):
                holder, other_name = (entry.origin, "this file") if side == 0 else ("this file", entry.origin)
                return f"{holder} holds {triple}, which {other_name} does not"
    return "" if counts[0] == counts[1] else f"this file holds {counts[1]:,} triples, not {counts[0]:,}"


def has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _stream(scratch: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Callable[[], Iterable[ox.Triple]]:
    return lambda: (q.triple for q in scratch.quads_for_pattern(None, None, None, graph))


def _test(scratch: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Callable[[ox.Triple], bool]:
    return lambda t: ox.Quad(t.subject, t.predicate, t.object, graph) in scratch


def _scratch_error(err: OSError) -> Exception:
    from ..errors import StoreError

    return StoreError(f"staging the input failed: {err}")


def _single(store: ox.Store, query: str, graph: ox.NamedNode | ox.DefaultGraph) -> str | None:
    rows = {r[0].value for r in store.query(query, default_graph=graph) if r[0] is not None}
    return rows.pop() if len(rows) == 1 else None


def _self_described(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> list[str]:
    """The graphs an export's file describes: the release graph (`akg:ReleaseGraph`) or the mappings graph
    (`akg:MappingSet`) is a node of the file itself, named by the graph's own IRI."""
    query = (
        f"SELECT DISTINCT ?g WHERE {{ VALUES ?kind {{ <{AKG}ReleaseGraph> <{AKG}MappingSet> <{AKG}LayerGraph> }} "
        f"?g <{RDF_TYPE}> ?kind FILTER(isIRI(?g)) }} ORDER BY ?g"
    )
    return [row[0].value for row in store.query(query, default_graph=graph)]


def _ontology_iri(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> str | None:
    """CL, UBERON, RO and other OWL ontologies: the graph is named by the ontology IRI."""
    return _single(store, f"SELECT DISTINCT ?o WHERE {{ ?o <{RDF_TYPE}> <{OWL}Ontology> FILTER(isIRI(?o)) }}", graph)
