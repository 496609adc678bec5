"""Enrichment steps: what an export adds to a built taxonomy, each switched on by name in the registry (`enrich`).

- `species-from-names`: HMBA-BG encodes a cluster's species only in its name ("Human-128").
- `abbreviation-mappings`: terms → the CL / UBERON / DHBA / Ensembl ids of the abbreviations in their names, from
  the tables HMBA-BG publishes (skos:relatedMatch, semapv:ManualMappingCuration).
- `shared-alias-links`: two releases of one taxonomy whose leaf clusters keep their cluster_alias (computed here,
  semapv:InstanceBasedMatching, so users can tell them from the published ones).

`run_steps` runs each declared step once per export. A linked taxonomy is obtained through `other`, which the
pipeline gives; it is built without its own enrichment, so an export never re-enters itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from ..errors import FetchError, InputError, Problem, UsageError
from ..rdf.vocab import expand_curie
from ..registry import TaxonomySpec
from ..source.tables import ReleaseTables, Table
from .rows import RowReader, has_columns
from .taxonomy import ExternalNode, Taxonomy, TaxonomyNode, TermMapping

log = logging.getLogger(__name__)

OtherTaxonomy = Callable[[str], Taxonomy]


def leaf_terms_by_alias(taxonomy: Taxonomy) -> dict[str, str]:
    """cluster_alias → the label of the cluster's term at the finest hierarchy level."""
    leaf = taxonomy.leaf_level
    if leaf is None:
        return {}
    at_leaf = {term.label for term in taxonomy.terms if term.level == leaf.label}
    return {m.cluster_alias: m.term for m in taxonomy.memberships if m.term in at_leaf}


def shared_cluster_alias(this: Taxonomy, other: Taxonomy) -> list[TermMapping]:
    """Two releases of one taxonomy whose leaf clusters keep their cluster_alias: same alias, same cluster."""
    mine, theirs = leaf_terms_by_alias(this), leaf_terms_by_alias(other)
    return [
        TermMapping(
            mine[alias],
            "exactMatch",
            TaxonomyNode(other.accession, theirs[alias]),
            "InstanceBasedMatching",
            comment=f"same cluster_alias {alias} in {this.accession} and {other.accession}",
        )
        for alias in sorted(mine.keys() & theirs.keys(), key=lambda a: (len(a), a))
    ]


LINKS: dict[str, Callable[[Taxonomy, Taxonomy], list[TermMapping]]] = {"shared-cluster-alias": shared_cluster_alias}


def abbreviation_mappings(spec: TaxonomySpec, tables: ReleaseTables, taxonomy: Taxonomy) -> list[TermMapping]:
    """Terms → the ontology ids of the abbreviations in their names; absent tables give one warning (model)."""
    config = spec.abbreviations
    abbreviations, links = tables.get(config.terms), tables.get(config.map)
    if abbreviations is None or links is None:
        if config.terms not in spec.optional_tables:  # optional ones were already warned about
            log.warning("%s release %s: no abbreviation tables; no abbreviation mappings", spec.id, tables.release)
        return []
    problems: list[Problem] = []
    if not has_columns(abbreviations, ("abbreviation_term", config.identifier_columns[0]), problems) or not has_columns(
        links, ("cluster_annotation_term_label", "abbreviation_term"), problems
    ):
        raise InputError(problems)
    identifiers = _identifiers(abbreviations, config.identifier_columns, problems)
    labels = {term.label for term in taxonomy.terms}
    mappings: list[TermMapping] = []
    for number, row in links.numbered():
        read = RowReader(links, number, row, problems)
        label, abbreviation = read.required("cluster_annotation_term_label"), read.required("abbreviation_term")
        if label and label not in labels:
            read.problem(
                "cluster_annotation_term_label", "names a term that cluster_annotation_term.csv does not contain", label
            )
        if abbreviation and abbreviation not in identifiers:
            read.problem("abbreviation_term", f"is not in {config.terms}.csv", abbreviation)
        for curie, iri in identifiers.get(abbreviation, ()):
            mappings.append(
                TermMapping(
                    label,
                    config.predicate,
                    ExternalNode(iri, curie),
                    "ManualMappingCuration",
                    links.path,
                    f"abbreviation {abbreviation}",
                )
            )
    if problems:
        raise InputError(problems)
    return mappings


def _identifiers(table: Table, columns: tuple[str, ...], problems: list[Problem]) -> dict[str, list[tuple[str, str]]]:
    identifiers: dict[str, list[tuple[str, str]]] = {}
    for number, row in table.numbered():
        read = RowReader(table, number, row, problems)
        found = identifiers.setdefault(read.required("abbreviation_term"), [])
        for column in columns:
            curie = read.text(column)
            if curie is None:
                continue
            iri = expand_curie(curie)
            if iri is None:
                read.problem(
                    column, "is not a CURIE with a known prefix (CL, UBERON, DHBA, MBA, ENSEMBL, NCBIGene)", curie
                )
            else:
                found.append((curie, iri))
    return identifiers


def with_species_from_names(taxonomy: Taxonomy, spec: TaxonomySpec) -> Taxonomy:
    """Give each term whose name starts with "<prefix>-" the species the registry declares for that prefix."""
    prefixes = dict(spec.species_by_name_prefix)
    if prefixes:
        taxonomy.terms = [
            replace(term, species=prefixes.get(term.name.split("-", 1)[0]) if "-" in term.name else None)
            for term in taxonomy.terms
        ]
    return taxonomy


def _shared_alias_links(spec: TaxonomySpec, taxonomy: Taxonomy, other: OtherTaxonomy) -> list[TermMapping]:
    found: list[TermMapping] = []
    for link in spec.links:
        try:
            linked = other(link.other)
        except (UsageError, FetchError) as err:
            log.warning("no %s links from %s: %s", link.kind, spec.id, err)
            continue
        found += LINKS[link.kind](taxonomy, linked)
    return found


def run_steps(spec: TaxonomySpec, tables: ReleaseTables, taxonomy: Taxonomy, other: OtherTaxonomy) -> Taxonomy:
    """Run the enrichment steps the registry switches on for this taxonomy, each once, in the declared order."""
    for step in spec.enrich:  # registry.ENRICHMENT_STEPS names exactly these three
        if step == "species-from-names":
            taxonomy = with_species_from_names(taxonomy, spec)
        elif step == "abbreviation-mappings":
            taxonomy.mappings.extend(abbreviation_mappings(spec, tables, taxonomy))
        elif step == "shared-alias-links":
            taxonomy.mappings.extend(_shared_alias_links(spec, taxonomy, other))
    return taxonomy
