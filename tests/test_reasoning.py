"""The exports stay true under reasoning: with the ontology and the outside axioms (RO, SKOS) a user's store holds,
each release graph conforms under no entailment and under RDFS, and an OWL 2 RL closure of everything together is
consistent and types no outside class (CL, UBERON, DHBA, Ensembl, NCBITaxon) as an organism or a skos:Concept.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from conftest import FIXTURES, run
from rdflib.namespace import OWL, RDF, SKOS

from abc_atlas_kg.resources import ontology_dir
from abc_atlas_kg.validate.run import shapes_graph

pytestmark = pytest.mark.slow  # RDFS/OWL reasoning over every export

EXTERNAL = FIXTURES / "reasoning" / "external-terms.ttl"
TAXONOMIES = ("WMB-taxonomy", "WMB-taxonomy-CCN20230504", "Zeng-Aging-Mouse", "HMBA-BG-taxonomy", "WHB-taxonomy")
OUTSIDE = ("http://purl.obolibrary.org/obo/CL_", "http://purl.obolibrary.org/obo/UBERON_", "DHBA_", "ensembl",
           "ncbigene", "http://purl.obolibrary.org/obo/NCBITaxon_")  # fmt: skip
ORGANISM = (rdflib.URIRef("http://purl.obolibrary.org/obo/NCBITaxon_33208"),
            rdflib.URIRef("http://purl.obolibrary.org/obo/CARO_0001010"))  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> rdflib.Dataset:
    """Every fixture taxonomy's release and mappings graphs, plus the bundled sample, as one rdflib Dataset."""
    out = tmp_path_factory.mktemp("reasoning")
    for taxonomy_id in TAXONOMIES:
        result = run("export", taxonomy_id, "--source", FIXTURES / "atlas", "--out", out, "--format", "nq")
        assert result.exit_code == 0, result.stderr
    result = run("export", "WMB-taxonomy", "--out", out / "sample", "--format", "nq")
    assert result.exit_code == 0, result.stderr
    data = rdflib.Dataset()
    for path in sorted(Path(out).rglob("*.nq")):
        data.parse(path, format="nquads")
    return data


def background() -> rdflib.Graph:
    graph = rdflib.Graph().parse(ontology_dir() / "abc-atlas-kg.ttl")
    return graph.parse(EXTERNAL)


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_each_graph_conforms_with_the_ontology_and_outside_axioms(dataset: rdflib.Dataset, inference: str) -> None:
    import pyshacl

    graphs = [g for g in dataset.graphs() if g.identifier != rdflib.URIRef("urn:x-rdflib:default") and len(g)]
    assert len(graphs) >= 9  # six release graphs, three mappings graphs
    for graph in graphs:
        data = rdflib.Graph()
        for triple in graph:
            data.add(triple)
        conforms, _, text = pyshacl.validate(
            data, shacl_graph=shapes_graph(), ont_graph=background(), inference=inference, advanced=True
        )
        assert conforms, f"{graph.identifier} ({inference}):\n{text}"


def test_owl_rl_closure_is_consistent_and_types_no_outside_class(dataset: rdflib.Dataset) -> None:
    import owlrl

    union = background()
    for quad in dataset.quads():
        union.add(quad[:3])
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(union)
    assert not list(union.subjects(RDF.type, OWL.Nothing))
    # owlrl re-checks xsd:double lexical forms after rdflib has turned them into Python floats ("INF" -> 'inf',
    # "0.0"), and flags its own rendering; those messages are about owlrl, not the data, and are set aside.
    errors = [
        o
        for o in union.objects(None, rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#error"))
        if not ("Lexical value" in str(o) and "XMLSchema#double" in str(o))
    ]
    assert not errors, errors[:5]
    for subject, _, cls in union.triples((None, RDF.type, None)):
        if any(part in str(subject) for part in OUTSIDE):
            assert cls not in ORGANISM and cls != SKOS.Concept, (subject, cls)
    # the aging clusters keep one parent scheme: no skos:broader into WMB is entailed from the mappings
    aging = "https://purl.brain-bican.org/taxonomy/CS20241021/"
    wmb = "https://purl.brain-bican.org/taxonomy/CCN20230722/"
    crossing = [
        (s, o) for s, o in union.subject_objects(SKOS.broader) if str(s).startswith(aging) and str(o).startswith(wmb)
    ]
    assert not crossing
    # and the taxonomy is no organism
    taxonomy = rdflib.URIRef("https://purl.brain-bican.org/taxonomy/CCN20230722")
    assert not any((taxonomy, RDF.type, cls) in union for cls in ORGANISM)
