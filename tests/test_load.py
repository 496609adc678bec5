"""`abc-kg load` into the embedded store and into real servers: idempotent re-loads, replacement, auth, failures."""

from __future__ import annotations

import base64
import gzip
import http.server
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
import requests
import servers
from conftest import COMPLETE, VIRTUOSO_ENV, Export, load_cli, run

from abc_atlas_kg.store import ONTOLOGY_GRAPH, SHAPES_GRAPH, default_query_url

KG_GRAPH = "https://w3id.org/abc-atlas-kg/graph/"
RELEASE_GRAPH = KG_GRAPH + "CCN20230722/20231215"  # the complete fixture's release graph
SAMPLE_GRAPH = KG_GRAPH + "CCN20230722/20230830"  # the bundled sample's
RELEASE_TRIPLES = 355  # the complete fixture's export, as the load example in docs/stores.md prints
CLASS_01 = "https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_CLAS_01"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def embedded_counts(store: Path) -> dict[str, int]:
    """Triples per named graph, counted by opening the store independently of abc-kg."""
    opened = ox.Store.read_only(str(store))
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    return {row["g"].value: int(row["n"].value) for row in opened.query(query)}


def server_select(query_url: str, query: str) -> list[dict[str, str]]:
    """A SELECT against a server over plain HTTP (not through abc-kg), values as strings."""
    response = requests.post(
        query_url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=30
    )
    response.raise_for_status()
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def server_counts(query_url: str) -> dict[str, int]:
    rows = server_select(query_url, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"]: int(row["n"]) for row in rows}


def labels_of(query_url: str, iri: str) -> set[str]:
    rows = server_select(query_url, f"SELECT ?l WHERE {{ GRAPH <{RELEASE_GRAPH}> {{ <{iri}> <{RDFS_LABEL}> ?l }} }}")
    return {row["l"] for row in rows}


def renamed_copy(export: Export, folder: Path, fmt: str = "nt") -> Path:
    """The exported release with class 01 renamed, as a user's edited file would be."""
    text = export.file(fmt).read_text(encoding="utf-8")
    assert text.count('"01 IT-ET Glut"') == 2  # rdfs:label and skos:prefLabel
    copy = folder / f"renamed.{fmt}"
    copy.write_text(text.replace('"01 IT-ET Glut"', '"01 IT-ET Glut renamed"'), encoding="utf-8")
    return copy


# --- embedded ------------------------------------------------------------------------------------------------


def test_embedded_load_writes_release_ontology_and_shapes_graphs(embedded_store: Path) -> None:
    counts = embedded_counts(embedded_store)
    assert counts[RELEASE_GRAPH] == RELEASE_TRIPLES
    assert counts[ONTOLOGY_GRAPH] > 50 and counts[SHAPES_GRAPH] > 50
    assert set(counts) == {RELEASE_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH}


def test_embedded_reload_is_idempotent_and_the_summary_is_counted_by_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store)
    assert first.exit_code == 0, first.stderr
    once = embedded_counts(store)
    second = load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store)
    assert second.exit_code == 0, second.stderr
    assert embedded_counts(store) == once
    assert "loaded 3 graph(s)" in second.stderr
    line = next(line for line in second.stderr.splitlines() if RELEASE_GRAPH in line)
    assert f"{RELEASE_TRIPLES} triples" in line
    assert second.stdout == ""


def test_embedded_default_store_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABC_KG_STORE", str(tmp_path / "from-env"))
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(tmp_path / "from-env") == {RELEASE_GRAPH: RELEASE_TRIPLES}


def test_embedded_reload_of_an_edited_file_replaces_the_release(complete_export: Export, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store).exit_code == 0
    result = load_cli(renamed_copy(complete_export, tmp_path), "--store", store)
    assert result.exit_code == 0, result.stderr
    opened = ox.Store.read_only(str(store))
    labels = {
        q.object.value
        for q in opened.quads_for_pattern(
            ox.NamedNode(CLASS_01), ox.NamedNode(RDFS_LABEL), None, ox.NamedNode(RELEASE_GRAPH)
        )
    }
    assert labels == {"01 IT-ET Glut renamed"}
    assert embedded_counts(store)[RELEASE_GRAPH] == RELEASE_TRIPLES


@pytest.mark.parametrize("fmt", ["nq", "nt", "ttl", "jsonld"])
def test_exported_files_load_into_the_release_graph(complete_export: Export, tmp_path: Path, fmt: str) -> None:
    store = tmp_path / "store"
    result = load_cli(complete_export.file(fmt), "--store", store, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(store) == {RELEASE_GRAPH: RELEASE_TRIPLES}


def test_triples_without_a_taxonomy_need_a_graph(tmp_path: Path) -> None:
    data = tmp_path / "extra.ttl"
    data.write_text("<https://example.org/a> <https://example.org/p> 'x' .\n")
    refused = load_cli(data, "--store", tmp_path / "store", "--no-vocabulary")
    assert refused.exit_code == 2
    assert "--graph" in refused.stderr
    accepted = load_cli(data, "--graph", "https://example.org/g", "--store", tmp_path / "store", "--no-vocabulary")
    assert accepted.exit_code == 0, accepted.stderr
    assert embedded_counts(tmp_path / "store") == {"https://example.org/g": 1}


def test_reload_keeps_the_other_graphs_of_the_store(tmp_path: Path) -> None:
    """A re-load clears the whole store only when it replaces every graph in it; other graphs survive."""
    store = tmp_path / "store"
    data = tmp_path / "extra.ttl"
    data.write_text("<https://example.org/a> <https://example.org/p> 'x' .\n")
    assert load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store).exit_code == 0
    assert load_cli(data, "--graph", "https://example.org/g", "--store", store).exit_code == 0
    before = embedded_counts(store)
    assert load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store).exit_code == 0
    assert embedded_counts(store) == before and before["https://example.org/g"] == 1


def test_fresh_empties_the_embedded_store_first(tmp_path: Path) -> None:
    store = tmp_path / "store"
    data = tmp_path / "extra.ttl"
    data.write_text("<https://example.org/a> <https://example.org/p> 'x' .\n")
    assert load_cli(data, "--graph", "https://example.org/g", "--store", store).exit_code == 0
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", store, "--fresh")
    assert result.exit_code == 0, result.stderr
    assert "https://example.org/g" not in embedded_counts(store)


def test_usage_errors(tmp_path: Path) -> None:
    assert load_cli("--store", tmp_path / "s").exit_code == 2
    assert load_cli("NOPE-taxonomy", "--store", tmp_path / "s").exit_code == 2
    assert load_cli(tmp_path / "missing.nq", "--store", tmp_path / "s").exit_code == 2
    both = load_cli("WMB-taxonomy", "--store", tmp_path / "s", "--endpoint", "http://127.0.0.1:1/store")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    result = load_cli("WMB-taxonomy", "--endpoint", "http://dba:s3cret-pw@127.0.0.1:1/store")
    assert result.exit_code == 2
    assert "ABC_KG_ENDPOINT_PASSWORD" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


# --- remote: Oxigraph server ---------------------------------------------------------------------------------


def test_oxigraph_server_reload_is_idempotent(oxigraph_loaded: servers.Server) -> None:
    before = server_counts(oxigraph_loaded.query_url)
    assert before[RELEASE_GRAPH] == RELEASE_TRIPLES
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", oxigraph_loaded.endpoint)
    assert result.exit_code == 0, result.stderr
    assert server_counts(oxigraph_loaded.query_url) == before
    assert f"{RELEASE_TRIPLES} triples" in result.stderr


def test_oxigraph_server_replaces_an_edited_release_and_back(
    oxigraph_loaded: servers.Server, complete_export: Export, tmp_path: Path
) -> None:
    url = oxigraph_loaded.query_url
    try:
        changed = load_cli(renamed_copy(complete_export, tmp_path, "ttl"), "--endpoint", oxigraph_loaded.endpoint)
        assert changed.exit_code == 0, changed.stderr
        assert labels_of(url, CLASS_01) == {"01 IT-ET Glut renamed"}
        assert server_counts(url)[RELEASE_GRAPH] == RELEASE_TRIPLES
    finally:
        restored = load_cli(complete_export.file("nq"), "--endpoint", oxigraph_loaded.endpoint)
    assert restored.exit_code == 0, restored.stderr
    assert labels_of(url, CLASS_01) == {"01 IT-ET Glut"}


def test_query_url_is_derived_for_known_servers() -> None:
    assert default_query_url("http://h:7878/store") == "http://h:7878/query"
    assert default_query_url("http://h:8890/sparql-graph-crud-auth") == "http://h:8890/sparql"
    assert default_query_url("http://h:3030/ds/data") == "http://h:3030/ds/sparql"
    assert default_query_url("http://h:7200/repositories/r/rdf-graphs/service") == "http://h:7200/repositories/r"


def test_a_server_that_is_down_gives_a_clear_error() -> None:
    port = servers.free_port()
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", f"http://127.0.0.1:{port}/store")
    assert result.exit_code == 5
    assert f"cannot connect to http://127.0.0.1:{port}/store" in result.stderr
    assert "is the server running?" in result.stderr
    assert "Traceback" not in result.stderr


# --- remote: Virtuoso with digest authentication -------------------------------------------------------------


def test_virtuoso_digest_load_twice_gives_the_same_counts(virtuoso_server: servers.Server) -> None:
    args = ("WMB-taxonomy", "--source", COMPLETE, "--endpoint", virtuoso_server.endpoint)
    first = load_cli(*args, env=VIRTUOSO_ENV)
    assert first.exit_code == 0, first.stderr
    once = server_counts(virtuoso_server.query_url)
    assert once[RELEASE_GRAPH] == RELEASE_TRIPLES
    second = load_cli(*args, "--auth", "digest", env=VIRTUOSO_ENV)
    assert second.exit_code == 0, second.stderr
    assert server_counts(virtuoso_server.query_url) == once


def test_virtuoso_replaces_an_edited_release(
    virtuoso_server: servers.Server, complete_export: Export, tmp_path: Path
) -> None:
    args = ("--endpoint", virtuoso_server.endpoint)
    assert load_cli("WMB-taxonomy", "--source", COMPLETE, *args, env=VIRTUOSO_ENV).exit_code == 0
    try:
        result = load_cli(renamed_copy(complete_export, tmp_path), *args, env=VIRTUOSO_ENV)
        assert result.exit_code == 0, result.stderr
        assert labels_of(virtuoso_server.query_url, CLASS_01) == {"01 IT-ET Glut renamed"}
        assert server_counts(virtuoso_server.query_url)[RELEASE_GRAPH] == RELEASE_TRIPLES
    finally:
        restored = load_cli(complete_export.file("jsonld"), *args, env=VIRTUOSO_ENV)
    assert restored.exit_code == 0, restored.stderr
    assert labels_of(virtuoso_server.query_url, CLASS_01) == {"01 IT-ET Glut"}


def test_virtuoso_wrong_password_is_a_clear_error_without_the_password(virtuoso_server: servers.Server) -> None:
    env = {"ABC_KG_ENDPOINT_USER": "dba", "ABC_KG_ENDPOINT_PASSWORD": "Wr0ng-Pa55word"}
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", virtuoso_server.endpoint, env=env)
    assert result.exit_code == 5
    assert "authentication failed as user 'dba' (HTTP 401)" in result.stderr
    assert "Wr0ng-Pa55word" not in result.stderr + result.stdout


def test_virtuoso_without_credentials_says_where_to_put_them(virtuoso_server: servers.Server) -> None:
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", virtuoso_server.endpoint)
    assert result.exit_code == 5
    assert "ABC_KG_ENDPOINT_USER" in result.stderr and "ABC_KG_ENDPOINT_PASSWORD" in result.stderr


# --- serve ---------------------------------------------------------------------------------------------------


def test_serve_answers_queries_read_only(embedded_store: Path) -> None:
    port = servers.free_port()
    command = [sys.executable, "-m", "abc_atlas_kg", "serve", "--store", str(embedded_store), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                rows = server_select(url + "?union-default-graph", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "abc-kg serve did not come up"
                time.sleep(0.1)
        assert int(rows[0]["n"]) == sum(embedded_counts(embedded_store).values())  # union default graph
        refused = requests.post(f"http://127.0.0.1:{port}/update", data={"update": "CLEAR ALL"}, timeout=10)
        assert refused.status_code >= 400
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_without_a_store_fails(tmp_path: Path) -> None:
    result = run("serve", "--store", tmp_path / "none")
    assert result.exit_code == 5
    assert "no store" in result.stderr


def test_all_loads_every_taxonomy_the_source_holds(tmp_path: Path) -> None:
    result = load_cli("--all", "--source", COMPLETE, "--store", tmp_path / "store", "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(tmp_path / "store") == {RELEASE_GRAPH: RELEASE_TRIPLES}


# --- Basic and bearer authentication, against a small real HTTP server -------------------------------------


class _AuthStore(http.server.BaseHTTPRequestHandler):
    """A minimal Graph Store that demands `Basic dba:good` or `Bearer tok`, and records what it was sent."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization")
        self.seen.append((self.command, header))
        good = {"Basic " + base64.b64encode(b"dba:good").decode(), "Bearer tok"}
        if header in good:
            return True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self._authorised():
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self) -> None:  # the count query
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self._authorised():
            body = b'{"head": {"vars": ["g", "n"]}, "results": {"bindings": []}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def auth_store() -> Iterator[str]:
    _AuthStore.seen.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/store"
    server.shutdown()
    server.server_close()


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    data = tmp_path / "small.ttl"
    data.write_text("<https://example.org/a> <https://example.org/p> 'x' .\n")
    return data


def test_auto_auth_answers_a_basic_challenge(auth_store: str, small_file: Path) -> None:
    env = {"ABC_KG_ENDPOINT_USER": "dba", "ABC_KG_ENDPOINT_PASSWORD": "good"}
    result = load_cli(
        small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", auth_store, env=env
    )
    assert result.exit_code == 0, result.stderr
    assert _AuthStore.seen[0] == ("PUT", None)  # no credentials until the server asks
    assert _AuthStore.seen[1][1] == "Basic " + base64.b64encode(b"dba:good").decode()


def test_bearer_token_is_sent_and_a_wrong_basic_password_is_not_shown(auth_store: str, small_file: Path) -> None:
    args = (small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", auth_store)
    assert load_cli(*args, env={"ABC_KG_ENDPOINT_TOKEN": "tok"}).exit_code == 0
    assert _AuthStore.seen[0] == ("PUT", "Bearer tok")
    wrong = load_cli(
        *args, "--auth", "basic", env={"ABC_KG_ENDPOINT_USER": "dba", "ABC_KG_ENDPOINT_PASSWORD": "n0pe-pw"}
    )
    assert wrong.exit_code == 5 and "authentication failed as user 'dba'" in wrong.stderr
    assert "n0pe-pw" not in wrong.stderr + wrong.stdout


# --- never mix, never lose (issue 10) ------------------------------------------------------------------------


def graph_triples(store: Path, graph: str) -> set[str]:
    opened = ox.Store.read_only(str(store))
    return {str(q.triple) for q in opened.quads_for_pattern(None, None, None, ox.NamedNode(graph))}


def file_triples(path: Path) -> set[str]:
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    return {str(q.triple) for q in ox.parse(path=str(path), format=fmt)}


def test_two_releases_of_one_taxonomy_in_one_call_do_not_mix(
    sample_export: Export, complete_export: Export, tmp_path: Path
) -> None:
    """Issue 10.1: both files are CCN20230722.nq; each release graph must hold exactly its own file's triples."""
    store = tmp_path / "store"
    older, newer = sample_export.file("nq"), complete_export.file("nq")
    result = load_cli(older, newer, "--store", store, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert graph_triples(store, SAMPLE_GRAPH) == file_triples(older)
    assert graph_triples(store, RELEASE_GRAPH) == file_triples(newer)
    assert file_triples(older) != file_triples(newer)


def test_any_subset_in_any_order_gives_the_same_graphs(
    sample_export: Export, complete_export: Export, tmp_path: Path
) -> None:
    files = [sample_export.file("ttl"), complete_export.file("nq"), complete_export.file("jsonld")]
    everything = tmp_path / "all"
    assert load_cli(*files, "--store", everything, "--no-vocabulary").exit_code == 0
    expected = {g: graph_triples(everything, g) for g in (SAMPLE_GRAPH, RELEASE_GRAPH)}
    for i, order in enumerate([files[::-1], [files[1]], [files[2], files[0]], [files[0]]]):
        store = tmp_path / f"s{i}"
        for path in order:  # one call per file: loading one never disturbs the other's graph
            assert load_cli(path, "--store", store, "--no-vocabulary").exit_code == 0
        for graph in embedded_counts(store):
            assert graph_triples(store, graph) == expected[graph]


def test_two_different_files_for_one_graph_in_one_call_are_refused(
    complete_export: Export, embedded_copy: Path, tmp_path: Path
) -> None:
    """Uniting them would mix two builds of one release, and letting one win would depend on argument order."""
    before = graph_triples(embedded_copy, RELEASE_GRAPH)
    edited = renamed_copy(complete_export, tmp_path, "ttl")
    result = load_cli(complete_export.file("nq"), edited, "--store", embedded_copy, "--no-vocabulary")
    assert result.exit_code == 1, result.stderr
    assert f"names the graph {RELEASE_GRAPH}" in result.stderr and str(edited) in result.stderr
    assert "separate calls" in result.stderr
    assert graph_triples(embedded_copy, RELEASE_GRAPH) == before  # nothing was touched
    same = [complete_export.file(f) for f in ("nq", "nt", "ttl", "jsonld")]  # one export in four formats
    result = load_cli(*same, "--store", embedded_copy, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert graph_triples(embedded_copy, RELEASE_GRAPH) == before


def test_a_file_describing_two_graphs_is_refused(
    sample_export: Export, complete_export: Export, tmp_path: Path
) -> None:
    """Two exports' triples concatenated into one file cannot be split back by graph: refused, not guessed."""
    both = tmp_path / "both.nt"
    both.write_text(sample_export.file("nt").read_text() + complete_export.file("nt").read_text())
    result = load_cli(both, "--store", tmp_path / "store", "--no-vocabulary")
    assert result.exit_code == 2
    assert SAMPLE_GRAPH in result.stderr and RELEASE_GRAPH in result.stderr and "--graph" in result.stderr


def test_documents_load_without_files(complete_export: Export, tmp_path: Path) -> None:
    """The CLI hands `Document`s from the build straight to the store: same graph as loading the file."""
    from abc_atlas_kg import store as kgstore
    from abc_atlas_kg.files.write import Document

    triples = [q.triple for q in ox.parse(path=str(complete_export.file("nq")), format=ox.RdfFormat.N_QUADS)]
    target = kgstore.open_target(tmp_path / "store")
    try:
        summary = kgstore.load(target, documents=[Document("CCN20230722", triples, ox.NamedNode(RELEASE_GRAPH))])
    finally:
        target.close()
    assert [(g.graph, g.triples) for g in summary.graphs] == [(RELEASE_GRAPH, RELEASE_TRIPLES)]
    assert graph_triples(tmp_path / "store", RELEASE_GRAPH) == file_triples(complete_export.file("nq"))


def test_an_empty_file_never_replaces_a_graph(embedded_copy: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.ttl"
    empty.write_text("# nothing\n")
    result = load_cli(empty, "--graph", RELEASE_GRAPH, "--store", embedded_copy)
    assert result.exit_code == 1 and "no triples to load" in result.stderr
    assert embedded_counts(embedded_copy)[RELEASE_GRAPH] == RELEASE_TRIPLES


@pytest.fixture
def embedded_copy(embedded_store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy" / "store"
    shutil.copytree(embedded_store, copy, ignore=shutil.ignore_patterns("LOCK", "abc-kg.lock"))
    return copy


def big_ntriples(path: Path, n: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(f'<https://example.org/s{i}> <https://example.org/p{i % 7}> "value number {i} of a big file" .\n')
    return path


@pytest.fixture(scope="session")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return big_ntriples(tmp_path_factory.mktemp("big") / "big.nt", 300_000)


def _load_process(*args: str | Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "abc_atlas_kg", "load", *map(str, args), "--no-vocabulary"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(check: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_kill_during_a_replacing_load_keeps_the_previous_graph(embedded_copy: Path, big_file: Path) -> None:
    before = graph_triples(embedded_copy, RELEASE_GRAPH)
    process = _load_process(big_file, "--graph", RELEASE_GRAPH, "--store", embedded_copy)
    _wait_for(lambda: any(embedded_copy.parent.glob(".store.scratch-*/input-0/CURRENT")), process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert graph_triples(embedded_copy, RELEASE_GRAPH) == before
    again = load_cli(big_file, "--graph", "https://example.org/other", "--store", embedded_copy, "--no-vocabulary")
    assert again.exit_code == 0, again.stderr  # the killed run's lock and scratch folder are no obstacle
    assert not list(embedded_copy.parent.glob(".store.scratch-*"))
    assert embedded_counts(embedded_copy)[RELEASE_GRAPH] == RELEASE_TRIPLES


def test_kill_inside_the_replacing_transaction_keeps_the_previous_graph(embedded_copy: Path, big_file: Path) -> None:
    """Killed while the one update that swaps the graph runs: the store holds the old graph or the new one, whole."""
    before = graph_triples(embedded_copy, RELEASE_GRAPH)
    command = [sys.executable, "-m", "abc_atlas_kg", "-v", "load", str(big_file), "--graph", RELEASE_GRAPH,
               "--store", str(embedded_copy), "--no-vocabulary"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # the log line written just before the transaction starts
        if "in one transaction" in line:
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL  # killed, not finished
    after = graph_triples(embedded_copy, RELEASE_GRAPH)
    print("after the kill the graph holds", "the previous triples" if after == before else "the new triples")
    assert after == before or after == file_triples(big_file)


def test_kill_while_creating_a_graph_leaves_no_partial_graph(embedded_copy: Path, big_file: Path) -> None:
    new = "https://example.org/new"
    process = _load_process(big_file, "--graph", new, "--store", embedded_copy)
    _wait_for(lambda: (embedded_copy / "abc-kg-journal.json").exists(), process)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    small = big_ntriples(embedded_copy.parent / "small.nt", 3)
    result = load_cli(small, "--graph", "https://example.org/small", "--store", embedded_copy, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    counts = embedded_counts(embedded_copy)
    assert new not in counts or counts[new] == 300_000  # never a partial graph
    assert counts[RELEASE_GRAPH] == RELEASE_TRIPLES and counts["https://example.org/small"] == 3


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 6 MB tmpfs: a real full disk (needs root; skipped where mount is refused)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_during_load_keeps_the_previous_graph(
    small_disk: Path, big_file: Path, complete_export: Export
) -> None:
    store = small_disk / "store"
    assert load_cli(complete_export.file("nq"), "--store", store, "--no-vocabulary").exit_code == 0
    before = graph_triples(store, RELEASE_GRAPH)
    result = load_cli(big_file, "--graph", RELEASE_GRAPH, "--store", store, "--no-vocabulary")
    assert result.exit_code == 5, result.stderr
    assert "No space left on device" in result.stderr or "space" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert graph_triples(store, RELEASE_GRAPH) == before


# --- files: RDF/XML, OWL, gzip, hostile XML ------------------------------------------------------------------

OWL_EXCERPT = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:owl="http://www.w3.org/2002/07/owl#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <owl:Ontology rdf:about="http://purl.obolibrary.org/obo/cl.owl"/>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/CL_0000540"><rdfs:label>neuron</rdfs:label></owl:Class>
</rdf:RDF>
"""


@pytest.mark.parametrize("name", ["cl.owl", "cl.rdf", "cl.owl.gz"])
def test_owl_files_load_into_their_ontology_graph(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = OWL_EXCERPT.encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    result = load_cli(path, "--store", tmp_path / "store", "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(tmp_path / "store") == {"http://purl.obolibrary.org/obo/cl.owl": 3}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"> <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"> <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"> <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
 <!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;"> <!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
 <rdf:Description rdf:about="http://example.org/s"><ex:p>&i;</ex:p></rdf:Description>
</rdf:RDF>
"""


def test_rdf_xml_with_entity_declarations_is_refused_at_once(tmp_path: Path) -> None:
    """pyoxigraph expands DTD entities (this 1 KB file would be ~8 GB of text): refused before parsing."""
    path = tmp_path / "laughs.rdf"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    result = load_cli(path, "--graph", "https://example.org/g", "--store", tmp_path / "store")
    assert result.exit_code == 1
    assert "DTD entities" in result.stderr and str(path) in result.stderr
    assert time.monotonic() - started < 10


def test_a_mappings_file_never_replaces_its_release_graph(tmp_path: Path, complete_export: Export) -> None:
    """A file that names no graph of its own is refused instead of landing in the release graph (issue 10.5)."""
    store = tmp_path / "store"
    assert load_cli(complete_export.file("nq"), "--store", store, "--no-vocabulary").exit_code == 0
    mappings = tmp_path / "CCN20230722.mappings.ttl"
    mappings.write_text(
        "<https://purl.brain-bican.org/taxonomy/CCN20230722/CS20230722_CLAS_01> "
        "<http://www.w3.org/2004/02/skos/core#closeMatch> <https://example.org/X1> .\n"
    )
    result = load_cli(mappings, "--store", store, "--no-vocabulary")
    assert result.exit_code == 2 and "--graph" in result.stderr
    assert embedded_counts(store) == {RELEASE_GRAPH: RELEASE_TRIPLES}


# --- store states: served, corrupt ---------------------------------------------------------------------------


def test_load_refuses_a_store_that_serve_holds(embedded_copy: Path, small_file: Path) -> None:
    port = servers.free_port()
    command = [sys.executable, "-m", "abc_atlas_kg", "serve", "--store", str(embedded_copy), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: "serve" in (embedded_copy / "abc-kg.lock").read_text(errors="replace")
                  if (embedded_copy / "abc-kg.lock").exists() else False, process)  # fmt: skip
        result = load_cli(small_file, "--graph", "https://example.org/g", "--store", embedded_copy)
        assert result.exit_code == 5
        assert "in use" in result.stderr and "abc-kg serve" in result.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert load_cli(small_file, "--graph", "https://example.org/g", "--store", embedded_copy).exit_code == 0


def test_a_corrupt_store_is_a_store_error(embedded_copy: Path, small_file: Path) -> None:
    for sst in embedded_copy.glob("*.sst"):
        sst.write_bytes(b"garbage" * 100)
    (embedded_copy / "CURRENT").write_text("MANIFEST-999999\n")
    result = load_cli(small_file, "--graph", "https://example.org/g", "--store", embedded_copy)
    assert result.exit_code == 5 and "cannot open the store" in result.stderr
    assert "Traceback" not in result.stderr
    queried = run("query", "level-counts", "--store", embedded_copy)
    assert queried.exit_code == 5


# --- secrets -------------------------------------------------------------------------------------------------


def test_a_token_with_a_trailing_newline_is_refused_without_showing_it(auth_store: str, small_file: Path) -> None:
    args = (small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", auth_store)
    result = load_cli(*args, env={"ABC_KG_ENDPOINT_TOKEN": "s3cret-tok\r\n"})
    assert result.exit_code == 2 and "control character" in result.stderr
    assert "s3cret-tok" not in result.stderr + result.stdout
    assert _AuthStore.seen == []


def test_a_non_latin1_basic_password_is_a_usage_error(auth_store: str, small_file: Path) -> None:
    args = (small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", auth_store)
    env = {"ABC_KG_ENDPOINT_USER": "dba", "ABC_KG_ENDPOINT_PASSWORD": "пароль"}
    result = load_cli(*args, "--auth", "basic", env=env)
    assert result.exit_code == 2 and "Latin-1" in result.stderr
    assert "пароль" not in result.stderr


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Echoes request headers in its errors, redirects elsewhere, or sends broken SPARQL results, as told."""

    mode: ClassVar[str] = "echo"
    elsewhere: ClassVar[str] = ""
    seen: ClassVar[list[str | None]] = []

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(self.headers.get("Authorization"))
        if self.mode == "redirect":
            self.send_response(307)
            self.send_header("Location", self.elsewhere)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.mode == "broken-xml":
            body = b"<?xml version='1.0'?><sparql xmlns='http://www.w3.org/2005/sparql-results#'><head><variable"
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+xml")
        elif self.mode == "broken-json":  # a good head, then a row that breaks (parsed lazily by pyoxigraph)
            body = b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "uri", "value": "x:1"}}, {"a": {"typ'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
        else:
            body = f"bad request; you sent {dict(self.headers)}".encode()
            self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[tuple[str, str]]:
    """Two hostile servers on two ports (two origins): the first one's URL and the second one's."""
    _Hostile.seen.clear()
    started = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile) for _ in range(2)]
    for server in started:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://127.0.0.1:{s.server_address[1]}/store" for s in started]
    yield urls[0], urls[1]
    for server in started:
        server.shutdown()
        server.server_close()


def test_server_errors_never_echo_the_credentials(hostile: tuple[str, str], small_file: Path) -> None:
    _Hostile.mode = "echo"
    args = (small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", hostile[0])
    for env in (
        {"ABC_KG_ENDPOINT_TOKEN": "t0ken-xyz"},
        {"ABC_KG_ENDPOINT_USER": "u", "ABC_KG_ENDPOINT_PASSWORD": "pw-xyz"},
    ):
        result = load_cli(*args, "--auth", "bearer" if "ABC_KG_ENDPOINT_TOKEN" in env else "basic", env=env)
        assert result.exit_code == 5 and "HTTP 500" in result.stderr
        assert "t0ken-xyz" not in result.stderr and "pw-xyz" not in result.stderr
        assert base64.b64encode(b"u:pw-xyz").decode() not in result.stderr


def test_no_credentials_after_a_redirect_to_another_origin(hostile: tuple[str, str], small_file: Path) -> None:
    _Hostile.mode, _Hostile.elsewhere = "redirect", hostile[1]
    args = (small_file, "--graph", "https://example.org/g", "--no-vocabulary", "--endpoint", hostile[0])
    result = load_cli(*args, env={"ABC_KG_ENDPOINT_TOKEN": "t0ken-xyz"})
    assert result.exit_code == 5 and "redirect" in result.stderr
    assert _Hostile.seen == ["Bearer t0ken-xyz"]  # sent once, to the endpoint itself; never to the other origin


@pytest.mark.parametrize("mode", ["broken-xml", "broken-json"])
def test_malformed_sparql_results_are_a_store_error(hostile: tuple[str, str], mode: str) -> None:
    _Hostile.mode = mode
    result = run("query", "level-counts", "--endpoint", hostile[0])
    assert result.exit_code == 5 and "results" in result.stderr and "read" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_store_package_never_imports_the_pipeline() -> None:
    """Stores are sinks: they take what `build` produced and never reach back into the stages before them."""
    code = (
        "import sys, abc_atlas_kg.store; "
        "print(sorted(m for m in sys.modules if m.startswith('abc_atlas_kg.') and not m.startswith('abc_atlas_kg.store')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for stage in ("pipeline", "convert", "validate", "write", "source", "fetch", "cli"):
        assert f"abc_atlas_kg.{stage}'" not in loaded, loaded
