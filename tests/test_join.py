"""Joining an export with the ontologies users already use: CL and UBERON, loaded as published (RDF/XML, gzipped).

The example "Joining with CL and UBERON" (docs/stores.md) runs in test_readme.py; this checks the same join directly, with
the CL excerpt gzipped, and that the excerpts cover every CL and UBERON id the HMBA-BG fixture references.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ATLAS, FIXTURES, run

ONTOLOGIES = FIXTURES / "ontologies"
HMBA = ATLAS / "metadata" / "HMBA-BG-taxonomy-CCN20250428" / "20250630"
CL_GRAPH = "http://purl.obolibrary.org/obo/cl.owl"
UBERON_GRAPH = "http://purl.obolibrary.org/obo/uberon.owl"
JOIN = """
SELECT DISTINCT ?cluster ?cellType ?structure ?partOf WHERE {
  ?set skos:inScheme <https://purl.brain-bican.org/taxonomy/CCN20250428> ;
       akg:level/rdfs:label "Cluster" ; rdfs:label ?cluster .
  OPTIONAL { ?set skos:broader* ?typed . ?typed akg:cellTypeReference ?type . ?type rdfs:label ?cellType }
  OPTIONAL {
    ?set skos:broader* ?placed . ?placed akg:anatomyReference ?region . ?region rdfs:label ?structure
    OPTIONAL { ?region rdfs:subClassOf [ owl:onProperty obo:BFO_0000050 ; owl:someValuesFrom/rdfs:label ?partOf ] }
  }
} ORDER BY ?cluster
"""
EXPECTED = [
    {"cluster": "Human-128", "cellType": "glutamatergic neuron"},
    {"cluster": "Macaque-490", "structure": "lateral globus pallidus", "partOf": "globus pallidus"},
    {"cluster": "Marmoset-859", "structure": "lateral globus pallidus", "partOf": "globus pallidus"},
]


def query(store: Path, text: str) -> list[dict[str, object]]:
    result = run("query", "--store", store, "--format", "json", text)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded store: HMBA-BG built from the fixture, CL gzipped as `.owl.gz`, UBERON as `.owl`."""
    folder = tmp_path_factory.mktemp("join")
    cl_gz = folder / "cl-excerpt.owl.gz"
    with (ONTOLOGIES / "cl-excerpt.owl").open("rb") as source, gzip.open(cl_gz, "wb") as target:
        shutil.copyfileobj(source, target)
    store = folder / "store"
    result = run(
        "load", "--store", store, "HMBA-BG-taxonomy", "--source", ATLAS, cl_gz, ONTOLOGIES / "uberon-excerpt.owl"
    )
    assert result.exit_code == 0, result.stderr
    return store


def test_ontologies_go_to_their_own_graphs(joined: Path) -> None:
    """Each RDF/XML file lands in the graph its owl:Ontology names, whole, beside the release and mappings graphs."""
    rows = query(joined, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    counts = {row["g"]: row["n"] for row in rows}
    for name, graph in (("cl-excerpt.owl", CL_GRAPH), ("uberon-excerpt.owl", UBERON_GRAPH)):
        parsed = list(ox.parse(path=str(ONTOLOGIES / name), format=ox.RdfFormat.RDF_XML))
        assert counts[graph] == len(parsed), graph
    assert "https://w3id.org/abc-atlas-kg/graph/CCN20250428/20250630/mappings" in counts


def test_cell_types_and_structures_need_both_graphs(joined: Path) -> None:
    """The README's question: the labels come from CL and UBERON, the links from the export's mappings graph."""
    assert query(joined, JOIN) == EXPECTED
    scoped = JOIN.replace("?type rdfs:label ?cellType", f"GRAPH <{CL_GRAPH}> {{ ?type rdfs:label ?cellType }}")
    assert query(joined, scoped) == EXPECTED


def test_without_the_ontologies_the_labels_are_missing(tmp_path: Path) -> None:
    """The labels really come from the ontology graphs: the export alone answers with empty columns."""
    store = tmp_path / "store"
    assert run("load", "--store", store, "HMBA-BG-taxonomy", "--source", ATLAS).exit_code == 0
    assert query(store, JOIN) == [{"cluster": row["cluster"]} for row in EXPECTED]


def test_the_excerpts_cover_every_cl_and_uberon_id_of_the_fixture() -> None:
    """A new CL or UBERON id in the fixture's abbreviation table needs its class (real IRI and label) in an excerpt."""
    labelled: set[str] = set()
    for name in ("cl-excerpt.owl", "uberon-excerpt.owl"):
        for triple in ox.parse(path=str(ONTOLOGIES / name), format=ox.RdfFormat.RDF_XML):
            if triple.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label":
                labelled.add(triple.subject.value)
    with (HMBA / "abbreviation_term.csv").open(encoding="utf-8", newline="") as handle:
        ids = {
            value
            for row in csv.DictReader(handle)
            for value in (row["primary_identifier"], row["secondary_identifier"])
            if value.startswith(("CL:", "UBERON:"))
        }
    assert ids == {"CL:0000127", "CL:0000679", "UBERON:0002476"}
    missing = {i for i in ids if "http://purl.obolibrary.org/obo/" + i.replace(":", "_") not in labelled}
    assert not missing, f"add these classes to tests/fixtures/ontologies: {sorted(missing)}"
