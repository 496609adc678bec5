"""Write stage: serialise a sorted list of triples in the formats triple stores load.

Writers are registered by format name, like rdflib's serializer plugins. Turtle, N-Triples and N-Quads go
through pyoxigraph's serialisers (about 30x faster than rdflib's); compacted JSON-LD is written directly
against the shipped context (`ontology/context.jsonld`), which pyoxigraph cannot do and rdflib does slowly.
Every file is first written in full to a temporary file next to its destination, then renamed into place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from .resources import ontology_dir
from .vocab import PREFIXES, RDF_TYPE, XSD

WriteFn = Callable[[Sequence[ox.Triple], ox.NamedNode, IO[bytes]], None]


@dataclass(frozen=True)
class Writer:
    name: str
    extension: str
    media_type: str
    write: WriteFn


WRITERS: dict[str, Writer] = {}


def register(name: str, extension: str, media_type: str) -> Callable[[WriteFn], WriteFn]:
    def decorate(fn: WriteFn) -> WriteFn:
        WRITERS[name] = Writer(name, extension, media_type, fn)
        return fn

    return decorate


def canonical(triples: Sequence[ox.Triple]) -> list[ox.Triple]:
    """Deduplicated and grouped by subject, in a fixed order: the same input always gives the same bytes.

    The sort is stable and keyed on the subject alone: within a subject, triples keep the order conversion made
    them in (types first), which is itself fixed by the input. A full (s, p, o) sort cost ten times more.
    """
    return sorted(dict.fromkeys(triples), key=lambda triple: triple.subject.value)


@register("ttl", ".ttl", "text/turtle")
def write_turtle(triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes]) -> None:
    ox.serialize(triples, out, ox.RdfFormat.TURTLE, prefixes=PREFIXES)


@register("nt", ".nt", "application/n-triples")
def write_ntriples(triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes]) -> None:
    ox.serialize(triples, out, ox.RdfFormat.N_TRIPLES)


@register("nq", ".nq", "application/n-quads")
def write_nquads(triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes]) -> None:
    ox.serialize((ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples), out, ox.RdfFormat.N_QUADS)


@cache
def jsonld_context() -> dict[str, Any]:
    return json.loads((ontology_dir() / "context.jsonld").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Compactor:
    """Chooses, per predicate and value, the context term that round-trips exactly, or falls back to a CURIE."""

    terms: dict[tuple[str, str], str]  # (predicate IRI, value kind) -> term; kind is "@id", a datatype or ""
    prefixes: list[tuple[str, str]]  # (namespace, prefix), longest namespace first

    @classmethod
    def from_context(cls, context: dict[str, Any]) -> _Compactor:
        prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
        by_prefix = sorted(((ns, p) for p, ns in prefixes.items()), key=lambda x: -len(x[0]))

        def expand(curie: str) -> str:
            prefix, _, local = curie.partition(":")
            return prefixes[prefix] + local if prefix in prefixes else curie

        terms: dict[tuple[str, str], str] = {}
        for term, definition in context.items():
            if term.startswith("@") or term in prefixes:
                continue
            if isinstance(definition, str):
                terms[(expand(definition), "")] = term
            else:
                kind = definition.get("@type", "")
                terms[(expand(definition["@id"]), kind if kind == "@id" else expand(kind))] = term
        return cls(terms, by_prefix)

    def curie(self, iri: str) -> str:
        for namespace, prefix in self.prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri

    def entry(self, predicate: str, value: ox.NamedNode | ox.BlankNode | ox.Literal) -> tuple[str, Any]:
        if isinstance(value, ox.NamedNode | ox.BlankNode):
            node_id = value.value if isinstance(value, ox.NamedNode) else f"_:{value.value}"
            term = self.terms.get((predicate, "@id"))
            return (term, node_id) if term else (self.curie(predicate), {"@id": node_id})
        datatype = value.datatype.value
        if value.language:
            return self.curie(predicate), {"@value": value.value, "@language": value.language}
        kind = "" if datatype == XSD + "string" else datatype
        term = self.terms.get((predicate, kind))
        if term:
            return term, value.value
        if not kind:
            return self.curie(predicate), value.value
        return self.curie(predicate), {"@value": value.value, "@type": self.curie(datatype)}


@register("jsonld", ".jsonld", "application/ld+json")
def write_jsonld(triples: Sequence[ox.Triple], graph: ox.NamedNode, out: IO[bytes]) -> None:
    """Compacted JSON-LD with the shipped context inlined, so the file parses offline (also with rdflib).

    Streamed one node object per line, so that memory does not grow with the document, and diffs stay readable.
    The nodes are in the default graph, like .ttl and .nt; .nq names the graph.
    """
    context = jsonld_context()["@context"]
    compactor = _Compactor.from_context(context)
    out.write(b'{\n "@context": ' + json.dumps(context, ensure_ascii=False).encode("utf-8") + b',\n "@graph": [')
    separator = b"\n  "
    for subject, group in groupby(triples, key=lambda t: t.subject):
        out.write(separator + json.dumps(_node(subject, group, compactor), ensure_ascii=False).encode("utf-8"))
        separator = b",\n  "
    out.write(b"\n ]\n}\n")


def _node(subject: ox.NamedNode | ox.BlankNode, group: Iterable[ox.Triple], compactor: _Compactor) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": subject.value if isinstance(subject, ox.NamedNode) else f"_:{subject.value}"}
    for triple in group:
        if triple.predicate.value == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
            node.setdefault("@type", []).append(compactor.curie(triple.object.value))
            continue
        key, value = compactor.entry(triple.predicate.value, triple.object)
        if key in node:
            existing = node[key]
            node[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[key] = value
    if len(node.get("@type", ())) == 1:
        node["@type"] = node["@type"][0]
    return node


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def formats() -> list[str]:
    return list(WRITERS)


@dataclass(frozen=True)
class Document:
    """One RDF document of an export: a file stem, its canonical triples and the named graph they belong to."""

    stem: str
    triples: Sequence[ox.Triple]
    graph: ox.NamedNode


def write_all(documents: Sequence[Document], folder: Path, names: Sequence[str]) -> list[Path]:
    """Serialise every document in every requested format, atomically as a set.

    Each file is written in full to a temporary file beside its destination; only when all are complete are
    they renamed into place, so a failed or interrupted run leaves the previous output untouched.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for document in documents:
            for name in names:
                writer = WRITERS[name]
                final = folder / f"{document.stem}{writer.extension}"
                fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=folder)
                staged.append((Path(tmp), final))
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; outputs are ordinary shareable files
                with os.fdopen(fd, "wb") as out:
                    writer.write(document.triples, document.graph, out)
                    out.flush()
                    os.fsync(out.fileno())
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [final for _, final in staged]
