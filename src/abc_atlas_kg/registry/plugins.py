"""Names the registry may use, mapped to the code that implements them as "module:attribute" strings.

rdflib's plugin habit: the table is plain data, so validating a registry file (or listing the names in an error
message) imports nothing; the implementation is imported only when a name is used. A new reader or layer is a
new module plus one line here. Module paths are relative to the `abc_atlas_kg` package.
"""

from __future__ import annotations

import importlib
from typing import Any

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
