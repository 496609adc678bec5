"""Every SHACL constraint rejects a graph that breaks it, and accepts the unbroken export.

Each case starts from the complete fixture's export, breaks one thing with a SPARQL UPDATE, and expects pyshacl
(through abc_atlas_kg.validate.run) to report it at the right focus node and path.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox
import pytest
from conftest import COMPLETE_RELEASE, PREFIXES, Export

from abc_atlas_kg.validate.run import validate

T = "https://purl.brain-bican.org/taxonomy/CCN20230722/"
TAXONOMY = "https://purl.brain-bican.org/taxonomy/CCN20230722"
KG = "https://w3id.org/abc-atlas-kg/"
CLUSTER_MD5 = hashlib.md5((COMPLETE_RELEASE / "cluster.csv").read_bytes()).hexdigest()
CLUSTER = f"{KG}cluster/CCN20230722/128"
RELEASE = f"{KG}release/CCN20230722/20231215"
GRAPH = f"{KG}graph/CCN20230722/20231215"
ACTIVITY = f"{GRAPH}/export"
BUCKET = "https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PARENT = "https://w3id.org/abc-atlas-kg/vocab/parent"
AKG = "https://w3id.org/abc-atlas-kg/vocab/"

# (case id, SPARQL update, focus node, result path or None, fragment of the message)
CASES = [
    (
        "no label",
        f"DELETE WHERE {{ <{T}CS20230722_CLAS_01> rdfs:label ?x }}",
        "CS20230722_CLAS_01",
        RDFS_LABEL,
        "exactly one rdfs:label",
    ),
    (
        "two labels",
        f'INSERT DATA {{ <{T}CS20230722_CLAS_01> rdfs:label "other" }}',
        "CS20230722_CLAS_01",
        RDFS_LABEL,
        "exactly one rdfs:label",
    ),
    (
        "label not a string",
        f"DELETE WHERE {{ <{T}CS20230722_CLAS_01> rdfs:label ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_01> rdfs:label 1 }}",
        "CS20230722_CLAS_01",
        RDFS_LABEL,
        "plain string",
    ),
    (
        "no prefLabel",
        f"DELETE WHERE {{ <{T}CS20230722_CLAS_01> skos:prefLabel ?x }}",
        "CS20230722_CLAS_01",
        "http://www.w3.org/2004/02/skos/core#prefLabel",
        "skos:prefLabel",
    ),
    (
        "no notation",
        f"DELETE WHERE {{ <{T}CS20230722_SUBC_001> skos:notation ?x }}",
        "CS20230722_SUBC_001",
        "http://www.w3.org/2004/02/skos/core#notation",
        "notation",
    ),
    (
        "two notations",
        f'INSERT DATA {{ <{T}CS20230722_SUBC_001> skos:notation "X" }}',
        "CS20230722_SUBC_001",
        "http://www.w3.org/2004/02/skos/core#notation",
        "notation",
    ),
    (
        "no level",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> akg:level ?x }}",
        "CS20230722_SUPT_0001",
        f"{AKG}level",
        "exactly one level",
    ),
    (
        "two levels",
        f"INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:level <{T}CCN20230722_CLUS> }}",
        "CS20230722_SUPT_0001",
        f"{AKG}level",
        "exactly one level",
    ),
    (
        "level not a Level",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> akg:level ?x }} ; INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:level <{T}CS20230722_CLAS_01> }}",
        "CS20230722_SUPT_0001",
        f"{AKG}level",
        "akg:Level",
    ),
    (
        "not in a taxonomy",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> skos:inScheme ?x }}",
        "CS20230722_SUPT_0001",
        "http://www.w3.org/2004/02/skos/core#inScheme",
        "exactly one taxonomy",
    ),
    (
        "two parents",
        f"INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:parent <{T}CS20230722_SUBC_337> }}",
        "CS20230722_SUPT_0001",
        PARENT,
        "at most one parent",
    ),
    (
        "parent not a cell set",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> akg:parent ?x }} ; INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:parent <{T}CCN20230722_SUBC> }}",
        "CS20230722_SUPT_0001",
        PARENT,
        "itself a cell set",
    ),
    (
        "parent is its own child",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> akg:parent ?x }} ; INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:parent <{T}CS20230722_CLUS_0001> }}",
        "CS20230722_SUPT_0001",
        PARENT,
        "level directly above",
    ),
    (
        "parent two levels up",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> akg:parent ?x }} ; INSERT DATA {{ <{T}CS20230722_SUPT_0001> akg:parent <{T}CS20230722_CLAS_01> }}",
        "CS20230722_SUPT_0001",
        PARENT,
        "level directly above",
    ),
    (
        "subcluster of its own child",
        f"INSERT DATA {{ <{T}CS20230722_SUPT_0001> obo:RO_0015003 <{T}CS20230722_CLUS_0001> }}",
        "CS20230722_SUPT_0001",
        "http://purl.obolibrary.org/obo/RO_0015003",
        "must name the cell set's parent",
    ),
    (
        "subcluster of a cell set two levels up",
        f"DELETE WHERE {{ <{T}CS20230722_SUPT_0001> obo:RO_0015003 ?x }} ; INSERT DATA {{ <{T}CS20230722_SUPT_0001> obo:RO_0015003 <{T}CS20230722_CLAS_01> }}",
        "CS20230722_SUPT_0001",
        "http://purl.obolibrary.org/obo/RO_0015003",
        "must name the cell set's parent",
    ),
    (
        "broader than a cell set of another branch",
        f"INSERT DATA {{ <{T}CS20230722_SUPT_0001> skos:broader <{T}CS20230722_SUBC_337> }}",
        "CS20230722_SUPT_0001",
        "http://www.w3.org/2004/02/skos/core#broader",
        "must name the cell set's parent",
    ),
    (
        "parent in another taxonomy",
        f"DELETE WHERE {{ <{T}CS20230722_SUBC_001> skos:inScheme ?x }} ; INSERT DATA {{ <{T}CS20230722_SUBC_001> skos:inScheme <https://example.org/other> . <https://example.org/other> a obo:PCL_0010002 }}",
        "CS20230722_SUPT_0001",
        PARENT,
        "same taxonomy",
    ),
    (
        "top-level term with a parent (a cycle)",
        f"INSERT DATA {{ <{T}CS20230722_CLAS_01> akg:parent <{T}CS20230722_SUBC_001> }}",
        "CS20230722_CLAS_01",
        PARENT,
        "level directly above",
    ),
    (
        "facet term with a parent",
        f"INSERT DATA {{ <{T}CS20230722_NEUR_NA> akg:parent <{T}CS20230722_CLAS_34> }}",
        "CS20230722_NEUR_NA",
        PARENT,
        "facet term",
    ),
    (
        "colour too short",
        f'DELETE WHERE {{ <{T}CS20230722_CLAS_34> akg:color ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:color "#825f4" }}',
        "CS20230722_CLAS_34",
        f"{AKG}color",
        "#RRGGBB",
    ),
    (
        "colour by name",
        f'DELETE WHERE {{ <{T}CS20230722_CLAS_34> akg:color ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:color "red" }}',
        "CS20230722_CLAS_34",
        f"{AKG}color",
        "#RRGGBB",
    ),
    (
        "two colours",
        f'INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:color "#000000" }}',
        "CS20230722_CLAS_34",
        f"{AKG}color",
        "#RRGGBB",
    ),
    (
        "negative order",
        f"DELETE WHERE {{ <{T}CS20230722_CLAS_34> akg:order ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:order -1 }}",
        "CS20230722_CLAS_34",
        f"{AKG}order",
        "non-negative",
    ),
    (
        "fractional order",
        f"DELETE WHERE {{ <{T}CS20230722_CLAS_34> akg:order ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:order 1.5 }}",
        "CS20230722_CLAS_34",
        f"{AKG}order",
        "non-negative",
    ),
    (
        "order as text",
        f'DELETE WHERE {{ <{T}CS20230722_CLAS_34> akg:order ?x }} ; INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:order "3" }}',
        "CS20230722_CLAS_34",
        f"{AKG}order",
        "non-negative",
    ),
    (
        "negative cell count on a term",
        f"INSERT DATA {{ <{T}CS20230722_CLAS_34> akg:cellCount -5 }}",
        "CS20230722_CLAS_34",
        f"{AKG}cellCount",
        "non-negative",
    ),
    (
        "level without rank",
        f"DELETE WHERE {{ <{T}CCN20230722_SUBC> akg:rank ?x }}",
        "CCN20230722_SUBC",
        f"{AKG}rank",
        "rank",
    ),
    (
        "level with negative rank",
        f"DELETE WHERE {{ <{T}CCN20230722_SUBC> akg:rank ?x }} ; INSERT DATA {{ <{T}CCN20230722_SUBC> akg:rank -2 }}",
        "CCN20230722_SUBC",
        f"{AKG}rank",
        "rank",
    ),
    (
        "level without label",
        f"DELETE WHERE {{ <{T}CCN20230722_SUBC> rdfs:label ?x }}",
        "CCN20230722_SUBC",
        RDFS_LABEL,
        "level has exactly one rdfs:label",
    ),
    (
        "level without notation",
        f"DELETE WHERE {{ <{T}CCN20230722_SUBC> skos:notation ?x }}",
        "CCN20230722_SUBC",
        "http://www.w3.org/2004/02/skos/core#notation",
        "term set label",
    ),
    (
        "level outside any taxonomy",
        f"DELETE WHERE {{ <{T}CCN20230722_SUBC> dcterms:isPartOf ?x }}",
        "CCN20230722_SUBC",
        "http://purl.org/dc/terms/isPartOf",
        "exactly one taxonomy",
    ),
    (
        "level both facet and hierarchy",
        f"INSERT DATA {{ <{T}CCN20230722_SUBC> a akg:Facet }}",
        "CCN20230722_SUBC",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
        "either a hierarchy level or a facet",
    ),
    (
        "two parent levels",
        f"INSERT DATA {{ <{T}CCN20230722_CLUS> akg:parentLevel <{T}CCN20230722_CLAS> }}",
        "CCN20230722_CLUS",
        f"{AKG}parentLevel",
        "at most one parent level",
    ),
    (
        "facet with a parent level",
        f"INSERT DATA {{ <{T}CCN20230722_NEUR> akg:parentLevel <{T}CCN20230722_CLAS> }}",
        "CCN20230722_NEUR",
        f"{AKG}parentLevel",
        "facet has no parent level",
    ),
    (
        "taxonomy without title",
        f"DELETE WHERE {{ <{TAXONOMY}> dcterms:title ?x }}",
        TAXONOMY,
        "http://purl.org/dc/terms/title",
        "title",
    ),
    (
        "taxonomy without identifier",
        f"DELETE WHERE {{ <{TAXONOMY}> dcterms:identifier ?x }}",
        TAXONOMY,
        "http://purl.org/dc/terms/identifier",
        "CCN accession",
    ),
    (
        "taxonomy without species",
        f"DELETE WHERE {{ <{TAXONOMY}> akg:species ?x }}",
        TAXONOMY,
        f"{AKG}species",
        "NCBITaxon",
    ),
    (
        "species as https PURL",
        f"DELETE WHERE {{ <{TAXONOMY}> akg:species ?x }} ; INSERT DATA {{ <{TAXONOMY}> akg:species <https://purl.obolibrary.org/obo/NCBITaxon_10090> }}",
        TAXONOMY,
        f"{AKG}species",
        "NCBITaxon",
    ),
    (
        "release without version",
        f"DELETE WHERE {{ <{RELEASE}> dcat:version ?x }}",
        RELEASE,
        "http://www.w3.org/ns/dcat#version",
        "dcat:version",
    ),
    (
        "release of two taxonomies",
        f"INSERT DATA {{ <{RELEASE}> dcat:isVersionOf <{T}other> . <{T}other> a obo:PCL_0010002 }}",
        RELEASE,
        "http://www.w3.org/ns/dcat#isVersionOf",
        "exactly one taxonomy",
    ),
    (
        "graph not derived from its release",
        f"DELETE WHERE {{ <{GRAPH}> prov:wasDerivedFrom <{RELEASE}> }}",
        GRAPH,
        "http://www.w3.org/ns/prov#wasDerivedFrom",
        "exactly one taxonomy release",
    ),
    (
        "graph without generating activity",
        f"DELETE WHERE {{ <{GRAPH}> prov:wasGeneratedBy ?x }}",
        GRAPH,
        "http://www.w3.org/ns/prov#wasGeneratedBy",
        "export activity",
    ),
    (
        "unverified file named by its bucket URL",
        f"""DELETE {{ ?f ?p ?o }} INSERT {{ <{BUCKET}x.csv> ?p ?o }} WHERE {{ ?f a akg:SourceFile ; ?p ?o }}""",
        f"{BUCKET}x.csv",
        f"{AKG}verified",
        "must be verified",
    ),
    (
        "source file with a bad MD5",
        f'DELETE {{ ?f akg:md5 ?x }} INSERT {{ ?f akg:md5 "XYZ" }} WHERE {{ ?f akg:md5 ?x ; akg:md5 "{CLUSTER_MD5}" }}',
        f"urn:abc-kg:file:md5:{CLUSTER_MD5}",
        f"{AKG}md5",
        "MD5",
    ),
    (
        "source file without path",
        f"DELETE WHERE {{ <urn:abc-kg:file:md5:{CLUSTER_MD5}> dcterms:identifier ?x }}",
        f"urn:abc-kg:file:md5:{CLUSTER_MD5}",
        "http://purl.org/dc/terms/identifier",
        "path in the ABC bucket",
    ),
    (
        "activity without software",
        f"DELETE WHERE {{ <{ACTIVITY}> prov:wasAssociatedWith ?x }}",
        ACTIVITY,
        "http://www.w3.org/ns/prov#wasAssociatedWith",
        "software",
    ),
    (
        "cluster without alias",
        f"DELETE WHERE {{ <{CLUSTER}> akg:clusterAlias ?x }}",
        CLUSTER,
        f"{AKG}clusterAlias",
        "cluster alias",
    ),
    (
        "cluster with two aliases",
        f'INSERT DATA {{ <{CLUSTER}> akg:clusterAlias "7" }}',
        CLUSTER,
        f"{AKG}clusterAlias",
        "cluster alias",
    ),
    (
        "cluster with a negative count",
        f"DELETE WHERE {{ <{CLUSTER}> akg:cellCount ?x }} ; INSERT DATA {{ <{CLUSTER}> akg:cellCount -1 }}",
        CLUSTER,
        f"{AKG}cellCount",
        "non-negative",
    ),
    (
        "cluster outside any taxonomy",
        f"DELETE WHERE {{ <{CLUSTER}> dcterms:isPartOf ?x }}",
        CLUSTER,
        "http://purl.org/dc/terms/isPartOf",
        "exactly one taxonomy",
    ),
    (
        "cluster member of a level",
        f"INSERT DATA {{ <{CLUSTER}> akg:memberOf <{T}CCN20230722_CLAS> }}",
        CLUSTER,
        f"{AKG}memberOf",
        "cell sets only",
    ),
]


def broken(quads: list[ox.Quad], update: str) -> ox.Store:
    """A store holding `quads` after a SPARQL UPDATE that breaks them."""
    store = ox.Store()
    store.extend(quads)
    store.update(PREFIXES + "PREFIX dcat: <http://www.w3.org/ns/dcat#>\n" + update)
    return store


def assert_rejected(store: ox.Store, focus: str, path: str, message: str) -> None:
    report = validate(store)
    assert not report.conforms
    matching = [v for v in report.violations if v.focus == focus and v.path == path and message in v.message]
    assert matching, f"expected {message!r} at {focus} {path}; got:\n{report.text()}"


@pytest.fixture(scope="module")
def valid_quads(complete_export: Export) -> list[ox.Quad]:
    return list(complete_export.store("nt"))


def test_the_unbroken_export_conforms(valid_quads: list[ox.Quad]) -> None:
    report = validate(valid_quads)
    assert report.conforms, report.text()


@pytest.mark.parametrize(("update", "focus", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_shape_rejects_a_graph_that_breaks_it(
    valid_quads: list[ox.Quad], update: str, focus: str, path: str, message: str
) -> None:
    assert_rejected(
        broken(valid_quads, update), focus if focus.startswith(("http", "urn:")) else T + focus, path, message
    )


A = "https://purl.brain-bican.org/taxonomy/CS20241021/"
H = "https://purl.brain-bican.org/taxonomy/CCN20250428/"
AXIOM = f"{KG}mapping/CS20241021/20241130/CS20241021_0001/broadMatch/CS20230722_SUPT_0001"
OWL = "http://www.w3.org/2002/07/owl#"
AGING_CLUSTER = f"{KG}cluster/CS20241021/1"  # alias 1, the leaf cluster of term CS20241021_0001

# Shapes that only the aging and HMBA-BG exports exercise: mappings, age statistics, per-cluster species.
EXTRA_CASES = [
    (
        "mapping without justification",
        "Zeng-Aging-Mouse",
        f"DELETE WHERE {{ <{AXIOM}> sssom:mapping_justification ?x }}",
        AXIOM,
        "https://w3id.org/sssom/mapping_justification",
        "SSSOM justification",
    ),
    (
        "mapping with an unknown justification",
        "Zeng-Aging-Mouse",
        f"DELETE WHERE {{ <{AXIOM}> sssom:mapping_justification ?x }} ; INSERT DATA {{ <{AXIOM}> sssom:mapping_justification semapv:Guesswork }}",
        AXIOM,
        "https://w3id.org/sssom/mapping_justification",
        "SSSOM justification",
    ),
    (
        "mapping with a non-SKOS predicate",
        "Zeng-Aging-Mouse",
        f"DELETE WHERE {{ <{AXIOM}> owl:annotatedProperty ?x }} ; INSERT DATA {{ <{AXIOM}> owl:annotatedProperty owl:sameAs }}",
        AXIOM,
        f"{OWL}annotatedProperty",
        "SKOS mapping predicate",
    ),
    (
        "mapping with two targets",
        "Zeng-Aging-Mouse",
        f"INSERT DATA {{ <{AXIOM}> owl:annotatedTarget <{T}CS20230722_CLAS_01> }}",
        AXIOM,
        f"{OWL}annotatedTarget",
        "exactly one object",
    ),
    (
        "mapping with a literal target",
        "Zeng-Aging-Mouse",
        f'DELETE WHERE {{ <{AXIOM}> owl:annotatedTarget ?x }} ; INSERT DATA {{ <{AXIOM}> owl:annotatedTarget "CS20230722_SUPT_0001" }}',
        AXIOM,
        f"{OWL}annotatedTarget",
        "an IRI",
    ),
    (
        "mapping without subject",
        "Zeng-Aging-Mouse",
        f"DELETE WHERE {{ <{AXIOM}> owl:annotatedSource ?x }}",
        AXIOM,
        f"{OWL}annotatedSource",
        "exactly one subject",
    ),
    (
        "proportion above one",
        "Zeng-Aging-Mouse",
        f'DELETE WHERE {{ <{AGING_CLUSTER}> akg:agedCellProportion ?x }} ; INSERT DATA {{ <{AGING_CLUSTER}> akg:agedCellProportion "1.5"^^xsd:double }}',
        AGING_CLUSTER,
        f"{AKG}agedCellProportion",
        "between 0 and 1",
    ),
    (
        "negative aged cell count",
        "Zeng-Aging-Mouse",
        f"DELETE WHERE {{ <{AGING_CLUSTER}> akg:agedCellCount ?x }} ; INSERT DATA {{ <{AGING_CLUSTER}> akg:agedCellCount -3 }}",
        AGING_CLUSTER,
        f"{AKG}agedCellCount",
        "non-negative",
    ),
    (
        "odds ratio as text",
        "Zeng-Aging-Mouse",
        f'DELETE WHERE {{ <{AGING_CLUSTER}> akg:agedOddsRatio ?x }} ; INSERT DATA {{ <{AGING_CLUSTER}> akg:agedOddsRatio "high" }}',
        AGING_CLUSTER,
        f"{AKG}agedOddsRatio",
        "xsd:double",
    ),
    (
        "age bias colour by name",
        "Zeng-Aging-Mouse",
        f'DELETE WHERE {{ <{AGING_CLUSTER}> akg:ageBiasColor ?x }} ; INSERT DATA {{ <{AGING_CLUSTER}> akg:ageBiasColor "grey" }}',
        AGING_CLUSTER,
        f"{AKG}ageBiasColor",
        "#RRGGBB",
    ),
    (
        "cluster in two species",
        "HMBA-BG-taxonomy",
        f"INSERT DATA {{ <{H}CS20250428_CLUST_0150> akg:species obo:NCBITaxon_9544 }}",
        f"{H}CS20250428_CLUST_0150",
        f"{AKG}species",
        "at most one species",
    ),
    (
        "cluster species not NCBITaxon",
        "HMBA-BG-taxonomy",
        f"DELETE WHERE {{ <{H}CS20250428_CLUST_0150> akg:species ?x }} ; INSERT DATA {{ <{H}CS20250428_CLUST_0150> akg:species <https://www.ncbi.nlm.nih.gov/Taxonomy/9606> }}",
        f"{H}CS20250428_CLUST_0150",
        f"{AKG}species",
        "NCBITaxon IRI",
    ),
]


@pytest.fixture(scope="module")
def atlas_quads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[ox.Quad]]:
    from conftest import FIXTURES, load_store, run

    out = tmp_path_factory.mktemp("shapes-atlas")
    quads = {}
    for taxonomy_id in ("Zeng-Aging-Mouse", "HMBA-BG-taxonomy"):
        result = run("export", taxonomy_id, "--source", FIXTURES / "atlas", "--out", out, "--format", "nt")
        assert result.exit_code == 0, result.stderr
        # the release graph and its mappings graph, validated together here so one fixture serves both kinds of case
        quads[taxonomy_id] = [q for path in sorted((out / taxonomy_id).glob("*/*.nt")) for q in load_store(path)]
    return quads


@pytest.mark.parametrize("taxonomy_id", ["Zeng-Aging-Mouse", "HMBA-BG-taxonomy"])
def test_the_unbroken_atlas_exports_conform(atlas_quads: dict[str, list[ox.Quad]], taxonomy_id: str) -> None:
    report = validate(atlas_quads[taxonomy_id])
    assert report.conforms, report.text()


@pytest.mark.parametrize(
    ("taxonomy_id", "update", "focus", "path", "message"), [c[1:] for c in EXTRA_CASES], ids=[c[0] for c in EXTRA_CASES]
)
def test_mapping_statistics_and_species_shapes_reject_broken_graphs(
    atlas_quads: dict[str, list[ox.Quad]], taxonomy_id: str, update: str, focus: str, path: str, message: str
) -> None:
    assert_rejected(broken(atlas_quads[taxonomy_id], update), focus, path, message)


def pyshacl_report(quads: list[ox.Quad] | ox.Store) -> tuple[bool, str]:
    """pyshacl straight on the shapes, for the graph-level SPARQL constraint (sh:targetNode + sh:sparql).

    TODO(H5): `validate()` should report it too once the SPARQL-compiling validator supports sh:sparql.
    """
    import pyshacl
    import rdflib

    from abc_atlas_kg.validate.run import shapes_graph, to_rdflib

    data = to_rdflib(list(quads)) if list(quads) else rdflib.Graph()
    conforms, _, text = pyshacl.validate(data, shacl_graph=shapes_graph(), advanced=True)
    return bool(conforms), str(text)


@pytest.mark.parametrize(
    "update",
    [
        "DELETE WHERE { ?s ?p ?o }",
        "DELETE WHERE { ?r a akg:TaxonomyRelease }",
        "DELETE WHERE { ?t a akg:TaxonomyRelease ; ?p ?o }",
    ],
    ids=["empty graph", "no release type", "no release node"],
)
def test_a_graph_without_a_release_is_not_an_export(valid_quads: list[ox.Quad], update: str) -> None:
    conforms, text = pyshacl_report(broken(valid_quads, update))
    assert not conforms
    assert "not an abc-kg export" in text


def test_pyshacl_accepts_the_unbroken_export(valid_quads: list[ox.Quad]) -> None:
    conforms, text = pyshacl_report(valid_quads)
    assert conforms, text
