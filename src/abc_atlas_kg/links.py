"""Cross-taxonomy links that abc-kg infers from two taxonomies' tables (declared as `links` in the registry).

Mappings that the ABC Atlas publishes itself (aging → WMB, HMBA-BG abbreviations) are read with their taxonomy;
this module holds the ones computed here, justified as semapv:InstanceBasedMatching so users can tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable

from .model import Mapping, Taxonomy, TaxonomyNode


def leaf_terms_by_alias(taxonomy: Taxonomy) -> dict[str, str]:
    """cluster_alias → the label of the cluster's term at the finest hierarchy level."""
    leaf = taxonomy.leaf_level
    if leaf is None:
        return {}
    at_leaf = {term.label for term in taxonomy.terms if term.level == leaf.label}
    return {m.cluster_alias: m.term for m in taxonomy.memberships if m.term in at_leaf}


def shared_cluster_alias(this: Taxonomy, other: Taxonomy) -> list[Mapping]:
    """Two releases of one taxonomy whose leaf clusters keep their cluster_alias: same alias, same cluster."""
    mine, theirs = leaf_terms_by_alias(this), leaf_terms_by_alias(other)
    return [
        Mapping(
            mine[alias],
            "exactMatch",
            TaxonomyNode(other.accession, theirs[alias]),
            "InstanceBasedMatching",
            comment=f"same cluster_alias {alias} in {this.accession} and {other.accession}",
        )
        for alias in sorted(mine.keys() & theirs.keys(), key=lambda a: (len(a), a))
    ]


LINKS: dict[str, Callable[[Taxonomy, Taxonomy], list[Mapping]]] = {"shared-cluster-alias": shared_cluster_alias}
