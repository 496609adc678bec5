"""Leaf clusters and their memberships: from cluster.csv and the long membership table, or the pivoted view."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import Problem
from ..registry import TaxonomySpec
from ..source.tables import CLUSTER, MEMBERSHIP, PIVOTED, ReleaseTables, Table
from .rows import RowReader, has_columns
from .taxonomy import Cluster, Membership, Taxonomy, Term


def clusters_and_memberships(
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
        if alias and not _counted(read, clusters, alias, count, clusters_declared):
            continue
        membership = Membership(alias, label)
        if membership in memberships:
            read.problem(None, f"repeats the membership at row {memberships[membership]}")
        memberships.setdefault(membership, number)
    return [m for m in memberships if m.term in terms and m.cluster_alias in clusters]


def _counted(read: RowReader, clusters: dict[str, Cluster], alias: str, count: int | None, declared: bool) -> bool:
    """Reconcile a membership row's cluster with the clusters known: False when it names an undeclared one.

    Without cluster.csv the rows declare the clusters (and their counts); with it, a count must agree.
    """
    if alias not in clusters:
        if declared:
            read.problem("cluster_alias", "names a cluster that cluster.csv does not contain", alias)
            return False
        clusters[alias] = Cluster(alias, None, count)
    elif count is not None:
        known = clusters[alias].cell_count
        if known is None:
            clusters[alias] = Cluster(alias, clusters[alias].label, count)
        elif known != count:
            read.problem("number_of_cells", f"disagrees with the cluster's cell count {known}", str(count))
    return True


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
