"""Names the registry may use, mapped to the code that implements them as "module:attribute" strings.

rdflib's plugin habit: the table is plain data, so validating a registry file (or listing the names in an error
message) imports nothing; the implementation is imported only when a name is used. A new adapter, link kind,
enrichment step, reader or layer is a new function or module plus one line here. Module paths are relative to the
`abc_atlas_kg` package.
"""

from __future__ import annotations

import importlib
from typing import Any

# Adapters, for a taxonomy whose tables are not of the ABC annotation form: name → builder(spec, tables) -> Taxonomy.
# Every other taxonomy is built by `model.normalise:build`.
ADAPTERS: dict[str, str] = {
    "aging": "model.adapters:build_aging",
}

# Cross-taxonomy links computed at export time (`links = [{kind, with}]`): kind → function(taxonomy, linked) ->
# list[TermMapping].
LINK_KINDS: dict[str, str] = {
    "shared-cluster-alias": "model.links:shared_cluster_alias",
}

# Enrichment steps (`enrich`), run once per export in the declared order: name → function(spec, tables, taxonomy,
# other) -> Taxonomy, where other(taxonomy_id) gives a linked taxonomy's model.
ENRICHMENT_STEPS: dict[str, str] = {
    "species-from-names": "model.links:species_from_names",
    "abbreviation-mappings": "model.links:add_abbreviation_mappings",
    "shared-alias-links": "model.links:add_shared_alias_links",
}

# Integration layers: name → (model function, convert function). See model/layers.py for the interface.
LAYERS: dict[str, tuple[str, str]] = {
    "celltypes": ("model.celltypes:link", "convert.celltypes:convert"),
}

# Readers of integration source files: name → function(path) returning the parsed source.
# The modules named here are written by the layer that first needs them; a name only has to exist to validate.
READERS: dict[str, str] = {
    "tsv": "source.integration.readers.tsv:read",
    "pcl-mapping": "source.integration.readers.pcl_mapping:read",
    "cl-component": "source.integration.readers.cl_component:read",
    "tdt-annotation": "source.integration.readers.tsv:read",
    "cas-json": "source.integration.readers.cas_json:read",
    "whbo-class-base": "source.integration.readers.tsv:read",
    "whbo-markers": "source.integration.readers.tsv:read",
    "whbo-region-map": "source.integration.readers.tsv:read",
    "abc-cluster-sheet": "source.integration.readers.xlsx:read",
    "mbao-obo": "source.integration.readers.obo:read",
    "mbao-uberon-template": "source.integration.readers.tsv:read",
    "gene-lookup": "source.integration.readers.gene_lookup:read",
}


def load(reference: str) -> Any:
    """The object a "module:attribute" reference names, imported now."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(f"abc_atlas_kg.{module}"), attribute)
