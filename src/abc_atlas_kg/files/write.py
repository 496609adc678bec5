"""Write stage: serialise a sorted list of triples in the formats triple stores load, as one set of files.

Writers are registered by format name (`formats.OUTPUT`). pyoxigraph does the per-triple work of every format but
JSON-LD: Turtle is pyoxigraph's, reshaped on the way out (our prefix header, a blank line between subjects);
N-Quads is pyoxigraph's N-Triples with the graph name appended to each line, a bytes operation rather than a Python
object per quad. JSON-LD is compacted here against the context generated from the ontology
(`ontology/context.jsonld`), one node at a time, which pyoxigraph cannot do and rdflib does slowly.
`write_all` stages every file of an export and commits them together under the folder's lock (see `files`).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, partial
from itertools import groupby
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from .. import fileio as files
from ..errors import OutputError
from ..rdf import formats as rdf_formats
from ..rdf.context import render
from ..rdf.document import Document
from ..rdf.prefixes import VOCABULARIES, Prefixes
from ..rdf.terms import Node
from ..rdf.vocab import RDF_TYPE, XSD
from ..resources import ontology_dir

# (triples, graph, out, prefixes=None): prefixes is a `Prefixes` that Turtle may use; other writers ignore it.
WriteFn = Callable[..., None]


@dataclass(frozen=True)
class Writer:
    name: str
    extension: str
    media_type: str
    write: WriteFn


WRITERS: dict[str, Writer] = {}


def register(name: str) -> Callable[[WriteFn], WriteFn]:
    def decorate(fn: WriteFn) -> WriteFn:
        fmt = rdf_formats.by_name(name)
        WRITERS[name] = Writer(name, fmt.extension, fmt.media_type, fn)
        return fn

    return decorate


class _LineStream:
    """A binary sink for pyoxigraph that hands whole lines to `emit`, so that bytes edits never split a line."""

    def __init__(self, emit: Callable[[bytes], object]):
        self._emit = emit
        self._carry = b""

    def write(self, data: bytes) -> int:
        buffer = self._carry + data if self._carry else data
        cut = buffer.rfind(b"\n") + 1
        self._carry = buffer[cut:]
        if cut:
            self._emit(buffer[:cut])  # whole lines, each with its newline
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self._carry:
            self._emit(self._carry)
            self._carry = b""


class _Token(bytes):
    """A prefix name with its colon, as bytes (for a substring test), and as a regex that checks it stands alone."""

    pattern: re.Pattern[bytes]

    def __new__(cls, name: str) -> _Token:
        token = super().__new__(cls, name.encode() + b":")
        token.pattern = re.compile(rb"(?<![A-Za-z0-9_.-])" + re.escape(bytes(token)))
        return token

    def search(self, piece: bytes) -> bool:
        return self.pattern.search(piece) is not None


class _TurtleShaper:
    """Turns pyoxigraph's Turtle into ours: its prefix lines dropped, a blank line before every subject after the
    first, and a note of which prefixes the body uses, so that the header declares those and only those."""

    _SUBJECT_START = re.compile(rb"\n(?=[^\t\n])")  # a newline before a line that starts a subject

    def __init__(self, out: IO[bytes], prefixes: Prefixes):
        self.out = out
        self.skip = len(prefixes)  # pyoxigraph writes one @prefix line per prefix given, before the body
        self.unused = {name: _Token(name) for name in prefixes}
        self.stream = _LineStream(self._piece)
        self.started = False

    def _piece(self, piece: bytes) -> None:
        while self.skip:
            line, _, piece = piece.partition(b"\n")
            if not line.startswith(b"@prefix "):
                raise RuntimeError(f"unexpected Turtle from pyoxigraph where a prefix line was due: {line[:80]!r}")
            self.skip -= 1
            if not piece:
                return
        piece = self._SUBJECT_START.sub(b"\n\n", piece)
        if self.started and piece[:1] not in (b"\t", b"\n", b""):
            piece = b"\n" + piece  # the piece starts with a subject
        self.started = True
        for name, token in list(self.unused.items()):
            # A fast substring test first; the exact one (the name not the tail of a longer one, like CL: in PCL:)
            # only when it hits.
            if piece.find(token) != -1 and token.search(piece):
                del self.unused[name]
        self.out.write(piece)


@register("ttl")
def write_turtle(
    triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes], prefixes: Prefixes | None = None
) -> None:
    """Turtle with a prefix for every namespace used (data namespaces too) and a blank line between subjects."""
    prefixes = (prefixes or VOCABULARIES).sorted()
    with tempfile.SpooledTemporaryFile(max_size=64 << 20) as body:
        shaper = _TurtleShaper(body, prefixes)
        ox.serialize(triples, cast(IO[bytes], shaper.stream), ox.RdfFormat.TURTLE, prefixes=dict(prefixes))
        shaper.stream.close()
        used = [name for name in prefixes if name not in shaper.unused]
        out.write("".join(f"@prefix {name}: <{prefixes[name]}> .\n" for name in used).encode("utf-8"))
        if used and body.tell():
            out.write(b"\n")
        body.seek(0)
        shutil.copyfileobj(body, out, 1 << 20)


@register("jsonld")
def write_jsonld(
    triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes], prefixes: Prefixes | None = None
) -> None:
    """Compacted JSON-LD with the context inlined, so the file parses offline (pyld, jsonld.js, rdflib).

    Streamed one node object at a time, so that memory does not grow with the document; indented one property per
    line. The nodes are in the default graph, like .ttl and .nt; .nq names the graph.
    """
    context = jsonld_context()["@context"]
    compactor = _compactor()
    out.write(b'{\n  "@context": ' + render(context, "  ").encode("utf-8") + b',\n  "@graph": [')
    separator = b"\n"
    links: dict[tuple[str, Any], Any] = {}  # this document's IRI-valued entries, computed once each
    for subject, group in groupby(triples, key=lambda t: t.subject):
        out.write(separator + _node_text(_node(subject, group, compactor, links)))
        separator = b",\n"
    out.write(b"\n  ]\n}\n")


@register("nt")
def write_ntriples(
    triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes], prefixes: Prefixes | None = None
) -> None:
    ox.serialize(triples, out, ox.RdfFormat.N_TRIPLES)


@register("nq")
def write_nquads(
    triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes], prefixes: Prefixes | None = None
) -> None:
    """N-Triples with ` <graph>` before each line's final ` .`: the same bytes pyoxigraph's N-Quads writer gives.

    Safe as a bytes edit because N-Triples escapes every line break inside a literal, so ` .\\n` only ends lines.
    """
    suffix = f" {graph} .\n".encode()
    stream = _LineStream(lambda piece: out.write(piece.replace(b" .\n", suffix)))
    ox.serialize(triples, cast(IO[bytes], stream), ox.RdfFormat.N_TRIPLES)
    stream.close()


@cache
def jsonld_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))
    return context


_MAX_SAFE_INTEGER = 2**53  # JSON numbers above this lose digits in JavaScript (jsonld.js)
_XSD_INTEGER = XSD + "integer"
_XSD_DOUBLE = XSD + "double"
_XSD_STRING = XSD + "string"


def _json_number(lexical: str, datatype: str) -> int | float | None:
    """The JSON number for an integer or double literal when it is lossless, else None (the literal stays a string).

    An integer must be canonical (no sign, no leading zero) and within 2**53; a double must be finite: `INF`,
    `-INF` and `NaN` stay strings typed xsd:double, the only form that JSON-LD processors do not turn into NaN or
    reject.
    """
    if datatype == _XSD_INTEGER:
        if lexical.lstrip("-").isdigit() and str(int(lexical)) == lexical and abs(int(lexical)) <= _MAX_SAFE_INTEGER:
            return int(lexical)
        return None
    if datatype == _XSD_DOUBLE:
        try:
            value = float(lexical)
        except ValueError:
            return None
        return value if math.isfinite(value) else None
    return None


@dataclass(frozen=True)
class _Compactor:
    """Chooses, per predicate and value, the context term that round-trips exactly, or falls back to a CURIE."""

    terms: dict[tuple[str, str], str]  # (predicate IRI, value kind) -> term; kind is "@id", a datatype IRI or ""
    prefixes: Prefixes

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> _Compactor:
        prefixes = Prefixes({k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))})

        def expand(curie: str) -> str:
            return prefixes.expand(curie) or curie

        terms: dict[tuple[str, str], str] = {}
        for term, definition in context.items():
            if term.startswith("@") or term in prefixes:
                continue
            if isinstance(definition, str):
                terms[(expand(definition), "")] = term
            else:
                kind = definition.get("@type", "")
                terms[(expand(definition["@id"]), kind if kind == "@id" else expand(kind))] = term
        return cls(terms, prefixes)

    def curie(self, iri: str) -> str:
        return self.prefixes.compress(iri)

    def entry(self, predicate: str, value: Node) -> tuple[str, Any]:
        if isinstance(value, ox.NamedNode | ox.BlankNode):
            node_id = value.value if isinstance(value, ox.NamedNode) else f"_:{value.value}"
            term = self.terms.get((predicate, "@id"))
            return (term, node_id) if term else (self.curie(predicate), {"@id": node_id})
        if isinstance(value, ox.Triple):
            raise TypeError(f"a quoted triple (RDF-star) has no JSON-LD form here: {value}")
        if value.language:
            return self.curie(predicate), {"@value": value.value, "@language": value.language}
        datatype = value.datatype.value
        kind = "" if datatype == _XSD_STRING else datatype
        term = self.terms.get((predicate, kind))
        number = _json_number(value.value, datatype)
        if term:
            if number is not None:
                return term, number
            if datatype == _XSD_DOUBLE:  # INF, NaN: explicit, so that it reads as what it is
                return term, {"@value": value.value, "@type": self.curie(datatype)}
            return term, value.value
        if not kind:
            return self.curie(predicate), value.value
        if number is not None and datatype == _XSD_INTEGER:
            return self.curie(predicate), number  # a JSON integer is xsd:integer without a type
        shown = value.value if number is None else number
        return self.curie(predicate), {"@value": shown, "@type": self.curie(datatype)}


@cache
def _compactor() -> _Compactor:
    return _Compactor.from_context(jsonld_context()["@context"])


def _node(
    subject: ox.NamedNode | ox.BlankNode,
    group: Iterable[ox.Triple],
    compactor: _Compactor,
    links: dict[tuple[str, Any], Any],
) -> dict[str, Any]:
    """One node object. `links` memoises the entries of IRI and blank-node values (types, levels, parents, the
    taxonomy: a few thousand distinct ones behind most triples); literals are mostly distinct and not memoised.
    The memoised values are shared between nodes, which is safe because nothing changes them after this."""
    node: dict[str, Any] = {"@id": subject.value if type(subject) is ox.NamedNode else f"_:{subject.value}"}
    for triple in group:
        predicate, obj = triple.predicate.value, triple.object
        if type(obj) is ox.Literal:
            key, value = compactor.entry(predicate, obj)
        elif predicate == RDF_TYPE and type(obj) is ox.NamedNode:
            curie = links.get((predicate, obj))
            if curie is None:
                curie = links[(predicate, obj)] = compactor.curie(obj.value)
            node.setdefault("@type", []).append(curie)
            continue
        else:
            entry = links.get((predicate, obj))
            if entry is None:
                entry = links[(predicate, obj)] = compactor.entry(predicate, obj)
            key, value = entry
        if key in node:
            existing = node[key]
            node[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[key] = value
    if len(node.get("@type", ())) == 1:
        node["@type"] = node["@type"][0]
    return node


_encode_string = json.encoder.encode_basestring  # the C encoder; `json.dumps(indent=...)` falls back to Python
_encode_value = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _node_text(node: dict[str, Any]) -> bytes:
    """One node object, a property per line, each value in compact JSON."""
    lines = ",\n      ".join(f"{_encode_string(k)}: {_json(v)}" for k, v in node.items())
    return b"    {\n      " + lines.encode("utf-8") + b"\n    }"


def _json(value: Any) -> str:
    """Compact JSON for a value; strings and integers (most values) directly, the rest through the encoder."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return str(value)  # what json gives an int (bool is another type and takes the encoder's path)
    return _encode_value(value)


def formats() -> list[str]:
    """Output format names in the order an export writes them."""
    return [name for name in rdf_formats.OUTPUT if name in WRITERS]


def _write(writer: Writer, document: Document, out: IO[bytes]) -> None:
    writer.write(document.triples, document.graph, out, document.turtle_prefixes())


def write_all(
    documents: Sequence[Document],
    folder: Path,
    names: Sequence[str],
    extra: Mapping[str, bytes] | None = None,
    lock_timeout: float | None = None,
    before_commit: Callable[[], None] | None = None,
) -> list[Path]:
    """Serialise every document in every requested format, plus the `extra` side files (name → bytes, e.g. the
    SSSOM table), and replace the folder's previous export with exactly this set, all at once.

    Under the folder's lock, each file is written in full to a temporary file; only when all are complete are they
    renamed into place and the previous export's other files removed. A failed, interrupted or killed run leaves
    the previous set (see `files`); an unwritable folder or a full disk is an `OutputError`. `before_commit` is
    the last word before the rename: whatever it raises cancels the whole set (export waits there for the SHACL
    gate, which runs while the files are written).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with files.folder_lock(folder, lock_timeout):
            files.recover(folder)
            fileset = files.FileSet(folder)
            try:
                for document in documents:
                    for name in names:
                        writer = WRITERS[name]
                        fileset.stage(f"{document.stem}{writer.extension}", partial(_write, writer, document))
                for file_name, content in (extra or {}).items():
                    fileset.stage(file_name, content)
                if before_commit is not None:
                    before_commit()
                return fileset.commit()
            finally:
                fileset.discard()
    except OutputError:
        raise
    except OSError as err:
        raise files.output_error(folder, err) from err
