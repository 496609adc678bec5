"""Convert stage: model → a stream of RDF triples.

Conversion only yields triples; it neither stores nor writes them, so the fastest correct writer can consume
the stream. IRIs come from accession labels (never names) by one rule, see `Iris`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from pyoxigraph import Literal, NamedNode, Triple

from . import __version__
from .model import Cluster, ExternalNode, Level, Mapping, Taxonomy, TaxonomyNode, Term
from .vocab import ABC_BUCKET_URL, DEFAULT_BASE_IRI, A, V, akg, ncbi_taxon, semapv, skos, xsd

SOFTWARE_IRI = f"https://pypi.org/project/abc-atlas-kg/{__version__}/"


def iri_segment(label: str) -> str:
    """The one rule that turns a label into an IRI path segment.

    Every character outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~) is percent-encoded as UTF-8,
    so any label gives a valid IRI and distinct labels give distinct IRIs. ABC labels are unreserved already.
    """
    return quote(label, safe="")


@dataclass(frozen=True)
class Iris:
    """The IRIs of one taxonomy release's resources, under `{base}{accession}/`."""

    base: str
    accession: str
    release: str

    @property
    def namespace(self) -> str:
        return f"{self.base}{iri_segment(self.accession)}/"

    @property
    def taxonomy(self) -> NamedNode:
        return NamedNode(f"{self.base}{iri_segment(self.accession)}")

    @property
    def graph(self) -> NamedNode:
        """The named graph that holds this release (N-Quads, store loading)."""
        return NamedNode(f"{self.namespace}release/{iri_segment(self.release)}")

    @property
    def export_activity(self) -> NamedNode:
        return NamedNode(f"{self.graph.value}/export")

    def node(self, label: str) -> NamedNode:
        """A term or level, by its accession label."""
        return NamedNode(self.namespace + iri_segment(label))

    def of(self, node: TaxonomyNode | ExternalNode) -> NamedNode:
        """A mapping target: a term of any taxonomy under the same base, or an outside IRI."""
        if isinstance(node, ExternalNode):
            return NamedNode(node.iri)
        return NamedNode(f"{self.base}{iri_segment(node.accession)}/{iri_segment(node.label)}")

    def mapping(self, mapping: Mapping) -> NamedNode:
        target = mapping.target.label if isinstance(mapping.target, TaxonomyNode) else mapping.target.curie
        key = "/".join(iri_segment(part) for part in (mapping.subject, mapping.predicate, target))
        return NamedNode(f"{self.namespace}mapping/{key}")

    def cluster(self, cluster: Cluster) -> NamedNode:
        """A leaf cluster: by its cluster.csv label when published, else by its alias.

        Where the cluster.csv label is also the cluster-level term label (WHB, Consensus, HMBA) the two are one node.
        """
        if cluster.label:
            return self.node(cluster.label)
        return NamedNode(f"{self.namespace}cluster/{iri_segment(cluster.alias)}")


def triples(taxonomy: Taxonomy, base_iri: str = DEFAULT_BASE_IRI) -> Iterator[Triple]:
    """All triples describing one taxonomy release, in a deterministic order."""
    iris = Iris(base_iri, taxonomy.accession, taxonomy.release)
    yield from _taxonomy(taxonomy, iris)
    levels = {level.label: level for level in taxonomy.levels}
    for level in taxonomy.levels:
        yield from _level(level, iris)
    for term in taxonomy.terms:
        yield from _term(term, levels.get(term.level), iris)
    yield from _clusters(taxonomy, iris)
    yield from mapping_triples(taxonomy, base_iri)


def mapping_triples(taxonomy: Taxonomy, base_iri: str = DEFAULT_BASE_IRI) -> Iterator[Triple]:
    """Each mapping as a plain SKOS triple, for SPARQL, and as an annotated owl:Axiom carrying its SSSOM
    justification and source, so a curated mapping can be told from an inferred one."""
    iris = Iris(base_iri, taxonomy.accession, taxonomy.release)
    for mapping in taxonomy.mappings:
        subject, predicate, target = iris.node(mapping.subject), skos(mapping.predicate), iris.of(mapping.target)
        yield Triple(subject, predicate, target)
        axiom = iris.mapping(mapping)
        yield Triple(axiom, V.type, V.Axiom)
        yield Triple(axiom, V.annotatedSource, subject)
        yield Triple(axiom, V.annotatedProperty, predicate)
        yield Triple(axiom, V.annotatedTarget, target)
        yield Triple(axiom, V.mappingJustification, semapv(mapping.justification))
        if mapping.source:
            yield Triple(axiom, V.source, NamedNode(ABC_BUCKET_URL + mapping.source))
        if mapping.comment:
            yield Triple(axiom, V.comment, _string(mapping.comment))


def _string(value: str) -> Literal:
    return Literal(value)


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=V.integer)


def _labelled(subject: NamedNode, name: str, label: str) -> Iterator[Triple]:
    yield Triple(subject, V.label, _string(name))
    yield Triple(subject, V.prefLabel, _string(name))
    yield Triple(subject, V.notation, _string(label))
    yield Triple(subject, V.identifier, _string(label))


def _taxonomy(taxonomy: Taxonomy, iris: Iris) -> Iterator[Triple]:
    scheme = iris.taxonomy
    for cls in (V.TaxonomyClass, V.ConceptScheme, V.Dataset, V.Entity):
        yield Triple(scheme, V.type, cls)
    yield Triple(scheme, V.label, _string(taxonomy.title))
    yield Triple(scheme, V.title, _string(taxonomy.title))
    yield Triple(scheme, V.identifier, _string(taxonomy.accession))
    yield Triple(scheme, V.notation, _string(taxonomy.accession))
    yield Triple(scheme, V.hasVersion, _string(taxonomy.release))
    for species in taxonomy.species:
        yield Triple(scheme, V.inTaxon, ncbi_taxon(species))
    activity = iris.export_activity
    yield Triple(scheme, V.wasGeneratedBy, activity)
    yield Triple(activity, V.type, V.Activity)
    yield Triple(activity, V.label, _string(f"abc-kg export of {taxonomy.accession} release {taxonomy.release}"))
    software = NamedNode(SOFTWARE_IRI)
    yield Triple(activity, V.wasAssociatedWith, software)
    yield Triple(software, V.type, V.SoftwareAgent)
    yield Triple(software, V.label, _string(f"abc-atlas-kg {__version__}"))
    yield Triple(software, V.hasVersion, _string(__version__))
    for source in taxonomy.sources:
        node = NamedNode(ABC_BUCKET_URL + source.relative_path)
        yield Triple(scheme, V.wasDerivedFrom, node)
        yield Triple(activity, V.used, node)
        yield Triple(node, V.type, A.SourceFile)
        yield Triple(node, V.identifier, _string(source.relative_path))
        yield Triple(node, A.md5, _string(source.md5))
        yield Triple(node, V.byteSize, _integer(source.size))
        if source.url:
            yield Triple(node, V.downloadURL, NamedNode(source.url))
        if source.manifest_version:
            yield Triple(node, A.manifestVersion, _string(source.manifest_version))


def _level(level: Level, iris: Iris) -> Iterator[Triple]:
    node = iris.node(level.label)
    yield Triple(node, V.type, A.Level)
    yield Triple(node, V.type, A.Facet if level.is_facet else A.HierarchyLevel)
    yield from _labelled(node, level.name, level.label)
    yield Triple(node, V.isPartOf, iris.taxonomy)
    yield Triple(node, A.rank, _integer(level.rank))
    if level.parent:
        yield Triple(node, A.parentLevel, iris.node(level.parent))
    if level.description:
        yield Triple(node, V.description, _string(level.description))


def _term(term: Term, level: Level | None, iris: Iris) -> Iterator[Triple]:
    node = iris.node(term.label)
    yield Triple(node, V.type, V.CellSet)
    yield Triple(node, V.type, V.Concept)
    yield Triple(node, V.inScheme, iris.taxonomy)
    yield from _labelled(node, term.name, term.label)
    yield Triple(node, A.level, iris.node(term.level))
    if term.parent:
        parent = iris.node(term.parent)
        yield Triple(node, V.subClusterOf, parent)
        yield Triple(node, V.broader, parent)
    elif level is not None and not level.is_facet:
        yield Triple(node, V.topConceptOf, iris.taxonomy)
    if term.colour:
        yield Triple(node, A.color, _string(term.colour))
    if term.order is not None:
        yield Triple(node, A.order, _integer(term.order))
    if term.cell_count is not None:
        yield Triple(node, A.cellCount, _integer(term.cell_count))
    if term.description:
        yield Triple(node, V.description, _string(term.description))
    if term.species:
        yield Triple(node, V.inTaxon, ncbi_taxon(term.species))


def _clusters(taxonomy: Taxonomy, iris: Iris) -> Iterator[Triple]:
    nodes = {cluster.alias: iris.cluster(cluster) for cluster in taxonomy.clusters}
    for cluster in taxonomy.clusters:
        node = nodes[cluster.alias]
        yield Triple(node, V.type, A.Cluster)
        yield Triple(node, V.isPartOf, iris.taxonomy)
        yield Triple(node, A.clusterAlias, _string(cluster.alias))
        if cluster.label:
            yield Triple(node, V.identifier, _string(cluster.label))
        if cluster.cell_count is not None:
            yield Triple(node, A.cellCount, _integer(cluster.cell_count))
        for statistic in cluster.statistics:
            datatype = None if statistic.datatype == "string" else xsd(statistic.datatype)
            yield Triple(node, akg(statistic.property), Literal(statistic.value, datatype=datatype))
    for membership in taxonomy.memberships:
        yield Triple(nodes[membership.cluster_alias], A.memberOf, iris.node(membership.term))
