"""Model stage: one normalised, taxonomy-independent description of a taxonomy release.

`build` turns the raw ABC tables of any taxonomy into this model and checks them on the way, collecting
every problem (file, row, column, value) before it gives up, so that a curator fixes them in one go.
Columns are matched by name; optional columns and files may be absent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..errors import InputError, Problem
from ..registry import TaxonomySpec
from ..source.tables import CLUSTER, MEMBERSHIP, PIVOTED, TERM, TERM_SET, ReleaseTables, SourceFile, Table

COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
log = logging.getLogger(__name__)


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


def build(spec: TaxonomySpec, tables: ReleaseTables) -> Taxonomy:
    """Normalise and check a release's tables; raise InputError listing every problem found.

    What differs between releases (facets, label form, what membership counts mean) comes from the registry,
    applied to this release by `spec.at(release)`.
    """
    spec = spec.at(tables.release)
    problems: list[Problem] = []
    taxonomy = Taxonomy(
        id=spec.id,
        accession=spec.accession,
        title=spec.title,
        species=spec.species,
        directory=tables.directory,
        release=tables.release,
        sources=tables.sources,
    )
    for tag in spec.required_tables:
        _required(tables, tag, problems)
    warn_missing_optional(spec, tables)
    term_sets, terms = tables.get(TERM_SET), tables.get(TERM)
    if term_sets is not None:
        taxonomy.levels = _levels(term_sets, spec.facets, problems)
    if terms is not None and term_sets is not None:
        taxonomy.terms = _terms(terms, {level.label: level for level in taxonomy.levels}, spec, problems)
    _check_unused_levels(taxonomy, spec, terms, problems)
    taxonomy.clusters, taxonomy.memberships = _clusters_and_memberships(tables, taxonomy, spec, problems)
    if problems:
        raise InputError(problems)
    return taxonomy


def warn_missing_optional(spec: TaxonomySpec, tables: ReleaseTables) -> None:
    """One warning per absent optional (enrichment) table: the rest of the release is still exported."""
    for tag in spec.optional_tables:
        if tables.get(tag) is None:
            log.warning(
                "%s release %s: optional table %s is absent; exported without what it adds",
                spec.id,
                tables.release,
                tables.where(tag),
            )


def _check_unused_levels(taxonomy: Taxonomy, spec: TaxonomySpec, terms: Table | None, problems: list[Problem]) -> None:
    """A term set without terms is an error, unless the registry says the release is known to omit it.

    A term table with a header and no rows is an error too: exporting a taxonomy of 0 terms would replace a real
    release with nothing.
    """
    if terms is not None and not any(True for _ in terms.numbered()):
        problems.append(Problem(terms.path, "has a header but no terms; a release needs at least one term"))
        return
    if terms is None:
        return
    quirks = spec.quirks(taxonomy.release)
    used = {term.level for term in taxonomy.terms}
    for level in taxonomy.levels:
        if level.label in used:
            continue
        if level.label in quirks.omitted_term_sets:  # known and said where the source is named: no alarm
            log.info(
                "%s release %s: term set %s (%s) has no terms: %s",
                taxonomy.id,
                taxonomy.release,
                level.label,
                level.name,
                quirks.note or "the release is known to omit them",
            )
        else:
            problems.append(
                Problem(
                    terms.path,
                    f"has no terms of the term set {level.label} ({level.name}) that the term-set table declares",
                )
            )


def with_species_from_names(taxonomy: Taxonomy, spec: TaxonomySpec) -> Taxonomy:
    """Give each term whose name starts with "<prefix>-" the species the registry declares for that prefix."""
    prefixes = dict(spec.species_by_name_prefix)
    if prefixes:
        taxonomy.terms = [
            replace(term, species=prefixes.get(term.name.split("-", 1)[0]) if "-" in term.name else None)
            for term in taxonomy.terms
        ]
    return taxonomy


def _required(tables: ReleaseTables, tag: str, problems: list[Problem]) -> Table | None:
    table = tables.get(tag)
    if table is None:
        problems.append(Problem(tables.where(tag), "required file is missing"))
    return table


def has_columns(table: Table, required: Iterable[str], problems: list[Problem]) -> bool:
    missing = [c for c in required if c not in table.columns]
    for column in missing:
        problems.append(Problem(table.path, "required column is missing", row=1, column=column))
    return not missing


class RowReader:
    """Reads typed values from one row, recording a Problem for each bad cell."""

    def __init__(self, table: Table, number: int, row: dict[str, str], problems: list[Problem]):
        self.table, self.number, self.row, self.problems = table, number, row, problems

    def problem(self, column: str | None, message: str, value: str | None = None) -> None:
        self.problems.append(Problem(self.table.path, message, row=self.number, column=column, value=value))

    def text(self, column: str) -> str | None:
        value = self.row.get(column, "")
        return value or None

    def required(self, column: str) -> str:
        value = self.row.get(column, "")
        if not value:
            self.problem(column, "is empty; a value is required")
        return value

    def count(self, column: str) -> int | None:
        value = self.row.get(column, "")
        if not value:
            return None
        if value.isascii() and value.isdigit():
            return int(value)
        self.problem(column, "expected a non-negative integer", value)
        return None

    def colour(self, column: str) -> str | None:
        value = self.row.get(column, "")
        if not value:
            return None
        if COLOUR.fullmatch(value):
            return value
        self.problem(column, "expected a colour #RRGGBB", value)
        return None


def _levels(table: Table, facets: frozenset[str], problems: list[Problem]) -> list[Level]:
    rank_column = "order" if "order" in table.columns else "term_set_order"
    if not has_columns(table, ("label", "name", rank_column), problems):
        return []
    explicit_parents = "parent_term_set_label" in table.columns
    drafts: list[tuple[str, str, int, str | None, str | None]] = []
    seen: dict[str, int] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        label, name = read.required("label"), read.required("name")
        read.required(rank_column)
        rank = read.count(rank_column)
        if label in seen:
            read.problem("label", f"duplicate term set label (first at row {seen[label]})", label)
            continue
        seen[label] = number
        parent = read.text("parent_term_set_label") if explicit_parents else None
        drafts.append((label, name, rank or 0, parent, read.text("description")))
    hierarchy = sorted((d for d in drafts if d[0] not in facets), key=lambda d: d[2])
    derived_parent = {d[0]: (hierarchy[i - 1][0] if i else None) for i, d in enumerate(hierarchy)}
    levels = []
    for label, name, rank, parent, description in drafts:
        is_facet = label in facets
        if is_facet:
            parent = None
        elif not explicit_parents:
            parent = derived_parent[label]
        elif parent is not None and parent not in seen:
            problems.append(
                Problem(table.path, "names an undeclared term set", seen[label], "parent_term_set_label", parent)
            )
        levels.append(Level(label, name, rank, is_facet, parent, description))
    return levels


def _terms(table: Table, levels: dict[str, Level], spec: TaxonomySpec, problems: list[Problem]) -> list[Term]:
    set_column = "cluster_annotation_term_set_label"
    if not has_columns(table, ("label", "name", set_column), problems):
        return []
    form = re.compile(spec.term_label_pattern) if spec.term_label_pattern else None
    odd: list[str] = []  # labels not of the registry's form: said once, as a hint that the release is another
    terms: list[Term] = []
    rows: dict[str, int] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        label, name, level = read.required("label"), read.required("name"), read.required(set_column)
        if label in rows:
            read.problem("label", f"duplicate term label (first at row {rows[label]})", label)
            continue
        if label and form is not None and not form.search(label):
            odd.append(label)
        if level and level not in levels:
            read.problem(set_column, "names a term set that cluster_annotation_term_set.csv does not declare", level)
        rows[label] = number
        terms.append(
            Term(
                label=label,
                name=name,
                level=level,
                parent=read.text("parent_term_label"),
                colour=read.colour("color_hex_triplet"),
                order=read.count("term_order"),
                cell_count=read.count("number_of_cells"),
                description=read.text("description"),
            )
        )
    if odd:
        log.warning(
            "%s: %d term label(s) do not have the label form of %s (%s), e.g. %r: is this the release you meant?",
            table.path,
            len(odd),
            spec.id,
            form.pattern if form else "",
            odd[0],
        )
    by_label = {term.label: term for term in terms}
    for term in terms:
        for message in _parent_problems(term, by_label, levels):
            problems.append(Problem(table.path, message, rows[term.label], "parent_term_label", term.parent))
    return terms


def _parent_problems(term: Term, terms: dict[str, Term], levels: dict[str, Level]) -> Iterable[str]:
    """A parent must exist and sit exactly one level up; facet terms have none. This also rules out cycles."""
    level = levels.get(term.level)
    if level is None:
        return

    if term.parent is None:
        if level.parent is not None:
            yield f"is empty, but a term at level '{level.name}' needs a parent at the level above"
        return
    if level.is_facet:
        yield f"facet terms ('{level.name}') take no parent"
        return
    parent = terms.get(term.parent)
    if parent is None:
        yield "names a term that cluster_annotation_term.csv does not contain"
    elif parent.level != level.parent:
        expected = levels[level.parent].name if level.parent in levels else "none (top level)"
        found = levels[parent.level].name if parent.level in levels else parent.level
        yield f"parent is at level '{found}', expected '{expected}'"


def _clusters_and_memberships(
    tables: ReleaseTables, taxonomy: Taxonomy, spec: TaxonomySpec, problems: list[Problem]
) -> tuple[list[Cluster], list[Membership]]:
    clusters: dict[str, Cluster] = {}
    cluster_table = tables.get(CLUSTER)
    if cluster_table is not None and has_columns(cluster_table, ("cluster_alias",), problems):
        for number, row in cluster_table.numbered():
            read = RowReader(cluster_table, number, row, problems)
            alias = read.required("cluster_alias")
            if alias in clusters:
                read.problem("cluster_alias", "duplicate cluster_alias", alias)
                continue
            clusters[alias] = Cluster(alias, read.text("label"), read.count("number_of_cells"))
    terms = {term.label: term for term in taxonomy.terms}
    membership_table = tables.get(MEMBERSHIP)
    pivoted = tables.get(PIVOTED)
    if membership_table is not None:
        counts = spec.membership_counts == "cluster"
        memberships = _memberships(membership_table, terms, clusters, cluster_table is not None, counts, problems)
        where = membership_table.path
    elif pivoted is not None:
        memberships = _memberships_from_pivot(pivoted, taxonomy, clusters, problems)
        where = pivoted.path
    else:
        return list(clusters.values()), []
    problems.extend(_missing_memberships(taxonomy, terms, clusters, memberships, where))
    return list(clusters.values()), memberships


def _missing_memberships(
    taxonomy: Taxonomy, terms: dict[str, Term], clusters: dict[str, Cluster], memberships: list[Membership], where: str
) -> Iterable[Problem]:
    """Every leaf cluster belongs to one term at each hierarchy level whose terms the release publishes.

    Facets are exempt: the first WMB release gives non-neuronal clusters no neurotransmitter at all.
    """
    published = {term.level for term in terms.values()}
    levels = [level for level in taxonomy.levels if not level.is_facet and level.label in published]
    covered = {(m.cluster_alias, terms[m.term].level) for m in memberships if m.term in terms}
    for alias in clusters:
        for level in levels:
            if (alias, level.label) not in covered:
                yield Problem(where, f"cluster_alias {alias!r} has no membership at level '{level.name}'")


def _memberships(
    table: Table,
    terms: dict[str, Term],
    clusters: dict[str, Cluster],
    clusters_declared: bool,
    counts: bool,
    problems: list[Problem],
) -> list[Membership]:
    """Long-form memberships. `counts`: number_of_cells is the leaf cluster's own count (registry
    `membership_counts = "cluster"`), so it is checked against cluster.csv or, without one, taken as the count."""
    term_column = "cluster_annotation_term_label"
    if not has_columns(table, ("cluster_alias", term_column), problems):
        return []
    memberships: dict[Membership, int] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias, label = read.required("cluster_alias"), read.required(term_column)
        count = read.count("number_of_cells") if counts else None
        term = terms.get(label)
        if label and term is None:
            read.problem(term_column, "names a term that cluster_annotation_term.csv does not contain", label)
        elif term is not None and read.text("cluster_annotation_term_set_label") not in (None, term.level):
            read.problem(
                "cluster_annotation_term_set_label",
                f"disagrees with the term's own set {term.level}",
                row["cluster_annotation_term_set_label"],
            )
        if alias and alias not in clusters:
            if clusters_declared:
                read.problem("cluster_alias", "names a cluster that cluster.csv does not contain", alias)
                continue
            clusters[alias] = Cluster(alias, None, count)
        elif alias and count is not None:
            known = clusters[alias].cell_count
            if known is None:
                clusters[alias] = Cluster(alias, clusters[alias].label, count)
            elif known != count:
                read.problem("number_of_cells", f"disagrees with the cluster's cell count {known}", str(count))
        membership = Membership(alias, label)
        if membership in memberships:
            read.problem(None, f"repeats the membership at row {memberships[membership]}")
        memberships.setdefault(membership, number)
    return [m for m in memberships if m.term in terms and m.cluster_alias in clusters]


def _memberships_from_pivot(
    table: Table, taxonomy: Taxonomy, clusters: dict[str, Cluster], problems: list[Problem]
) -> list[Membership]:
    """Memberships from the wide view (one column per level name, values are term names).

    Used only when the long membership table is absent. Names are resolved within their level, where they are
    unique. A level whose terms the release does not publish (the sample lacks cluster-level terms) is skipped.
    """
    if not has_columns(table, ("cluster_alias",), problems):
        return []
    by_level_name = {level.name: level.label for level in taxonomy.levels}
    names: dict[str, dict[str, str]] = {}
    for term in taxonomy.terms:
        names.setdefault(term.level, {})[term.name] = term.label
    columns = [c for c in table.columns if c in by_level_name and by_level_name[c] in names]
    memberships: list[Membership] = []
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias = read.required("cluster_alias")
        if alias and alias not in clusters:
            clusters[alias] = Cluster(alias)
        for column in columns:
            name = row[column]
            if not name:
                continue
            label = names[by_level_name[column]].get(name)
            if label is None:
                read.problem(column, f"names no term of level '{column}'", name)
            else:
                memberships.append(Membership(alias, label))
    return memberships
