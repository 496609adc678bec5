"""Shared helpers: run the real CLI, export once per session, load outputs into a real RDF store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import servers
from click.testing import CliRunner, Result

from abc_atlas_kg.cli import main
from abc_atlas_kg.resources import sample_root

FIXTURES = Path(__file__).parent / "fixtures"
ATLAS = FIXTURES / "atlas"  # one small release of every taxonomy in the registry
AGING_10XV3 = ATLAS / "variants" / "aging-10Xv3-20250131" / "metadata"  # the 10Xv3 cluster.csv at its own version
COMPLETE = FIXTURES / "wmb-complete"  # all four tables, release 20231215
COMPLETE_RELEASE = COMPLETE / "metadata" / "WMB-taxonomy" / "20231215"
SAMPLE = sample_root()  # the real sample shipped with the package, release 20230830
SAMPLE_RELEASE = SAMPLE / "metadata" / "WMB-taxonomy" / "20230830"
FORMATS = ("ttl", "nt", "nq", "jsonld")

PREFIXES = """
PREFIX akg: <https://w3id.org/abc-atlas-kg/vocab/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX obo: <http://purl.obolibrary.org/obo/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX semapv: <https://w3id.org/semapv/vocab/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sssom: <https://w3id.org/sssom/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


ABC_KG = Path(sys.executable).parent / "abc-kg"  # the installed entry point: the real command a user runs


def cli(*args: str | Path, timeout: float = 120, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """`abc-kg ARGS` as a separate process, as a user or a script runs it: real exit codes, real streams."""
    return subprocess.run(
        [str(ABC_KG), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def shared_root() -> Path:
    """The real ABC data beside the clone (`../shared`) or at $ABC_KG_SHARED."""
    configured = os.environ.get("ABC_KG_SHARED")
    return Path(configured) if configured else Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_bucket() -> Path:
    """The real WMB sample bucket; skipped when absent, unless ABC_KG_REQUIRE_SHARED=1 (CI) makes that a failure."""
    bucket = shared_root() / "samples" / "abc-bucket"
    if not (bucket / "metadata").is_dir():
        if os.environ.get("ABC_KG_REQUIRE_SHARED"):
            raise FileNotFoundError(f"ABC_KG_REQUIRE_SHARED=1 but {bucket} is missing")
        pytest.skip(f"no shared ABC data at {bucket} (set ABC_KG_SHARED)")
    return bucket


@pytest.fixture(scope="session")
def shared_integration() -> Path:
    """The real integration sources (../shared/samples/integration); skipped when absent, unless required."""
    folder = shared_root() / "samples" / "integration"
    if not (folder / "SOURCES.md").is_file():
        if os.environ.get("ABC_KG_REQUIRE_SHARED"):
            raise FileNotFoundError(f"ABC_KG_REQUIRE_SHARED=1 but {folder} is missing")
        pytest.skip(f"no shared integration sources at {folder}")
    return folder


@dataclass(frozen=True)
class Export:
    folder: Path
    accession: str = "CCN20230722"

    def file(self, fmt: str) -> Path:
        return self.folder / f"{self.accession}.{fmt}"

    def store(self, fmt: str = "nt") -> ox.Store:
        return load_store(self.file(fmt))


def load_store(path: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix.lstrip(".")))
    return store


def select(store: ox.Store, query: str, **bindings: str) -> list[dict[str, str]]:
    """Run a SELECT over the union of all graphs; values come back as plain strings."""
    substitutions = {ox.Variable(k): ox.Literal(v) for k, v in bindings.items()}
    results = store.query(PREFIXES + query, use_default_graph_as_union=True, substitutions=substitutions)
    return [{var.value: sol[var].value for var in results.variables if sol[var] is not None} for sol in results]


def export_to(out: Path, *args: str | Path) -> Result:
    result = run("export", "WMB-taxonomy", "--out", out, *args)
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    out = tmp_path_factory.mktemp("sample-out")
    export_to(out)
    return Export(out / "WMB-taxonomy" / "20230830")


@pytest.fixture(scope="session")
def complete_export(tmp_path_factory: pytest.TempPathFactory) -> Export:
    out = tmp_path_factory.mktemp("complete-out")
    export_to(out, "--source", COMPLETE)
    return Export(out / "WMB-taxonomy" / "20231215")


@pytest.fixture
def broken_copy(tmp_path: Path) -> Callable[[str, Callable[[str], str]], Path]:
    """Copy the complete fixture and rewrite one of its files' text; returns the new --source root."""

    def make(file_name: str, edit: Callable[[str], str]) -> Path:
        root = tmp_path / "bucket"
        shutil.copytree(COMPLETE, root)
        target = root / COMPLETE_RELEASE.relative_to(COMPLETE) / file_name
        target.write_text(edit(target.read_text(encoding="utf-8")), encoding="utf-8")
        return root

    return make


# --- stores: the embedded one and real servers, started once per session (see servers.py) -----------------

RELEASE_GRAPH = "https://purl.brain-bican.org/taxonomy/CCN20230722/release/20231215"
VIRTUOSO_ENV = {"ABC_KG_ENDPOINT_USER": "dba", "ABC_KG_ENDPOINT_PASSWORD": "dba"}  # Virtuoso's default account


@pytest.fixture(autouse=True)
def _no_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real default store or credentials from a test."""
    monkeypatch.setenv("ABC_KG_STORE", str(tmp_path / "default-store"))
    for name in ("ABC_KG_ENDPOINT", "ABC_KG_QUERY_URL", "ABC_KG_ENDPOINT_AUTH", "ABC_KG_ENDPOINT_USER",
                 "ABC_KG_ENDPOINT_PASSWORD", "ABC_KG_ENDPOINT_TOKEN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    server = servers.start_oxigraph(tmp_path_factory.mktemp("oxigraph"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Server]:
    try:
        server = servers.start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    except FileNotFoundError:
        if os.environ.get("ABC_KG_REQUIRE_SERVERS"):
            raise
        pytest.skip("virtuoso-t is not installed (apt-get install virtuoso-opensource-7-bin)")
    yield server
    server.stop()


def load_cli(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    """`abc-kg load ...` through the real CLI, with credentials (if any) in the environment only."""
    return CliRunner(env=env).invoke(main, ["load", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="session")
def embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store holding the complete fixture, its ontology and shapes."""
    path = tmp_path_factory.mktemp("embedded") / "store"
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--store", path)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture(scope="session")
def oxigraph_loaded(oxigraph_server: servers.Server) -> servers.Server:
    """The Oxigraph server holding the complete fixture. Tests that change it put it back."""
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", oxigraph_server.endpoint)
    assert result.exit_code == 0, result.stderr
    return oxigraph_server


@pytest.fixture(scope="session")
def virtuoso_loaded(virtuoso_server: servers.Server) -> servers.Server:
    """Virtuoso holding the complete fixture. Tests that change it put it back."""
    result = load_cli("WMB-taxonomy", "--source", COMPLETE, "--endpoint", virtuoso_server.endpoint, env=VIRTUOSO_ENV)
    assert result.exit_code == 0, result.stderr
    return virtuoso_server


def atlas_with_aging_counts(folder: Path) -> Path:
    """A copy of the atlas fixture with the aging clusters' 10Xv3 cluster.csv (at version 20250131) added."""
    shutil.copytree(ATLAS, folder)
    shutil.copytree(AGING_10XV3, folder / "metadata", dirs_exist_ok=True)
    return folder


# --- the slow tier: `pytest -m "not slow"` is the inner loop, CI runs both ----------------------------------------

SLOW_FIXTURES = {
    "oxigraph_server", "virtuoso_server", "oxigraph_loaded", "virtuoso_loaded",  # real store servers
    "shared_bucket", "real_bucket",  # the real ABC release from ../shared
}  # fmt: skip
SERVER_PARAMS = {"oxigraph", "virtuoso"}  # the store a parametrised test runs against (test_query's `target`)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on real store servers or the real release are slow wherever they are: marked here, by the fixtures
    or targets they use."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_server = SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_server or SERVER_PARAMS & {v for v in params.values() if isinstance(v, str)}:
            item.add_marker(pytest.mark.slow)
