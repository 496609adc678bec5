"""Model stage: one normalised, taxonomy-independent description of a taxonomy release, as data classes.

`normalise.build` makes it from the raw ABC tables of any taxonomy (an adapter, for the one taxonomy whose tables
are of another form); the enrichment steps (`links`) and layers add to it; `convert` turns it into triples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..source.tables import SourceFile


@dataclass(frozen=True)
class Level:
    """A term set: one level of the hierarchy, or a facet (neurotransmitter) outside it."""

    label: str
    name: str
    rank: int
    is_facet: bool
    parent: str | None = None  # label of the next level up; None for the top level and for facets
    description: str | None = None
    minted: bool = False  # made up by abc-kg (no published term set): its IRI is in abc-kg's own namespace


@dataclass(frozen=True)
class Term:
    """A cell set: one taxon at one level."""

    label: str
    name: str
    level: str
    parent: str | None = None
    colour: str | None = None
    order: int | None = None
    cell_count: int | None = None
    description: str | None = None
    species: str | None = None  # NCBITaxon id, for taxonomies whose clusters differ in species (HMBA-BG)
    minted: bool = False  # made up by abc-kg (no published label): its IRI is in abc-kg's own namespace


@dataclass(frozen=True)
class Statistic:
    """A typed per-cluster figure beyond the cell count, e.g. the aging clusters' share of aged cells."""

    property: str  # local name in the akg: vocabulary
    value: str  # lexical form, valid for the datatype
    datatype: str  # XSD local name: integer, double or string


@dataclass(frozen=True)
class Cluster:
    """A leaf cluster, the unit cells are assigned to, keyed by its `cluster_alias` (integer or text)."""

    alias: str
    label: str | None = None  # cluster.csv label, when the taxonomy publishes one
    cell_count: int | None = None
    statistics: tuple[Statistic, ...] = ()


@dataclass(frozen=True)
class TaxonomyNode:
    """A term of a (possibly other) taxonomy, named by accession and label; its IRI follows the IRI rule."""

    accession: str
    label: str


@dataclass(frozen=True)
class ExternalNode:
    """A term of an outside ontology (CL, UBERON, DHBA, Ensembl), by IRI and the CURIE it was published as."""

    iri: str
    curie: str


@dataclass(frozen=True)
class TermMapping:
    """A SKOS mapping from a term of this taxonomy, with its SSSOM justification.

    `justification` is a semapv local name: ManualMappingCuration for mappings the ABC Atlas publishes,
    InstanceBasedMatching for those abc-kg infers (clusters sharing a cluster_alias).
    """

    subject: str  # term label in this taxonomy
    predicate: str  # SKOS local name: exactMatch, broadMatch, relatedMatch, ...
    target: TaxonomyNode | ExternalNode
    justification: str
    source: str | None = None  # bucket-relative path of the table the mapping comes from
    comment: str | None = None


@dataclass(frozen=True)
class Membership:
    cluster_alias: str
    term: str


@dataclass
class Taxonomy:
    id: str
    accession: str
    title: str
    species: tuple[str, ...]
    directory: str
    release: str
    sources: list[SourceFile]
    levels: list[Level] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    mappings: list[TermMapping] = field(default_factory=list)
    previous_release: str | None = None  # the release of this taxonomy before this one, where the source shows it

    @property
    def leaf_level(self) -> Level | None:
        """The finest level of the hierarchy, where leaf clusters' own terms sit."""
        hierarchy = [level for level in self.levels if not level.is_facet]
        return max(hierarchy, key=lambda level: level.rank) if hierarchy else None
