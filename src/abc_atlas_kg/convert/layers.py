"""What every layer's conversion shares: its output, and how a source file is described in the layer's graph."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pyoxigraph import Literal, NamedNode, Triple

from ..rdf.vocab import AkgTerm, StdTerm
from ..registry.sources import Source
from .release import Iris


@dataclass
class LayerOutput:
    triples: Iterator[Triple]
    side_files: dict[str, str] = field(default_factory=dict)  # file name → text (an SSSOM TSV, say)
    summary: str = ""  # e.g. "6,879 cell sets linked by 13,512 records"


def source_iri(source: Source) -> NamedNode:
    """A source file is named by its pinned public URL: the same bytes always have the same IRI."""
    return NamedNode(source.url if source.member is None else f"{source.url}#{source.member}")


def source_triples(source: Source) -> Iterator[Triple]:
    """Provenance of one source file: title, version, licence, size and MD5 of the bytes that were read."""
    node = source_iri(source)
    yield Triple(node, StdTerm.type, AkgTerm.SourceFile)
    yield Triple(node, StdTerm.title, Literal(source.title))
    yield Triple(node, StdTerm.identifier, Literal(source.path))
    yield Triple(node, StdTerm.versionInfo, Literal(source.version))
    yield Triple(node, StdTerm.license, Literal(source.licence))
    yield Triple(node, AkgTerm.md5, Literal(source.md5))
    yield Triple(node, StdTerm.byteSize, Literal(str(source.size), datatype=StdTerm.integer))
    yield Triple(node, StdTerm.downloadURL, NamedNode(source.url))
    yield Triple(node, AkgTerm.verified, Literal("true", datatype=StdTerm.boolean))  # its MD5 matched the registry


def graph_triples(layer: str, title: str, iris: Iris, sources: Iterable[Source]) -> Iterator[Triple]:
    """The layer graph node (`akg:LayerGraph`): derived from the release and from every source it read."""
    graph = iris.layer_graph(layer)
    yield Triple(graph, StdTerm.type, AkgTerm.LayerGraph)
    yield Triple(graph, StdTerm.label, Literal(title))
    yield Triple(graph, StdTerm.wasDerivedFrom, iris.release_node)
    yield Triple(graph, StdTerm.wasGeneratedBy, iris.export_activity)
    for source in sources:
        yield Triple(graph, StdTerm.wasDerivedFrom, source_iri(source))
        yield from source_triples(source)
