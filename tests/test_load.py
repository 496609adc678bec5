"""`abc-kg load` into the embedded store and into real servers: idempotent re-loads, replacement, auth, failures."""

from __future__ import annotations

import base64
import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
import requests
import servers
from conftest import COMPLETE, RELEASE_GRAPH, VIRTUOSO_ENV, Export, load_cli, run

from abc_atlas_kg.store import ONTOLOGY_GRAPH, SHAPES_GRAPH, default_query_url

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
    assert counts[RELEASE_GRAPH] == 335  # the fixture's export, as its README table says
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
    assert "335 triples" in line
    assert second.stdout == ""


def test_embedded_default_store_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABC_KG_STORE", str(tmp_path / "from-env"))
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(tmp_path / "from-env") == {RELEASE_GRAPH: 335}


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
    assert embedded_counts(store)[RELEASE_GRAPH] == 335


@pytest.mark.parametrize("fmt", ["nq", "nt", "ttl", "jsonld"])
def test_exported_files_load_into_the_release_graph(complete_export: Export, tmp_path: Path, fmt: str) -> None:
    store = tmp_path / "store"
    result = load_cli(complete_export.file(fmt), "--store", store, "--no-vocabulary")
    assert result.exit_code == 0, result.stderr
    assert embedded_counts(store) == {RELEASE_GRAPH: 335}


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
    assert before[RELEASE_GRAPH] == 335
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", oxigraph_loaded.endpoint)
    assert result.exit_code == 0, result.stderr
    assert server_counts(oxigraph_loaded.query_url) == before
    assert "335 triples" in result.stderr


def test_oxigraph_server_replaces_an_edited_release_and_back(
    oxigraph_loaded: servers.Server, complete_export: Export, tmp_path: Path
) -> None:
    url = oxigraph_loaded.query_url
    try:
        changed = load_cli(renamed_copy(complete_export, tmp_path, "ttl"), "--endpoint", oxigraph_loaded.endpoint)
        assert changed.exit_code == 0, changed.stderr
        assert labels_of(url, CLASS_01) == {"01 IT-ET Glut renamed"}
        assert server_counts(url)[RELEASE_GRAPH] == 335
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
    assert once[RELEASE_GRAPH] == 335
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
        assert server_counts(virtuoso_server.query_url)[RELEASE_GRAPH] == 335
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
    assert embedded_counts(tmp_path / "store") == {RELEASE_GRAPH: 335}


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
