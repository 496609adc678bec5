"""The one table of RDF formats: which names, file extensions and media types abc-kg reads and writes.

Everything that picks a format (the writers, `validate`, the store loader, the CLI's `--format`) looks it up here,
so that a new extension or alias is added once. Each entry is keyed on `pyoxigraph.RdfFormat`, which already knows
the standard extension and media type; the table adds only our short names and the extensions pyoxigraph does
not know (`.owl`, `.jsonld`).

    formats.by_name("ttl").rdf_format        # RdfFormat.TURTLE
    formats.format_of("cl.owl.gz").rdf_format  # RdfFormat.RDF_XML (".gz" is stripped; see `strip_gzip`)
    formats.OUTPUT                           # ["ttl", "jsonld", "nt", "nq"], the order an export writes them
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One RDF format: our short name, pyoxigraph's format, the extension we write, the extensions we read."""

    name: str
    rdf_format: ox.RdfFormat
    extension: str
    read_extensions: tuple[str, ...]

    @property
    def media_type(self) -> str:
        return self.rdf_format.media_type

    @property
    def quads(self) -> bool:
        """Whether the format carries named graphs (N-Quads, TriG), so that a loader keeps the graph it names."""
        return self.rdf_format.supports_datasets


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", ox.RdfFormat.TURTLE, ".ttl", (".ttl", ".turtle")),
        Format("jsonld", ox.RdfFormat.JSON_LD, ".jsonld", (".jsonld", ".json")),
        Format("nt", ox.RdfFormat.N_TRIPLES, ".nt", (".nt", ".ntriples")),
        Format("nq", ox.RdfFormat.N_QUADS, ".nq", (".nq", ".nquads")),
        Format("trig", ox.RdfFormat.TRIG, ".trig", (".trig",)),
        Format("rdfxml", ox.RdfFormat.RDF_XML, ".rdf", (".rdf", ".owl", ".xml")),
        Format("n3", ox.RdfFormat.N3, ".n3", (".n3",)),
    )
}

# What an export writes, in this order.
OUTPUT: list[str] = ["ttl", "jsonld", "nt", "nq"]

_BY_EXTENSION = {ext: f for f in FORMATS.values() for ext in f.read_extensions}


class UnknownFormat(ValueError):
    """A name or file extension that is no RDF format abc-kg knows; the message lists the known ones."""


def by_name(name: str) -> Format:
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise UnknownFormat(f"unknown RDF format {name!r}; choose from {', '.join(FORMATS)}") from None


def strip_gzip(path: str | PurePath) -> tuple[str, bool]:
    """The file name without a trailing `.gz`, and whether it had one (the caller then reads it through gzip)."""
    name = PurePath(path).name
    if name.lower().endswith(".gz"):
        return name[:-3], True
    return name, False


def format_of(path: str | PurePath) -> Format:
    """The `Format` of a file, by its extension (after removing `.gz`)."""
    name, _ = strip_gzip(path)
    suffix = PurePath(name).suffix.lower()
    found = _BY_EXTENSION.get(suffix)
    if found is None:
        known = ", ".join(sorted(_BY_EXTENSION))
        raise UnknownFormat(f"{PurePath(path).name}: unknown RDF file extension {suffix or '(none)'!r}; known: {known}")
    return found


def serialized(items: Iterable[ox.Triple] | Iterable[ox.Quad], rdf_format: ox.RdfFormat) -> bytes:
    """pyoxigraph's serialisation as bytes (`ox.serialize` without an output returns them; its type says maybe)."""
    data = ox.serialize(items, format=rdf_format)
    assert data is not None
    return data
