"""The cell-type layer as RDF: its own named graph per release, `{graph}/celltypes`, and an SSSOM TSV beside it.

What the graph holds, for a store that never reasons and for one that does:

- one SSSOM record per (cell set, class, source), in the one form `convert/mappings.py` gives every mapping
  record: predicate, justification, the source file (`dcterms:source`; its id, version, MD5 and licence are stated
  once on the file's node), the curator's rationale (`rdfs:comment`), papers (`rdfs:seeAlso` DOI IRIs) and marker
  genes (`akg:markerGeneEvidence`);
- one plain `akg:cellTypeReference` per linked cell set and class, so "the CL classes of X" is one triple
  pattern; an annotation property, so no reasoner makes a CL class a skos:Concept or an individual of the taxonomy;
- the bridge: `owl:sameAs` from the cell set's IRI here to the same cell set in a CL component
  (`…/ontology/CCN…/<label>`) or WHBO (`obo/pcl/CS202210140_<n>`). It is an identity of individuals, which is what
  the two IRIs are: a store that loads CL next to the export joins on it in one hop, and an OWL reasoner merges
  the two, so CL's `RO:0015002 some CL:x` typing reaches this project's IRI (skos:exactMatch would not);
- with the `owl-view` option, CL's own pattern on this project's IRI for each exact link:
  `rdf:type [owl:Restriction ; owl:onProperty RO:0015002 ; owl:someValuesFrom CL:x]`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ..model.celltypes import CHAINED, LAYER, CellTypeLink, CellTypeRecords, collector_paused
from ..model.layers import LayerContext
from ..rdf.vocab import CURIE_PREFIXES, SEMAPV, SKOS, AkgTerm, StdTerm, expand_curie, semapv, skos
from ..registry.sources import Source
from . import sssom
from .layers import LayerOutput, graph_triples, source_iri
from .mappings import MappingRecord, record_triples
from .release import Iris, iri_segment

OWL_VIEW = "owl-view"
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "mapping_provider",
    "see_also",
    "comment",
    "other",
)


def convert(records: CellTypeRecords, context: LayerContext, iris: Iris) -> LayerOutput:
    """The layer's triples (made here, with the collector paused as while reading: tens of thousands of small
    acyclic objects), its SSSOM TSV and its summary."""
    taxonomy = context.taxonomy
    side_files = {}
    with collector_paused():
        triples = list(_triples(records, context, iris))
        if records.links:
            side_files[f"{taxonomy.accession}.{LAYER}.sssom.tsv"] = sssom_tsv(records, context, iris)
    linked = len(records.linked())
    summary = (
        f"{linked} cell sets linked to CL/PCL by {len(records.links)} records from {len(records.sources)} source(s)"
    )
    return LayerOutput(iter(triples), side_files, summary)


def record_node(iris: Iris, found: CellTypeLink) -> NamedNode:
    """`{kg}mapping/{accession}/{release}/celltypes/{source}/{label}/{CL_x}`: one IRI per record, stable."""
    return NamedNode(
        _record_base(iris, found.source) + f"{iri_segment(found.subject)}/{found.target.replace(':', '_')}"
    )


def _record_base(iris: Iris, source: str) -> str:
    parts = (iris.accession, iris.release, LAYER, source)
    return f"{iris.kg}mapping/" + "".join(f"{iri_segment(part)}/" for part in parts)


@lru_cache(maxsize=65536)
def _class(curie: str) -> NamedNode:
    """A CL/PCL CURIE's IRI (remembered: a few thousand classes are named by tens of thousands of records)."""
    iri = expand_curie(curie)
    assert iri is not None, curie  # the readers let only CL/PCL ids through
    return NamedNode(iri)


def _triples(records: CellTypeRecords, context: LayerContext, iris: Iris) -> Iterator[Triple]:
    sources = list(records.sources.values())
    yield from _graph(context, iris, sources)
    files = {source.id: source_iri(source) for source in sources}
    bases = {source.id: _record_base(iris, source.id) for source in sources}
    predicates = {name: skos(name) for name in {found.predicate for found in records.links}}
    justifications = {name: semapv(name) for name in {found.justification for found in records.links}}
    edges: set[tuple[str, str]] = set()
    for found in records.links:
        subject, target = iris.node(found.subject), _class(found.target)
        evidence = _evidence(found.dois, found.markers)
        node = NamedNode(f"{bases[found.source]}{iri_segment(found.subject)}/{found.target.replace(':', '_')}")
        yield from record_triples(
            MappingRecord(
                node,
                subject,
                predicates[found.predicate],
                target,
                justifications[found.justification],
                files[found.source],
                found.comment,
                evidence,
            )
        )
        if (found.subject, found.target) not in edges:
            edges.add((found.subject, found.target))
            yield Triple(subject, AkgTerm.cellTypeReference, target)
    for bridge in records.bridges:
        yield Triple(iris.node(bridge.subject), StdTerm.sameAs, NamedNode(bridge.iri))
    if OWL_VIEW in context.options:
        yield from _owl_view(records, iris)


def _graph(context: LayerContext, iris: Iris, sources: list[Source]) -> Iterator[Triple]:
    """The layer graph node, its sources, and which taxonomy the subjects are of."""
    taxonomy = context.taxonomy
    title = f"cell types of {taxonomy.accession} release {taxonomy.release}"
    yield from graph_triples(LAYER, title, iris, sources)
    yield Triple(iris.release_node, StdTerm.isVersionOf, iris.taxonomy)
    for source in sources:
        yield Triple(source_iri(source), StdTerm.label, Literal(source.id))


def _evidence(dois: Sequence[str], markers: Sequence[str]) -> tuple[tuple[NamedNode, NamedNode | Literal], ...]:
    """The curator's evidence on a record: papers as DOI IRIs, marker genes as symbols."""
    papers = tuple((StdTerm.seeAlso, NamedNode(doi)) for doi in dois)
    return papers + tuple((AkgTerm.markerGeneEvidence, Literal(marker)) for marker in markers)


def _owl_view(records: CellTypeRecords, iris: Iris) -> Iterator[Triple]:
    """CL's pattern on this project's IRIs, for each exact link a source states (never for a chained one)."""
    done: set[tuple[str, str]] = set()
    for found in records.links:
        key = (found.subject, found.target)
        if found.predicate != "exactMatch" or found.justification == CHAINED or key in done:
            continue
        done.add(key)
        restriction = BlankNode()
        yield Triple(iris.node(found.subject), StdTerm.type, restriction)
        yield Triple(restriction, StdTerm.type, StdTerm.Restriction)
        yield Triple(restriction, StdTerm.onProperty, StdTerm.exemplarDataOf)
        yield Triple(restriction, StdTerm.someValuesFrom, _class(found.target))


# --- SSSOM TSV ------------------------------------------------------------------------------------------------------


def sssom_tsv(records: CellTypeRecords, context: LayerContext, iris: Iris) -> str:
    """The layer's records as an SSSOM mapping set (`mapping_set_id` = the layer graph), one row per record.

    The source of each row is its `mapping_provider` (the file's pinned URL); its id, version and MD5 are in
    `other` as `key=value` pairs, with the marker genes, which SSSOM has no slot for.
    """
    taxonomy = context.taxonomy
    prefix = iri_segment(taxonomy.accession)
    used = sorted({found.target.partition(":")[0] for found in records.links})
    prefixes = {"skos": SKOS, "semapv": SEMAPV, prefix: iris.namespace} | {p: CURIE_PREFIXES[p] for p in used}
    names = {term.label: term.name for term in taxonomy.terms}
    provenance = {sid: _provenance(source) for sid, source in records.sources.items()}
    rows = sorted(_row(found, prefix, names, provenance[found.source]) for found in records.links)
    title = f"Cell types of {taxonomy.title}, release {taxonomy.release}"
    header = sssom.header(iris.layer_graph(LAYER).value, taxonomy.release, title, prefixes)
    return header + sssom.table(rows, COLUMNS)


def _provenance(source: Source) -> tuple[str, str]:
    """The source's `mapping_provider` and `other` pairs, the same on every row it gives."""
    return source_iri(source).value, _flat(
        f"source={source.id}|source_version={source.version}|source_md5={source.md5}"
    )


def _row(found: CellTypeLink, prefix: str, names: dict[str, str], provenance: tuple[str, str]) -> tuple[str, ...]:
    provider, other = provenance
    if found.markers:
        other += f"|marker_genes={_flat(','.join(found.markers))}"
    return (
        f"{prefix}:{iri_segment(found.subject)}",
        names.get(found.subject, ""),
        f"skos:{found.predicate}",
        found.target,
        _flat(found.target_label),
        f"semapv:{found.justification}",
        provider,
        "|".join(found.dois),
        _flat(found.comment),
        other,
    )


def _flat(text: str | None) -> str:
    """One line of text: a rationale's tabs and line breaks would break the TSV's rows."""
    return " ".join(text.split()) if text else ""
