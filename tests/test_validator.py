"""The SPARQL-compiled validator keeps pyshacl's word: the same set of results on every graph, or a clear refusal.

Both engines run on: every breaking case of tests/test_shapes.py (every shape of shapes/taxonomy.ttl broken at
least once), hypothesis-made corruptions of real fixture exports, and a corpus of small shapes + data of our own
for the SHACL constructs the project's shapes do not use yet. Results compare on focus node, path, value,
severity, source shape, constraint component, and message wherever the shapes write one.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import COMPLETE, FIXTURES, SAMPLE, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_shapes import CASES, EXTRA_CASES, broken

from abc_atlas_kg.validate.run import Report, validate
from abc_atlas_kg.validate.shapes import ShapesGraph, UnsupportedShape

XSD = "http://www.w3.org/2001/XMLSchema#"


def same_results(data: list[ox.Quad] | ox.Store, shapes: ShapesGraph | None = None) -> Report:
    """Run both engines; assert they agree result for result; return the SPARQL engine's report."""
    fast = validate(data, shapes, engine="sparql")
    reference = validate(data, shapes, engine="pyshacl")
    fast_keys, reference_keys = {v.key() for v in fast.violations}, {v.key() for v in reference.violations}
    assert fast_keys == reference_keys, (
        f"only sparql: {sorted(fast_keys - reference_keys, key=str)}\n"
        f"only pyshacl: {sorted(reference_keys - fast_keys, key=str)}"
    )
    assert fast.conforms == reference.conforms
    return fast


def exported(out: Path, *args: str | Path) -> dict[str, list[ox.Quad]]:
    result = run("export", *args, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    return {p.stem: list(ox.parse(path=str(p), format=ox.RdfFormat.N_TRIPLES)) for p in sorted(out.glob("**/*.nt"))}


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> list[ox.Quad]:
    [quads] = exported(tmp_path_factory.mktemp("complete"), "WMB-taxonomy", "--source", COMPLETE).values()
    return quads


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[ox.Quad]]:
    return exported(tmp_path_factory.mktemp("atlas"), "--all", "--source", FIXTURES / "atlas")


# ------------------------------------------------------------------------------------------------ conforming


def test_the_sample_export_conforms_in_both_engines(tmp_path: Path) -> None:
    [quads] = exported(tmp_path, "WMB-taxonomy", "--source", SAMPLE).values()
    assert same_results(quads).conforms


def test_every_atlas_fixture_export_conforms_in_both_engines(atlas: dict[str, list[ox.Quad]]) -> None:
    assert len(atlas) >= 7
    for stem, quads in atlas.items():
        report = same_results(quads)
        assert report.conforms, f"{stem}: {report.text()}"


# ------------------------------------------------------------------------------------------------ broken exports


@pytest.mark.parametrize("update", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_both_engines_agree_on_each_broken_shape(complete: list[ox.Quad], update: str) -> None:
    assert not same_results(broken(complete, update)).conforms


@pytest.mark.parametrize(("taxonomy_id", "update"), [c[1:3] for c in EXTRA_CASES], ids=[c[0] for c in EXTRA_CASES])
def test_both_engines_agree_on_mappings_statistics_and_species(
    atlas: dict[str, list[ox.Quad]], taxonomy_id: str, update: str
) -> None:
    stem = {"Zeng-Aging-Mouse": "CS20241021", "HMBA-BG-taxonomy": "CCN20250428"}[taxonomy_id]
    quads = atlas[stem] + atlas.get(f"{stem}.mappings", [])
    assert not same_results(broken(quads, update)).conforms


JUNK = [
    ox.Literal("-1", datatype=ox.NamedNode(XSD + "integer")),
    ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal")),
    ox.Literal("2.5", datatype=ox.NamedNode(XSD + "double")),
    ox.Literal("red"),
    ox.Literal("#12345"),
    ox.Literal("rot", language="de"),
    ox.Literal(""),
    ox.NamedNode("urn:junk"),
    ox.NamedNode("http://purl.obolibrary.org/obo/NCBITaxon_9606"),
]


@st.composite
def corruptions(draw: st.DrawFn, quads: list[ox.Quad]) -> list[ox.Quad]:
    """A graph with 1-4 random edits: triples dropped, objects swapped, triples added from the graph's own terms."""
    quads = list(quads)
    subjects = sorted({q.subject for q in quads}, key=str)
    predicates = sorted({q.predicate for q in quads}, key=str)
    objects = sorted({q.object for q in quads}, key=str) + JUNK
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "swap", "add"]))
        if kind == "add":
            quads.append(
                ox.Quad(
                    draw(st.sampled_from(subjects)), draw(st.sampled_from(predicates)), draw(st.sampled_from(objects))
                )
            )
            continue
        index = draw(st.integers(0, len(quads) - 1))
        old = quads.pop(index)
        if kind == "swap":
            quads.append(ox.Quad(old.subject, old.predicate, draw(st.sampled_from(objects))))
    return quads


@pytest.mark.parametrize("stem", ["CCN20230722", "CS20241021", "CCN20250428", "CCN20251031"])
def test_both_engines_agree_on_random_corruptions(atlas: dict[str, list[ox.Quad]], stem: str) -> None:
    base = atlas[stem] + atlas.get(f"{stem}.mappings", [])

    @settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(corruptions(base))
    def check(quads: list[ox.Quad]) -> None:
        same_results(quads)

    check()


# ------------------------------------------------------------------------------------------------ own corpus

PREFIXES = """
@prefix ex: <http://example.org/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

DATA = """
ex:Sub rdfs:subClassOf ex:Thing .
ex:a a ex:Thing ; ex:name "alpha" , "beta"@en ; ex:size 5 ; ex:score "0.5"^^xsd:double ; ex:kind ex:Red ;
    ex:next ex:b ; ex:code "AB-12" ; ex:when "2024-01-01"^^xsd:date ; ex:flag true .
ex:b a ex:Sub ; ex:name "b" ; ex:size -2 ; ex:score "high"^^xsd:double ; ex:kind ex:Blue , ex:Green ;
    ex:next ex:c , ex:a ; ex:code "ab-1" ; ex:when "not a date"^^xsd:date ; ex:flag "1"^^xsd:integer .
ex:c ex:name 7 ; ex:size "12" ; ex:next [ ex:name "anon" ] ; ex:code ex:iri ; ex:part ex:a , ex:b .
ex:d a ex:Thing , ex:Other ; ex:size 100 ; ex:part ex:c .
"""

# (id, shapes) over DATA; every corpus case must compile, and both engines must agree
CORPUS = [
    (
        "class target, counts",
        "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:maxCount 1 ] .",
    ),
    (
        "subclass instances and messages",
        'ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:size ; sh:minInclusive 0 ; sh:maxExclusive 50 ; sh:message "size out of range"@en .',
    ),
    (
        "datatypes, well-formedness",
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:name ; sh:property [ sh:path ex:score ; sh:datatype xsd:double ] , [ sh:path ex:when ; sh:datatype xsd:date ] , [ sh:path ex:flag ; sh:datatype xsd:boolean ] , [ sh:path ex:size ; sh:datatype xsd:integer ] , [ sh:path ex:name ; sh:datatype xsd:string ] .",
    ),
    (
        "langString and rdfs:Literal",
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:name ; sh:property [ sh:path ex:name ; sh:datatype rdf:langString ] , [ sh:path ex:code ; sh:datatype rdfs:Literal ] .",
    ),
    (
        "targetNode, node kinds",
        "ex:S a sh:NodeShape ; sh:targetNode ex:a , ex:c , ex:nowhere ; sh:property [ sh:path ex:code ; sh:nodeKind sh:Literal ] , [ sh:path ex:next ; sh:nodeKind sh:IRI ] , [ sh:path ex:name ; sh:nodeKind sh:BlankNodeOrIRI ] .",
    ),
    (
        "targetObjectsOf, class",
        "ex:S a sh:NodeShape ; sh:targetObjectsOf ex:next ; sh:class ex:Thing ; sh:severity sh:Warning .",
    ),
    (
        "in, hasValue",
        "ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:kind ; sh:in ( ex:Red ex:Blue ) ; sh:hasValue ex:Blue .",
    ),
    (
        "pattern with flags, lengths",
        'ex:S a sh:PropertyShape ; sh:targetSubjectsOf ex:code ; sh:path ex:code ; sh:pattern "^[a-z]+-[0-9]+$" ; sh:flags "i" ; sh:minLength 4 ; sh:maxLength 5 .',
    ),
    (
        "inverse and sequence paths",
        "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path [ sh:inversePath ex:next ] ; sh:minCount 1 ; sh:maxCount 1 ] , [ sh:path ( ex:next ex:name ) ; sh:maxCount 1 ; sh:datatype xsd:string ] .",
    ),
    (
        "alternative and transitive paths",
        "ex:S a sh:NodeShape ; sh:targetNode ex:d ; sh:property [ sh:path [ sh:oneOrMorePath ex:part ] ; sh:class ex:Thing ] , [ sh:path [ sh:alternativePath ( ex:part ex:next ) ] ; sh:maxCount 2 ] .",
    ),
    (
        "sh:node",
        "ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] . ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:next ; sh:node ex:Named ] .",
    ),
    (
        "qualified value shape",
        "ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:kind ; sh:qualifiedValueShape [ sh:in ( ex:Blue ex:Green ) ] ; sh:qualifiedMinCount 1 ; sh:qualifiedMaxCount 1 .",
    ),
    (
        "nested property shapes",
        "ex:S a sh:PropertyShape ; sh:targetNode ex:d ; sh:path ex:part ; sh:property [ sh:path ex:size ; sh:minCount 1 ; sh:datatype xsd:integer ] .",
    ),
    (
        "implicit class target, deactivated",
        "ex:Thing a rdfs:Class , sh:NodeShape ; sh:property [ sh:path ex:size ; sh:maxInclusive 10 ] , [ sh:path ex:name ; sh:minCount 5 ; sh:deactivated true ] .",
    ),
    (
        "SPARQL target and constraint",
        """ex:S a sh:NodeShape ;
        sh:target [ a sh:SPARQLTarget ; sh:prefixes ex: ; sh:select "SELECT ?this WHERE { ?this ex:next ?n . ?n ex:next ?m }" ] ;
        sh:sparql [ sh:prefixes ex: ; sh:message "{$this} points at {?value}" ;
                    sh:select "SELECT $this ?value WHERE { $this ex:next ?value . FILTER NOT EXISTS { ?value a ex:Thing } }" ] .
        ex: sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] .""",
    ),
    (
        "SPARQL constraint with $PATH on a property shape",
        """ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:size ; sh:message "too big" ;
        sh:sparql [ sh:select "SELECT $this ?value WHERE { $this $PATH ?value . FILTER(?value > 4) }" ] .""",
    ),
    (
        "SPARQL constraint on the whole file",
        """ex:File a sh:NodeShape ; sh:targetNode ex:a ;
        sh:sparql [ sh:message "no ex:Missing in the file" ; sh:select "SELECT $this WHERE { FILTER NOT EXISTS { ?x a <http://example.org/Missing> } }" ] .""",
    ),
]


def shapes_of(text: str) -> ShapesGraph:
    store = ox.Store()
    store.load(input=PREFIXES + text, format=ox.RdfFormat.TURTLE)
    return ShapesGraph(store)


@pytest.fixture(scope="module")
def corpus_data() -> list[ox.Quad]:
    return list(ox.parse(input=PREFIXES + DATA, format=ox.RdfFormat.TURTLE))


@pytest.mark.parametrize("shapes", [c[1] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_both_engines_agree_on_each_construct(corpus_data: list[ox.Quad], shapes: str) -> None:
    report = same_results(corpus_data, shapes_of(shapes))
    assert report.violations, "each corpus case is written to find something"


def test_results_are_complete(corpus_data: list[ox.Quad]) -> None:
    found = validate(corpus_data, shapes_of(CORPUS[1][1])).violations
    assert [v.focus for v in found] == ["http://example.org/b", "http://example.org/d"]
    result = found[0]
    assert result.focus == "http://example.org/b"
    assert result.path == "http://example.org/size"
    assert result.value_term == '"-2"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert (result.severity, result.component) == ("Violation", "MinInclusiveConstraintComponent")
    assert (result.source_shape, result.message) == ("http://example.org/S", "size out of range")


@pytest.mark.parametrize(
    ("shapes", "construct"),
    [
        ("ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:or ( [ sh:class ex:A ] [ sh:class ex:B ] ) .", "sh:or"),
        ("ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:closed true .", "sh:closed"),
        ("ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:a ; sh:equals ex:b .", "sh:equals"),
        ("ex:S a sh:PropertyShape ; sh:targetClass ex:Thing ; sh:path ex:a ; sh:uniqueLang true .", "sh:uniqueLang"),
        ("ex:S a sh:NodeShape ; sh:target [ a ex:CustomTarget ] .", "sh:SPARQLTarget"),
        (
            "ex:S a sh:PropertyShape ; sh:targetClass ex:T ; sh:path ex:a ; sh:qualifiedValueShape [ sh:class ex:A ] ;"
            " sh:qualifiedMinCount 1 ; sh:qualifiedValueShapesDisjoint true .",
            "qualifiedValueShapesDisjoint",
        ),
    ],
)
def test_constructs_it_cannot_compile_are_refused_by_name(
    corpus_data: list[ox.Quad], shapes: str, construct: str
) -> None:
    with pytest.raises(UnsupportedShape, match=r"shape http://example.org/S: cannot compile .*" + construct):
        validate(corpus_data, shapes_of(shapes))


def test_the_pyshacl_engine_takes_any_shapes(corpus_data: list[ox.Quad]) -> None:
    shapes = shapes_of(
        "ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:or ( [ sh:class ex:Sub ] [ sh:class ex:Other ] ) ."
    )
    report = validate(corpus_data, shapes, engine="pyshacl")
    assert [v.focus for v in report.violations] == ["http://example.org/a"]
    assert report.violations[0].component == "OrConstraintComponent"


def test_an_unknown_engine_is_a_clear_error(corpus_data: list[ox.Quad]) -> None:
    with pytest.raises(ValueError, match="unknown validation engine 'jena'"):
        validate(corpus_data, engine="jena")
