"""Adapters for taxonomies whose tables are not in the ABC annotation form.

Every other taxonomy goes through `normalise.build`; an adapter builds the same `model.Taxonomy` from whatever
its taxonomy publishes. There is one today: the Zeng aging mouse clusters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace

from .. import registry
from ..errors import InputError, Problem
from ..registry import TaxonomySpec
from ..source.tables import CLUSTER, CLUSTER_MAPPING, ReleaseTables, Table
from .normalise import build
from .rows import RowReader, has_columns
from .taxonomy import Cluster, Level, Membership, Statistic, Taxonomy, TaxonomyNode, Term, TermMapping

log = logging.getLogger(__name__)

Builder = Callable[[TaxonomySpec, ReleaseTables], Taxonomy]

# cluster_mapping.csv: one block of rows per WMB level (supertype, subclass, class), each repeating the cluster
MAPPING_COLUMNS = ("cluster_alias", "cluster_label", "cluster_name", "cluster_annotation_term_label")
CLUSTER_COLUMNS = ("cluster_alias", "cluster_label")


def builder(spec: TaxonomySpec) -> Builder:
    if spec.adapter is None:
        return build
    return ADAPTERS[spec.adapter]


def build_aging(spec: TaxonomySpec, tables: ReleaseTables) -> Taxonomy:
    """The aging clusters as a one-level taxonomy (plus a neurotransmitter facet when known), mapped onto WMB.

    The ABC Atlas publishes no term tables for it. `cluster_mapping.csv` carries the whole mapping (each aging
    cluster's label, name, order, colour and its WMB supertype, subclass and class), so the clusters are built from
    it alone. The 10Xv3 `cluster.csv`, in another directory and at that directory's own version, only enriches them
    (cell counts, age statistics, neurotransmitter); when it is absent that is one warning. Levels and
    neurotransmitter terms are minted here, labelled `<accession>_CLUS`, `<accession>_NEUR` and
    `<accession>_NEUR_<name>`. Each aging cluster gets skos:broadMatch links to the WMB terms it is mapped to:
    a mapping, not a claim that it is a WMB term.
    """
    spec = spec.at(tables.release)
    problems: list[Problem] = []
    wmb = registry.get(spec.maps_onto or "WMB-taxonomy").accession
    taxonomy = Taxonomy(
        spec.id, spec.accession, spec.title, spec.species, tables.directory, tables.release, tables.sources
    )
    cluster_level, nt_level = f"{spec.accession}_CLUS", f"{spec.accession}_NEUR"
    taxonomy.levels = [Level(cluster_level, "cluster", 1, False, minted=True)]
    for tag in spec.required_tables:
        if tables.get(tag) is None:
            problems.append(Problem(tables.where(tag), "required file is missing"))
    mapping, clusters = tables.get(CLUSTER_MAPPING), tables.get(CLUSTER)
    if mapping is not None and has_columns(mapping, MAPPING_COLUMNS, problems):
        taxonomy.mappings = _aging_clusters_and_mappings(mapping, taxonomy, cluster_level, wmb, problems)
    if clusters is None:
        log.warning(
            "%s release %s: %s is absent; the clusters are exported from cluster_mapping.csv without cell counts, "
            "age statistics or neurotransmitters",
            spec.id,
            tables.release,
            tables.where(CLUSTER),
        )
    elif mapping is not None and has_columns(clusters, CLUSTER_COLUMNS, problems):
        nt_terms = _enrich_clusters(clusters, taxonomy, spec, problems)
        if nt_terms:
            taxonomy.levels.insert(0, Level(nt_level, "neurotransmitter", 0, True, minted=True))
            taxonomy.terms[:0] = nt_terms
    if problems:
        raise InputError(problems)
    return taxonomy


def _aging_clusters_and_mappings(
    table: Table, taxonomy: Taxonomy, level: str, wmb: str, problems: list[Problem]
) -> list[TermMapping]:
    """Clusters (a term and a leaf cluster each) from their first row; a WMB mapping from every row."""
    seen: dict[str, tuple[str, int]] = {}  # alias -> (label, first row)
    mappings = []
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias, label, name, target = (read.required(c) for c in MAPPING_COLUMNS)
        if alias in seen:
            known, first = seen[alias]
            if known != label:
                read.problem("cluster_label", f"differs from {known!r} given to alias {alias} at row {first}", label)
                continue
        elif alias and label:
            seen[alias] = (label, number)
            taxonomy.terms.append(
                Term(label, name, level, colour=read.colour("cluster_color"), order=read.count("cluster_order"))
            )
            taxonomy.clusters.append(Cluster(alias, label))
            taxonomy.memberships.append(Membership(alias, label))
        if not (alias and label and target):
            continue
        set_name = read.text("cluster_annotation_term_set_name")
        mappings.append(
            TermMapping(
                label,
                "broadMatch",
                TaxonomyNode(wmb, target),
                "ManualMappingCuration",
                table.path,
                f"aging cluster mapped to a WMB {set_name}" if set_name else None,
            )
        )
    return mappings


def _enrich_clusters(table: Table, taxonomy: Taxonomy, spec: TaxonomySpec, problems: list[Problem]) -> list[Term]:
    """Cell counts, statistics and the neurotransmitter facet from the 10Xv3 cluster.csv; returns the facet terms."""
    position = {cluster.alias: i for i, cluster in enumerate(taxonomy.clusters)}
    term_position = {term.label: i for i, term in enumerate(taxonomy.terms)}
    nt_terms: dict[str, Term] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias, label = (read.required(c) for c in CLUSTER_COLUMNS)
        if alias not in position:
            if alias:
                read.problem("cluster_alias", "names a cluster that cluster_mapping.csv does not contain", alias)
            continue
        cluster = taxonomy.clusters[position[alias]]
        if label and cluster.label != label:
            read.problem(
                "cluster_label",
                f"disagrees with cluster_mapping.csv, which labels alias {alias} {cluster.label}",
                label,
            )
            continue
        cells = read.count("number_of_cells")
        taxonomy.clusters[position[alias]] = Cluster(alias, cluster.label, cells, tuple(_statistics(read, spec)))
        if cluster.label in term_position:
            i = term_position[cluster.label]
            taxonomy.terms[i] = replace(taxonomy.terms[i], cell_count=cells)
        nt = read.text("neurotransmitter_combined_label")
        if nt is None:
            continue
        nt_term = Term(
            f"{taxonomy.accession}_NEUR_{nt}",
            nt,
            f"{taxonomy.accession}_NEUR",
            colour=read.colour("neurotransmitter_color"),
            minted=True,
        )
        known = nt_terms.setdefault(nt, nt_term)
        if known.colour != nt_term.colour:
            read.problem(
                "neurotransmitter_color",
                f"differs from the colour {known.colour} given to {nt!r} before",
                nt_term.colour,
            )
        taxonomy.memberships.append(Membership(alias, known.label))
    return sorted(nt_terms.values(), key=lambda term: term.name)


def _statistics(read: RowReader, spec: TaxonomySpec) -> list[Statistic]:
    """The registry's statistics columns of one cluster.csv row, typed as it declares (absent columns skipped)."""
    found = []
    for column in spec.statistics:
        value = read.text(column.column)
        if value is None:
            continue
        if column.datatype == "integer":
            count = read.count(column.column)
            if count is not None:
                found.append(Statistic(column.property, str(count), "integer"))
        elif column.datatype == "double":
            lexical = _double(value)
            if lexical is None:
                read.problem(column.column, "expected a number", value)
            else:
                found.append(Statistic(column.property, lexical, "double"))
        elif column.datatype == "colour":
            colour = read.colour(column.column)
            if colour is not None:
                found.append(Statistic(column.property, colour, "string"))
        else:
            found.append(Statistic(column.property, value, "string"))
    return found


def _double(value: str) -> str | None:
    """A valid xsd:double lexical form for a number as pandas writes it (inf, -inf and nan included).

    `float()` is not the test: it also takes `1_000`, ` 1` and `infinity`, which xsd:double does not.
    """
    special = _SPECIAL_DOUBLES.get(value.lower())
    if special is not None:
        return special
    return value if _XSD_DOUBLE.fullmatch(value) else None


_XSD_DOUBLE = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SPECIAL_DOUBLES = {"inf": "INF", "+inf": "INF", "-inf": "-INF", "nan": "NaN"}


ADAPTERS: dict[str, Builder] = {"aging": build_aging}
