"""The straightforward pipeline that abc-kg is measured against: plain rdflib end to end.

Same reading, model and triples as abc-kg (so the outputs must be isomorphic), then what a first version would
do: one rdflib Graph, pyshacl on the whole graph with the shapes as published, and `Graph.serialize` per format.
"""

from __future__ import annotations

import json
from pathlib import Path

import rdflib
from pyshacl import validate as shacl_validate

from abc_atlas_kg.build import load_taxonomy
from abc_atlas_kg.convert import release as convert
from abc_atlas_kg.defaults import DEFAULT_BASE_IRI
from abc_atlas_kg.resources import ontology_dir
from abc_atlas_kg.validate.run import shapes_graph, to_rdflib_term


def build_graph(taxonomy_id: str, root: Path) -> tuple[rdflib.Graph, rdflib.URIRef, str]:
    taxonomy = load_taxonomy(taxonomy_id, root)
    graph = rdflib.Graph()
    for t in convert.triples(taxonomy, DEFAULT_BASE_IRI):
        graph.add((to_rdflib_term(t.subject), to_rdflib_term(t.predicate), to_rdflib_term(t.object)))
    name = convert.Iris(DEFAULT_BASE_IRI, taxonomy.accession, taxonomy.release).graph.value
    return graph, rdflib.URIRef(name), f"{taxonomy.id}/{taxonomy.release}/{taxonomy.accession}"


def check(graph: rdflib.Graph) -> bool:
    conforms, _, _ = shacl_validate(graph, shacl_graph=shapes_graph(), inference="none", advanced=True)
    return bool(conforms)


def serialize(graph: rdflib.Graph, name: rdflib.URIRef, out: Path, fmt: str) -> Path:
    path = out.with_suffix(f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "ttl":
        graph.serialize(path, format="turtle")
    elif fmt == "nt":
        graph.serialize(path, format="nt")
    elif fmt == "jsonld":
        context = json.loads((ontology_dir() / "context.jsonld").read_text())["@context"]
        graph.serialize(path, format="json-ld", context=context)
    elif fmt == "nq":
        dataset = rdflib.Dataset()
        named = dataset.graph(name)
        for triple in graph:
            named.add(triple)
        dataset.serialize(path, format="nquads")
    return path


def export(
    taxonomy_id: str, root: Path, out: Path, formats: tuple[str, ...] = ("ttl", "jsonld", "nt", "nq")
) -> list[Path]:
    graph, name, stem = build_graph(taxonomy_id, root)
    if not check(graph):
        raise SystemExit(f"baseline: {taxonomy_id} does not conform")
    return [serialize(graph, name, out / stem, fmt) for fmt in formats]
