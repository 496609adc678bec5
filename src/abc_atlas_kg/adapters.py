"""Adapters for taxonomies whose tables are not in the ABC annotation form.

Every other taxonomy goes through `model.build`; an adapter builds the same `model.Taxonomy` from whatever
its taxonomy publishes. There is one today: the Zeng aging mouse clusters.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from . import registry
from .errors import InputError, Problem
from .model import (
    Cluster,
    Level,
    Mapping,
    Membership,
    RowReader,
    Statistic,
    Taxonomy,
    TaxonomyNode,
    Term,
    build,
    has_columns,
)
from .registry import TaxonomySpec
from .source import CLUSTER, CLUSTER_MAPPING, ReleaseTables, Table

Builder = Callable[[TaxonomySpec, ReleaseTables], Taxonomy]

# Zeng aging cluster.csv columns beyond the ABC cluster table → (akg property, XSD datatype)
AGING_STATISTICS = {
    "number_of_adult_cells": ("adultCellCount", "integer"),
    "number_of_aged_cells": ("agedCellCount", "integer"),
    "proportion_adult_cells": ("adultCellProportion", "double"),
    "proportion_aged_cells": ("agedCellProportion", "double"),
    "odds_ratio": ("agedOddsRatio", "double"),
    "log2_odds_ratio": ("log2AgedOddsRatio", "double"),
    "cluster_age_bias": ("ageBias", "string"),
    "cluster_age_bias_color": ("ageBiasColor", "string"),
}
AGING_CLUSTER_COLUMNS = ("cluster_alias", "cluster_label", "cluster_name")
AGING_MAPPING_COLUMNS = ("cluster_alias", "cluster_label", "cluster_annotation_term_label")


def builder(spec: TaxonomySpec) -> Builder:
    if spec.adapter is None:
        return build
    return ADAPTERS[spec.adapter]


def build_aging(spec: TaxonomySpec, tables: ReleaseTables) -> Taxonomy:
    """The aging clusters as a one-level taxonomy with a neurotransmitter facet, mapped onto WMB.

    The ABC Atlas publishes no term tables for it, only cluster.csv (in Zeng-Aging-Mouse-10Xv3) and
    cluster_mapping.csv. Levels and neurotransmitter terms are minted here, labelled `<accession>_CLUS`,
    `<accession>_NEUR` and `<accession>_NEUR_<name>`. Each aging cluster gets skos:broadMatch links to the WMB
    supertype, subclass and class it is mapped to: a mapping, not a claim that it is a WMB term.
    """
    problems: list[Problem] = []
    accession = spec.accession
    wmb = registry.get(spec.maps_onto or "WMB-taxonomy").accession
    taxonomy = Taxonomy(spec.id, accession, spec.title, spec.species, tables.directory, tables.release, tables.sources)
    cluster_level, nt_level = f"{accession}_CLUS", f"{accession}_NEUR"
    taxonomy.levels = [Level(nt_level, "neurotransmitter", 0, True), Level(cluster_level, "cluster", 1, False)]
    clusters = tables.get(CLUSTER)
    mapping = tables.get(CLUSTER_MAPPING)
    for tag, table in ((CLUSTER, clusters), (CLUSTER_MAPPING, mapping)):
        if table is None:
            directory = spec.directory_of(tag)
            problems.append(Problem(f"metadata/{directory}/{tables.release}/{tag}.csv", "required file is missing"))
    if clusters is not None and has_columns(clusters, AGING_CLUSTER_COLUMNS, problems):
        _aging_clusters(clusters, taxonomy, cluster_level, problems)
    if mapping is not None and has_columns(mapping, AGING_MAPPING_COLUMNS, problems):
        taxonomy.mappings = _aging_mappings(mapping, taxonomy, wmb, problems)
    if problems:
        raise InputError(problems)
    return taxonomy


def _aging_clusters(table: Table, taxonomy: Taxonomy, level: str, problems: list[Problem]) -> None:
    nt_terms: dict[str, Term] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias, label, name = (read.required(c) for c in AGING_CLUSTER_COLUMNS)
        cells = read.count("number_of_cells")
        taxonomy.terms.append(
            Term(
                label,
                name,
                level,
                colour=read.colour("cluster_color"),
                order=read.count("cluster_order"),
                cell_count=cells,
            )
        )
        taxonomy.clusters.append(Cluster(alias, label, cells, tuple(_statistics(read))))
        taxonomy.memberships.append(Membership(alias, label))
        nt = read.text("neurotransmitter_combined_label")
        if nt is None:
            continue
        nt_term = Term(
            f"{taxonomy.accession}_NEUR_{nt}",
            nt,
            f"{taxonomy.accession}_NEUR",
            colour=read.colour("neurotransmitter_color"),
        )
        known = nt_terms.setdefault(nt, nt_term)
        if known.colour != nt_term.colour:
            read.problem(
                "neurotransmitter_color",
                f"differs from the colour {known.colour} given to {nt!r} before",
                nt_term.colour,
            )
        taxonomy.memberships.append(Membership(alias, known.label))
    taxonomy.terms[:0] = sorted(nt_terms.values(), key=lambda term: term.name)


def _statistics(read: RowReader) -> list[Statistic]:
    found = []
    for column, (prop, datatype) in AGING_STATISTICS.items():
        value = read.text(column)
        if value is None:
            continue
        if datatype == "integer":
            count = read.count(column)
            if count is not None:
                found.append(Statistic(prop, str(count), datatype))
        elif datatype == "double":
            lexical = _double(value)
            if lexical is None:
                read.problem(column, "expected a number", value)
            else:
                found.append(Statistic(prop, lexical, datatype))
        elif column.endswith("_color"):
            colour = read.colour(column)
            if colour is not None:
                found.append(Statistic(prop, colour, datatype))
        else:
            found.append(Statistic(prop, value, datatype))
    return found


def _double(value: str) -> str | None:
    """A valid xsd:double lexical form for a number as pandas writes it (inf, -inf and nan included)."""
    try:
        number = float(value)
    except ValueError:
        return None
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "INF" if number > 0 else "-INF"
    return value


def _aging_mappings(table: Table, taxonomy: Taxonomy, wmb: str, problems: list[Problem]) -> list[Mapping]:
    labels = {cluster.alias: cluster.label for cluster in taxonomy.clusters}
    mappings = []
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        alias, label, target = (read.required(c) for c in AGING_MAPPING_COLUMNS)
        if alias in labels and labels[alias] != label:
            read.problem(
                "cluster_label", f"disagrees with cluster.csv, which labels alias {alias} {labels[alias]}", label
            )
            continue
        if alias not in labels:
            read.problem("cluster_alias", "names a cluster that cluster.csv does not contain", alias)
            continue
        level = read.text("cluster_annotation_term_set_name")
        mappings.append(
            Mapping(
                label,
                "broadMatch",
                TaxonomyNode(wmb, target),
                "ManualMappingCuration",
                table.path,
                f"aging cluster mapped to a WMB {level}" if level else None,
            )
        )
    return mappings


ADAPTERS: dict[str, Builder] = {"aging": build_aging}
