"""The vocabulary, JSON-LD context and shapes agree with each other and with what exports use."""

from __future__ import annotations

import rdflib
from conftest import Export
from rdflib.namespace import OWL, RDF, RDFS

from abc_atlas_kg.files import write
from abc_atlas_kg.rdf import vocab
from abc_atlas_kg.resources import ontology_dir, shapes_dir

AKG = rdflib.Namespace(vocab.AKG)
DEFINITION = rdflib.URIRef("http://purl.obolibrary.org/obo/IAO_0000115")


def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_dir() / "abc-atlas-kg.ttl")


def test_every_class_and_property_has_a_label_and_a_definition() -> None:
    graph = ontology()
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    declared = {s for kind in kinds for s in graph.subjects(RDF.type, kind) if str(s).startswith(vocab.AKG)}
    assert len(declared) >= 14
    for term in declared:
        assert len(list(graph.objects(term, RDFS.label))) == 1, term
        assert len(list(graph.objects(term, DEFINITION))) == 1, term


def test_every_akg_term_in_an_export_is_declared(complete_export: Export) -> None:
    declared = set(ontology().subjects())
    used = set()
    for quad in complete_export.store("nt"):
        used.add(quad.predicate.value)
        if quad.predicate.value == str(RDF.type):
            used.add(quad.object.value)
    missing = {u for u in used if u.startswith(vocab.AKG) and rdflib.URIRef(u) not in declared}
    assert not missing


def test_vocab_module_names_only_declared_terms() -> None:
    declared = set(ontology().subjects())
    for name, value in vars(vocab.AkgTerm).items():
        if not name.startswith("_"):
            assert rdflib.URIRef(value.value) in declared, name


def test_context_terms_expand_to_declared_or_established_iris() -> None:
    context = write.jsonld_context()["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
    assert prefixes == vocab.PREFIXES
    declared = set(ontology().subjects())
    for term, definition in context.items():
        if term.startswith("@") or term in prefixes:
            continue
        curie = definition if isinstance(definition, str) else definition["@id"]
        prefix, local = curie.split(":")
        iri = prefixes[prefix] + local
        if prefix == "akg":
            assert rdflib.URIRef(iri) in declared, term


def test_shapes_only_constrain_declared_akg_terms() -> None:
    shapes = rdflib.Graph()
    for path in shapes_dir().glob("*.ttl"):
        shapes.parse(path)
    declared = set(ontology().subjects())
    referenced = {o for o in shapes.objects() if isinstance(o, rdflib.URIRef) and str(o).startswith(vocab.AKG)}
    assert referenced and referenced <= declared
