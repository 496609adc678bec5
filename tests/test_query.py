"""`abc-kg query`: every named query's answer on the complete fixture, on the embedded store and on real servers.

The embedded store binds parameters with pyoxigraph substitutions, the servers with a VALUES block: the same
expected rows on both check that the two bindings mean the same thing.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
import requests.auth
import servers
from click.testing import CliRunner, Result
from conftest import ATLAS, VIRTUOSO_ENV, Export, load_cli

from abc_atlas_kg.cli import main
from abc_atlas_kg.errors import UsageError
from abc_atlas_kg.store import binding, named

G = "20231215"
RELEASE_GRAPH = "https://w3id.org/abc-atlas-kg/graph/CCN20230722/20231215"  # the complete fixture's release graph
RELEASE_TRIPLES = 355
CAR3_SUBC = "001 CLA-EPd-CTX Car3 Glut"
CAR3_1 = "0001 CLA-EPd-CTX Car3 Glut_1"
CAR3_2 = "0002 CLA-EPd-CTX Car3 Glut_2"

# name -> (parameters, expected CSV rows: header first). Every named query must have a case here.
# The complete fixture is loaded without the cell-type layer: its queries answer with the header only (they are
# compiled and run on every store all the same); tests/test_celltypes.py checks their answers on the real layer.
CELL_TYPE_QUERIES: dict[str, tuple[list[str], list[list[str]]]] = {
    "cell-types": (["label=CS20230722_CLUS_0001"], [["label", "version", "name", "relation", "class", "classLabel",
                   "source", "justification", "comment", "dois", "markers"]]),
    "unmapped": ([], [["taxonomy", "version", "level", "term", "name"]]),
    "conflicts": (["source=tdt-wmb"], [["label", "version", "name", "from", "class", "to", "otherClass"]]),
}  # fmt: skip
EXPECTED: dict[str, tuple[list[str], list[list[str]]]] = {
    "lineage": (
        ["label=CS20230722_CLUS_0001"],
        [
            ["label", "version", "level", "ancestor", "name"],
            ["CS20230722_CLUS_0001", G, "cluster", "CS20230722_CLUS_0001", CAR3_1],
            ["CS20230722_CLUS_0001", G, "supertype", "CS20230722_SUPT_0001", CAR3_1],
            ["CS20230722_CLUS_0001", G, "subclass", "CS20230722_SUBC_001", CAR3_SUBC],
            ["CS20230722_CLUS_0001", G, "class", "CS20230722_CLAS_01", "01 IT-ET Glut"],
        ],
    ),
    "clusters-under": (
        ["label=CS20230722_CLAS_01"],
        [
            ["label", "version", "cluster", "alias", "cells"],
            ["CS20230722_CLAS_01", G, "CS20230722_0128", "128", "2546"],
            ["CS20230722_CLAS_01", G, "CS20230722_0129", "129", "3222"],
            ["CS20230722_CLAS_01", G, "CS20230722_0131", "131", "1718"],
        ],
    ),
    "clusters-by-neurotransmitter": (
        [],
        [
            ["taxonomy", "version", "neurotransmitter", "clusters", "cells"],
            ["CCN20230722", G, "Glut", "3", "7486"],
            ["CCN20230722", G, "NA", "2", "451"],
            ["CCN20230722", G, "GABA", "0", "0"],
        ],
    ),
    "terms-matching": (
        ["pattern=car3"],
        [
            ["pattern", "version", "level", "term", "name"],
            ["car3", G, "subclass", "CS20230722_SUBC_001", CAR3_SUBC],
            ["car3", G, "supertype", "CS20230722_SUPT_0001", CAR3_1],
            ["car3", G, "supertype", "CS20230722_SUPT_0002", CAR3_2],
            ["car3", G, "cluster", "CS20230722_CLUS_0001", CAR3_1],
            ["car3", G, "cluster", "CS20230722_CLUS_0002", "0002 CLA-EPd-CTX Car3 Glut_1"],
            ["car3", G, "cluster", "CS20230722_CLUS_0005", "0005 CLA-EPd-CTX Car3 Glut_2"],
        ],
    ),
    "mappings": (
        ["label=CS20230722_CLAS_01"],
        [["label", "version", "direction", "relation", "other", "otherLabel", "justification"]],  # none loaded
    ),
    "level-counts": (
        [],
        [
            ["taxonomy", "version", "rank", "level", "terms"],
            ["CCN20230722", G, "0", "neurotransmitter", "3"],
            ["CCN20230722", G, "1", "class", "2"],
            ["CCN20230722", G, "2", "subclass", "3"],
            ["CCN20230722", G, "3", "supertype", "4"],
            ["CCN20230722", G, "4", "cluster", "5"],
        ],
    ),
    **CELL_TYPE_QUERIES,
}

TARGETS = ["embedded", "oxigraph", "virtuoso"]


def query_cli(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, ["query", *map(str, args)], catch_exceptions=False)


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> tuple[list[str], dict[str, str] | None]:
    """Command-line options (and environment) that point `abc-kg query` at one store holding the fixture."""
    if request.param == "embedded":
        return ["--store", str(request.getfixturevalue("embedded_store"))], None
    if request.param == "oxigraph":
        return ["--endpoint", request.getfixturevalue("oxigraph_loaded").endpoint], None
    server: servers.Server = request.getfixturevalue("virtuoso_loaded")
    return ["--endpoint", server.endpoint], VIRTUOSO_ENV


def test_every_named_query_has_an_expected_answer() -> None:
    assert set(named.library()) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_answer_on_the_fixture(name: str, target: tuple[list[str], dict[str, str] | None]) -> None:
    params, expected = EXPECTED[name]
    options, env = target
    result = query_cli(name, *[a for p in params for a in ("--param", p)], "--format", "csv", *options, env=env)
    assert result.exit_code == 0, result.stderr
    assert list(csv.reader(io.StringIO(result.stdout))) == expected


SKOS = "http://www.w3.org/2004/02/skos/core#"
MANUAL = "https://w3id.org/semapv/vocab/ManualMappingCuration"
TAXONOMY = "https://purl.brain-bican.org/taxonomy/"
AGING = "https://w3id.org/abc-atlas-kg/graph/CS20241021/20241130"
MAPPINGS_EXPECTED = {
    "CS20230722_CLAS_01": [  # incoming: the aging taxonomy's mapping set names this WMB class
        ["CS20230722_CLAS_01", G, "incoming", SKOS + "broadMatch", f"{TAXONOMY}CS20241021/CS20241021_{n}",
         f"CS20241021_{n}", MANUAL] for n in ("0001", "0002")
    ],
    "CS20241021_0001": [  # outgoing: from the aging release's own mapping set
        ["CS20241021_0001", "20241130", "outgoing", SKOS + "broadMatch", f"{TAXONOMY}CCN20230722/{label}", label, MANUAL]
        for label in ("CS20230722_CLAS_01", "CS20230722_SUBC_001", "CS20230722_SUPT_0001")
    ],
}  # fmt: skip


def _drop_graphs(server: servers.Server, graphs: list[str], env: dict[str, str] | None) -> None:
    """Put a shared server back as the other tests expect it (Graph Store Protocol DELETE)."""
    auth = requests.auth.HTTPDigestAuth(env["ABC_KG_ENDPOINT_USER"], env["ABC_KG_ENDPOINT_PASSWORD"]) if env else None
    param = "graph-uri" if "sparql-graph-crud" in server.endpoint else "graph"
    for graph in graphs:
        response = requests.delete(server.endpoint, params={param: graph}, auth=auth, timeout=30)
        assert response.status_code < 300 or response.status_code == 404, response.text


@pytest.mark.parametrize("label", sorted(MAPPINGS_EXPECTED))
def test_mappings_both_ways_from_the_mapping_sets(
    label: str, target: tuple[list[str], dict[str, str] | None], request: pytest.FixtureRequest
) -> None:
    """With a taxonomy that publishes mappings loaded beside the fixture, `mappings` finds them in its own graph
    (the mappings graph), outgoing for its cell sets and incoming for the cell sets it names."""
    options, env = target
    server = None if options[0] == "--store" else request.getfixturevalue(
        "oxigraph_loaded" if env is None else "virtuoso_loaded"
    )  # fmt: skip
    if server is None:  # never change the shared embedded store: a copy of it
        copy = request.getfixturevalue("tmp_path") / "store"
        shutil.copytree(options[1], copy, ignore=shutil.ignore_patterns("LOCK", "abc-kg.lock"))
        options = ["--store", str(copy)]
    loaded = load_cli("Zeng-Aging-Mouse", "--source", ATLAS, "--no-vocabulary", *options, env=env)
    try:
        assert loaded.exit_code == 0, loaded.stderr
        assert f"{AGING}/mappings" in loaded.stderr
        result = query_cli("mappings", "--param", f"label={label}", "--format", "csv", *options, env=env)
        assert result.exit_code == 0, result.stderr
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[1:] == MAPPINGS_EXPECTED[label]
    finally:
        if server is not None:
            _drop_graphs(server, [AGING, f"{AGING}/mappings"], env)


def test_list_shows_every_query_and_its_parameters() -> None:
    result = query_cli("--list")
    assert result.exit_code == 0
    for name, q in named.library().items():
        assert name in result.stdout and q.title in result.stdout
    assert "lineage --param label=<literal>" in result.stdout


def test_table_and_json_formats(embedded_store: Path) -> None:
    table = query_cli("level-counts", "--store", embedded_store)
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["taxonomy", "version", "rank", "level", "terms"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["CCN20230722", G, "0", "neurotransmitter", "3"]
    as_json = json.loads(query_cli("level-counts", "--store", embedded_store, "--format", "json").stdout)
    assert as_json[1] == {"taxonomy": "CCN20230722", "version": G, "rank": 1, "level": "class", "terms": 2}


def test_ad_hoc_sparql_string_and_file(embedded_store: Path, tmp_path: Path) -> None:
    sparql = "SELECT ?name WHERE { ?t <http://www.w3.org/2004/02/skos/core#notation> ?label ; <http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    inline = query_cli(sparql, "--param", "label=CS20230722_CLAS_34", "--store", embedded_store, "--format", "csv")
    assert inline.exit_code == 0, inline.stderr  # a VALUES block binds ?label even though it is not projected
    assert inline.stdout.splitlines() == ["name", "34 Immune"]
    unused = query_cli(sparql, "--param", "nope=1", "--store", embedded_store)
    assert unused.exit_code == 2 and "no variable ?nope" in unused.stderr
    projected = sparql.replace("SELECT ?name", "SELECT ?label ?name")
    file = tmp_path / "q.rq"
    file.write_text(projected)
    result = query_cli(
        "--file", file, "--param", "label=CS20230722_CLAS_34", "--store", embedded_store, "--format", "csv"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["label,name", "CS20230722_CLAS_34,34 Immune"]
    ask = query_cli("ASK { ?s a <https://w3id.org/abc-atlas-kg/vocab/Cluster> }", "--store", embedded_store)
    assert ask.stdout == "true\n"


def test_parameter_errors(embedded_store: Path) -> None:
    missing = query_cli("lineage", "--store", embedded_store)
    assert missing.exit_code == 2 and "missing parameter(s) label" in missing.stderr
    unknown = query_cli("lineage", "--param", "label=x", "--param", "nope=1", "--store", embedded_store)
    assert unknown.exit_code == 2 and "unknown parameter(s) nope" in unknown.stderr
    assert query_cli("no-such-query", "--store", embedded_store).exit_code == 2
    assert query_cli("lineage", "--param", "label", "--store", embedded_store).exit_code == 2


def test_query_without_a_store_fails(tmp_path: Path) -> None:
    result = query_cli("level-counts", "--store", tmp_path / "nothing")
    assert result.exit_code == 5 and "no store" in result.stderr


# --- binding through VALUES ----------------------------------------------------------------------------------


def test_values_binding_cannot_be_escaped_by_the_value() -> None:
    hostile = 'x" } } ; DROP ALL ; SELECT * { ?s ?p "'
    store = ox.Store()
    store.add(
        ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"), ox.Literal(hostile))
    )
    text = "SELECT ?s ?v WHERE { ?s <https://example.org/p> ?v }"
    bound = binding.bind(text, {"v": ox.Literal(hostile)})
    rows = list(store.query(bound))
    assert [(r["s"].value, r["v"].value) for r in rows] == [("https://example.org/s", hostile)]
    assert list(store.query(binding.bind(text, {"v": ox.Literal("other")}))) == []


def test_values_go_into_the_outermost_group_past_comments_strings_and_iris() -> None:
    text = '# a { comment\nPREFIX ex: <https://example.org/v#>\nSELECT ("{" AS ?b) ?v WHERE { ?s ex:p ?v }'
    bound = binding.bind(text, {"v": ox.NamedNode("https://example.org/o")})
    assert bound.endswith("WHERE { VALUES (?v) { (<https://example.org/o>) }  ?s ex:p ?v }")


def test_hostile_parameter_on_a_server_is_just_data(oxigraph_loaded: servers.Server) -> None:
    result = query_cli(
        "terms-matching",
        "--param",
        'pattern=" } } DROP ALL #',
        "--endpoint",
        oxigraph_loaded.endpoint,
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["pattern,version,level,term,name"]
    after = query_cli("level-counts", "--endpoint", oxigraph_loaded.endpoint, "--format", "csv")
    assert len(after.stdout.splitlines()) == 6  # nothing was dropped


# --- one binding for every query form, embedded and on a real server -----------------------------------------

CLAS_34 = "https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_CLAS_34"
FORMS = {
    "select": ("SELECT ?name WHERE { ?t skos:notation ?label ; rdfs:label ?name }", "name\n34 Immune\n"),
    "ask": ("ASK { ?t skos:notation ?label ; rdfs:label '34 Immune' }", "true\n"),
    "construct": (
        "CONSTRUCT { ?t rdfs:label ?name } WHERE { ?t skos:notation ?label ; rdfs:label ?name }",
        f'<{CLAS_34}> <http://www.w3.org/2000/01/rdf-schema#label> "34 Immune" .\n',
    ),
    "describe": ("DESCRIBE ?t WHERE { ?t skos:notation ?label }", None),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("where", ["embedded", "oxigraph"])
def test_param_binds_in_every_query_form(form: str, where: str, request: pytest.FixtureRequest) -> None:
    """SELECT, ASK, CONSTRUCT and DESCRIBE bind --param the same way on the embedded store and a server."""
    options = (
        ["--store", str(request.getfixturevalue("embedded_store"))]
        if where == "embedded"
        else ["--endpoint", request.getfixturevalue("oxigraph_loaded").endpoint]
    )
    sparql, expected = FORMS[form]
    result = query_cli(sparql, "--param", "label=CS20230722_CLAS_34", "--format", "csv", *options)
    assert result.exit_code == 0, result.stderr
    if expected is not None:
        assert result.stdout == expected
    else:  # DESCRIBE: the bound cell set's description, and only it
        subjects = {line.split(" ", 1)[0] for line in result.stdout.splitlines()}
        assert subjects == {f"<{CLAS_34}>"}


def test_describe_without_where_binds_by_a_trailing_values_clause() -> None:
    text = binding.bind("DESCRIBE ?t", {"t": ox.NamedNode(CLAS_34)})
    assert text.strip().endswith(f"VALUES (?t) {{ (<{CLAS_34}>) }}")


def test_construct_values_go_in_the_where_clause_not_the_template() -> None:
    text = "CONSTRUCT { ?s <http://e/p> ?v } { ?s <http://e/q> ?v }"
    bound = binding.bind(text, {"v": ox.Literal("x")})
    assert bound.startswith('CONSTRUCT { ?s <http://e/p> ?v } { VALUES (?v) { ("x") }')


# --- dataset, prefixes, output -------------------------------------------------------------------------------

COUNT_FROM = "SELECT (COUNT(*) AS ?n) FROM <{g}> WHERE {{ ?s ?p ?o }}"


@pytest.mark.parametrize("where", ["embedded", "oxigraph"])
def test_from_is_respected_and_the_union_is_the_default(where: str, request: pytest.FixtureRequest) -> None:
    options = (
        ["--store", str(request.getfixturevalue("embedded_store"))]
        if where == "embedded"
        else ["--endpoint", request.getfixturevalue("oxigraph_loaded").endpoint]
    )
    scoped = query_cli(COUNT_FROM.format(g=RELEASE_GRAPH), "--format", "csv", *options)
    assert scoped.stdout.splitlines() == ["n", str(RELEASE_TRIPLES)], scoped.stderr
    union = query_cli("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "csv", *options)
    assert int(union.stdout.splitlines()[1]) > RELEASE_TRIPLES


def test_from_is_respected_through_serve(embedded_store: Path) -> None:
    port = servers.free_port()
    command = [sys.executable, "-m", "abc_atlas_kg", "serve", "--store", str(embedded_store), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        scoped = query_cli(COUNT_FROM.format(g=RELEASE_GRAPH), "--format", "csv", "--query-url", url,
                           "--endpoint", f"http://127.0.0.1:{port}/store")  # fmt: skip
        assert scoped.stdout.splitlines() == ["n", str(RELEASE_TRIPLES)], scoped.stderr
        plain = requests.post(url, data={"query": COUNT_FROM.format(g=RELEASE_GRAPH)},
                              headers={"Accept": "text/csv"}, timeout=10)  # fmt: skip
        assert plain.text.split() == ["n", str(RELEASE_TRIPLES)]  # any client, not only abc-kg
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_ad_hoc_queries_get_the_export_prefixes(embedded_store: Path) -> None:
    result = query_cli("SELECT ?n WHERE { ?t skos:notation 'CS20230722_CLAS_34' ; rdfs:label ?n }",
                       "--store", embedded_store, "--format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "34 Immune"]
    own = "PREFIX skos: <https://example.org/not-skos#>\nASK { ?t skos:notation 'CS20230722_CLAS_34' }"
    assert query_cli(own, "--store", embedded_store).stdout == "false\n"  # the query's own declaration wins


def test_select_star_keeps_query_order_and_tables_show_curies(embedded_store: Path) -> None:
    sparql = "SELECT * WHERE { ?zterm skos:notation 'CS20230722_CLAS_34' ; a ?atype ; rdfs:label ?mname }"
    result = query_cli(sparql, "--store", embedded_store)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["zterm", "atype", "mname"]
    assert any("obo:PCL_0010001" in line for line in lines)
    full = query_cli(sparql, "--store", embedded_store, "--format", "csv")
    assert "http://purl.obolibrary.org/obo/PCL_0010001" in full.stdout


def test_an_invalid_regex_is_a_usage_error(embedded_store: Path) -> None:
    result = query_cli("terms-matching", "--param", "pattern=car3(", "--store", embedded_store)
    assert result.exit_code == 2 and "not a valid regular expression" in result.stderr


def test_optional_parameters_in_query_headers() -> None:
    parsed = named.parse_named(
        "x",
        "# Title.\n# @param label literal  a label\n# @param release literal optional  the release\nSELECT ?label ?release {}",
    )
    assert [(p.name, p.optional, p.description) for p in parsed.params] == [
        ("label", False, "a label"),
        ("release", True, "the release"),
    ]
    assert named.bind(parsed, {"label": "a"}) == {"label": ox.Literal("a")}  # release left unbound
    with pytest.raises(UsageError):
        named.bind(parsed, {"release": "1"})


# --- info ----------------------------------------------------------------------------------------------------


def test_info_on_files_and_on_the_store(complete_export: Export, embedded_store: Path) -> None:
    from abc_atlas_kg import store as kgstore

    described = kgstore.info(files=[complete_export.file("nq")])
    graph = described["graphs"][0]
    assert graph["graph"] == RELEASE_GRAPH and graph["triples"] == RELEASE_TRIPLES
    assert graph["levels"] == {"class": 2, "cluster": 5, "neurotransmitter": 3, "subclass": 3, "supertype": 4}
    assert graph["classes"]["http://purl.obolibrary.org/obo/PCL_0010001"] > 0
    assert graph["taxonomies"][0]["version"] == G
    target = kgstore.open_target(embedded_store, read_only=True)
    try:
        in_store = kgstore.info(target=target)
    finally:
        target.close()
    assert [g["graph"] for g in in_store["graphs"] if g["graph"] == RELEASE_GRAPH] == [RELEASE_GRAPH]
    assert json.loads(kgstore.render_json(described)) == described
    table = kgstore.render_table(described)
    assert f"{RELEASE_TRIPLES} triples" in table and "obo:PCL_0010001" in table


def test_full_iris_turns_curies_off(embedded_store: Path) -> None:
    sparql = "SELECT ?type WHERE { ?t skos:notation 'CS20230722_CLAS_34' ; a ?type } ORDER BY ?type"
    short = query_cli(sparql, "--store", embedded_store)
    full = query_cli(sparql, "--store", embedded_store, "--full-iris")
    assert "obo:PCL_0010001" in short.stdout
    assert "http://purl.obolibrary.org/obo/PCL_0010001" in full.stdout and "obo:" not in full.stdout
