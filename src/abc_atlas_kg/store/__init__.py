"""Sinks for what `build` produced: triple stores (embedded Oxigraph or any Graph Store Protocol server).

This package never imports the pipeline: `load` takes `Document`-shaped objects (stem, triples, graph) and
RDF files. Modules, from the bottom up: `binding` (SPARQL text: parameters, prefixes, dataset), `results`
(materialised results and their rendering), `named` (the named-query library), `inputs` (documents and files,
and which graph each goes to), `embedded` and `endpoint` (the two kinds of store), `target` (open one, load into
it), `info` (what an export or a store holds).
"""

from __future__ import annotations

from .binding import bind, with_prefixes
from .embedded import EmbeddedStore, default_store_dir, serve_command, serve_lock
from .endpoint import (
    Credentials,
    GraphStoreEndpoint,
    credentials_from_env,
    default_query_url,
)
from .info import info, render_json, render_table
from .inputs import RDF_FILE_SUFFIXES
from .results import Style, render
from .target import ONTOLOGY_GRAPH, SHAPES_GRAPH, LoadSummary, Target, load, open_target

__all__ = [
    "ONTOLOGY_GRAPH",
    "RDF_FILE_SUFFIXES",
    "SHAPES_GRAPH",
    "Credentials",
    "EmbeddedStore",
    "GraphStoreEndpoint",
    "LoadSummary",
    "Style",
    "Target",
    "bind",
    "credentials_from_env",
    "default_query_url",
    "default_store_dir",
    "info",
    "load",
    "open_target",
    "render",
    "render_json",
    "render_table",
    "serve_command",
    "serve_lock",
    "with_prefixes",
]
