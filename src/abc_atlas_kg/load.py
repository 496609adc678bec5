"""Load stage: put taxonomy releases into a triple store, one named graph each, replacing what was there.

Two targets behind one small interface (`Target`):

- `EmbeddedStore`: an on-disk pyoxigraph store, no server. A re-load removes the graph, then bulk-loads it
  (Oxigraph's bulk loader writes storage files directly, far faster than transactional inserts).
- `GraphStoreEndpoint`: any SPARQL 1.1 Graph Store HTTP Protocol endpoint. A re-load is one `PUT` per graph,
  which the protocol defines as replace, so loading a release twice never duplicates it.

Everything loaded is first normalised to `Payload`s: one N-Triples file per named graph. Both targets then do the
same thing per graph, and the triple counts in the summary are asked of the store afterwards, never assumed.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from . import pipeline
from .convert import iri_segment
from .errors import StoreError, UsageError
from .resources import ontology_dir, shapes_dir
from .vocab import DCTERMS, DEFAULT_BASE_IRI, OBO, RDF

log = logging.getLogger(__name__)

ONTOLOGY_GRAPH = "https://w3id.org/abc-atlas-kg/graph/ontology"
SHAPES_GRAPH = "https://w3id.org/abc-atlas-kg/graph/shapes"

STORE_ENV = "ABC_KG_STORE"
USER_ENV = "ABC_KG_ENDPOINT_USER"
PASSWORD_ENV = "ABC_KG_ENDPOINT_PASSWORD"
TOKEN_ENV = "ABC_KG_ENDPOINT_TOKEN"

RDF_FILE_SUFFIXES = (".nq", ".nt", ".ttl", ".jsonld", ".trig")
TRIPLES_COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"

QueryResult = ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]


def default_store_dir() -> Path:
    """Where the embedded store lives unless `--store` says otherwise: $ABC_KG_STORE, else the user data dir."""
    configured = os.environ.get(STORE_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return platformdirs.user_data_path("abc-atlas-kg", appauthor=False) / "store"


# --- what gets loaded ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payload:
    """The triples of one named graph, as an N-Triples file, and where they came from (for messages)."""

    graph: str
    path: Path
    origin: str


def _write_ntriples(triples: Iterable[ox.Triple], path: Path) -> None:
    with path.open("wb") as out:
        ox.serialize(triples, out, ox.RdfFormat.N_TRIPLES)


def _rdf_format(path: Path) -> ox.RdfFormat:
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None or path.suffix not in RDF_FILE_SUFFIXES:
        raise UsageError(f"{path}: unknown RDF file type {path.suffix!r}; use one of {', '.join(RDF_FILE_SUFFIXES)}")
    return fmt


def _taxonomy_graph(triples: Sequence[ox.Triple]) -> str | None:
    """The release graph of a file's taxonomy node: `{taxonomy IRI}/release/{dcterms:hasVersion}`, as exports name it."""
    taxonomies = {
        t.subject for t in triples if t.predicate.value == RDF + "type" and t.object.value == OBO + "PCL_0010002"
    }
    versions = {
        (t.subject.value, t.object.value)
        for t in triples
        if t.subject in taxonomies and t.predicate.value == DCTERMS + "hasVersion"
    }
    if len(versions) != 1:
        return None
    taxonomy, release = versions.pop()
    return f"{taxonomy}/release/{iri_segment(release)}"


def file_payloads(path: Path, workdir: Path, graph: str | None = None) -> list[Payload]:
    """One payload per named graph in an RDF file.

    Quads (.nq, .trig, JSON-LD with a top-level `@id`) keep their graphs. Triples in the default graph go to
    `graph` if given, else to the release graph of the file's taxonomy node (exports carry one); otherwise the
    file is refused rather than loaded into a graph the user did not choose.
    """
    try:
        quads = list(ox.parse(path=str(path), format=_rdf_format(path)))
    except (SyntaxError, ValueError, OSError) as err:
        raise UsageError(f"{path}: cannot be parsed: {err}") from err
    groups: dict[str, list[ox.Triple]] = {}
    default: list[ox.Triple] = []
    for quad in quads:
        if isinstance(quad.graph_name, ox.DefaultGraph):
            default.append(quad.triple)
        else:
            groups.setdefault(quad.graph_name.value, []).append(quad.triple)
    if default:
        target = graph or _taxonomy_graph(default)
        if target is None:
            raise UsageError(
                f"{path}: triples without a named graph and no single taxonomy release node to name one; pass --graph IRI"
            )
        groups.setdefault(target, []).extend(default)
    payloads = []
    for i, (name, triples) in enumerate(groups.items()):
        out = workdir / f"{path.stem}.{i}.nt"
        _write_ntriples(triples, out)
        payloads.append(Payload(name, out, str(path)))
    return payloads


def taxonomy_payloads(
    taxonomy_id: str, workdir: Path, root: Path | None, release: str | None, base_iri: str = DEFAULT_BASE_IRI
) -> list[Payload]:
    """Export a taxonomy release (SHACL-checked) as N-Quads into `workdir` and take its one graph."""
    result = pipeline.export(taxonomy_id, root, workdir / "export", ["nq"], base_iri, release)
    origin = f"{result.taxonomy.id} release {result.taxonomy.release}"
    return [Payload(p.graph, p.path, origin) for p in file_payloads(result.files[0], workdir)]


def vocabulary_payloads(workdir: Path) -> list[Payload]:
    """The ontology and the SHACL shapes, each in its own graph, so that queries and validators find them."""
    payloads = []
    for graph, files, stem in (
        (ONTOLOGY_GRAPH, [ontology_dir() / "abc-atlas-kg.ttl"], "ontology"),
        (SHAPES_GRAPH, sorted(shapes_dir().glob("*.ttl")), "shapes"),
    ):
        triples = [q.triple for f in files for q in ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)]
        out = workdir / f"{stem}.nt"
        _write_ntriples(triples, out)
        payloads.append(Payload(graph, out, ", ".join(f.name for f in files)))
    return payloads


# --- targets -------------------------------------------------------------------------------------------------


class Target(Protocol):
    """A triple store that abc-kg can write named graphs into and ask SPARQL queries of."""

    description: str

    def begin(self, graphs: set[str]) -> None:
        """Prepare for replacing these graphs (a chance to do it faster than graph by graph)."""

    def replace(self, payload: Payload) -> None:
        """Make the payload's graph hold exactly the payload's triples."""

    def append(self, payload: Payload) -> None:
        """Add the payload's triples to its graph (a second input for a graph already replaced in this run)."""

    def query(self, sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> QueryResult:
        """Run a query with variables bound to RDF terms; never by pasting strings into the query."""

    def close(self) -> None: ...


def count_triples(target: Target, graph: str) -> int:
    """Triples in a named graph, as the store counts them."""
    result = target.query(TRIPLES_COUNT, {"g": ox.NamedNode(graph)})
    assert isinstance(result, ox.QuerySolutions)
    rows = list(result)
    return int(rows[0]["n"].value) if rows and rows[0]["n"] is not None else 0


class EmbeddedStore:
    """An on-disk pyoxigraph (RocksDB) store: no server, one process at a time for writing."""

    def __init__(self, path: Path, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self.description = f"embedded Oxigraph store {path}"
        try:
            if read_only:
                if not (path / "CURRENT").is_file():
                    raise StoreError(f"no store at {path}; load something first with `abc-kg load`")
                self.store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self.store = ox.Store(str(path))
        except OSError as err:
            raise StoreError(f"cannot open the store at {path}: {err} (is another abc-kg process using it?)") from err

    def clear(self) -> None:
        """Empty the whole store: fast in Oxigraph, unlike dropping one big graph."""
        self.store.clear()

    def begin(self, graphs: set[str]) -> None:
        """When this load replaces everything the store holds, empty it at once.

        Removing one graph from an on-disk Oxigraph store deletes quad by quad (about 60 s per million triples
        here); clearing the whole store is instant. The result is the same when no other graph would survive.
        """
        held = {g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)}
        others = set(self.store.named_graphs()) - {ox.NamedNode(g) for g in held}
        default_empty = next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None
        if held and held <= graphs and not others and default_empty:
            log.info("every graph in %s is being replaced: clearing the store first", self.path)
            self.clear()

    def replace(self, payload: Payload) -> None:
        graph = ox.NamedNode(payload.graph)
        if self.store.contains_named_graph(graph):
            self.store.remove_graph(graph)
        self.append(payload)

    def append(self, payload: Payload) -> None:
        try:
            self.store.bulk_load(
                path=str(payload.path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(payload.graph)
            )
        except (OSError, SyntaxError) as err:
            raise StoreError(f"loading {payload.origin} into {self.path} failed: {err}") from err

    def query(self, sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> QueryResult:
        substitutions = {ox.Variable(name): term for name, term in bindings.items()}
        try:
            result = self.store.query(sparql, use_default_graph_as_union=True, substitutions=substitutions)
        except SyntaxError as err:
            raise UsageError(f"the query does not parse: {err}") from err
        except RuntimeError as err:  # e.g. a bound variable that the SELECT does not project
            raise UsageError(f"the query cannot be run with these parameters: {err}") from err
        except OSError as err:
            raise StoreError(f"the query failed on {self.path}: {err}") from err
        return list(result) if isinstance(result, ox.QueryTriples) else result

    def close(self) -> None:
        """Flush a writable store and let RocksDB release its lock, so that `serve` or another load can open it."""
        if not self.read_only:
            self.store.flush()
        del self.store


# --- remote endpoint -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """Credentials for a remote store, from the environment or a prompt; never shown (repr hides them)."""

    user: str | None = field(default=None)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> Credentials:
        return cls(
            os.environ.get(USER_ENV) or None, os.environ.get(PASSWORD_ENV) or None, os.environ.get(TOKEN_ENV) or None
        )


class _Bearer(AuthBase):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


AUTH_SCHEMES = ("auto", "basic", "digest", "bearer", "none")


def default_query_url(endpoint: str) -> str:
    """The SPARQL query URL that goes with a Graph Store URL on the common servers; else the URL itself.

    Oxigraph `/store` → `/query`; Virtuoso `/sparql-graph-crud(-auth)` → `/sparql`; Fuseki `/ds/data` →
    `/ds/sparql`; GraphDB and RDF4J `/repositories/r/rdf-graphs/service` → `/repositories/r`.
    """
    parts = urlsplit(endpoint)
    path = parts.path
    if path.endswith("/store"):
        path = path[: -len("store")] + "query"
    elif "/sparql-graph-crud" in path:
        path = path[: path.index("/sparql-graph-crud")] + "/sparql"
    elif path.endswith("/rdf-graphs/service"):
        path = path[: -len("/rdf-graphs/service")]
    elif path.endswith("/data"):
        path = path[: -len("data")] + "sparql"
    return urlunsplit(parts._replace(path=path, query="", fragment=""))


def check_url(url: str, option: str) -> str:
    """http(s) only, and no credentials inside (they would end up in shell history, logs and messages)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option} must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise UsageError(f"{option} must not contain credentials; set {USER_ENV} and {PASSWORD_ENV} (or {TOKEN_ENV})")
    return url


_RESULT_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}
_GRAPH_FORMATS = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE}
_ACCEPT = (
    "application/sparql-results+xml, application/sparql-results+json;q=0.9, application/n-triples, text/turtle;q=0.8"
)


class GraphStoreEndpoint:
    """A SPARQL 1.1 Graph Store HTTP Protocol endpoint (writes) plus its SPARQL query endpoint (counts, queries).

    The graph goes in the `graph` query parameter (standard) or `graph-uri` (Virtuoso); `auto` picks `graph-uri`
    for Virtuoso's `/sparql-graph-crud` URLs. Authentication: `auto` sends a bearer token if one is set, else
    answers the server's first 401 challenge with Digest or Basic as the server asks.
    """

    def __init__(
        self,
        url: str,
        query_url: str | None = None,
        gsp_param: str = "auto",
        auth: str = "auto",
        credentials: Credentials | None = None,
        timeout: float = 600.0,
        prompt: Callable[[str, str | None], tuple[str, str] | None] | None = None,
    ):
        self.url = check_url(url, "--endpoint")
        self.query_url = check_url(query_url, "--query-url") if query_url else default_query_url(url)
        self.param = gsp_param if gsp_param != "auto" else ("graph-uri" if "/sparql-graph-crud" in url else "graph")
        self.description = f"Graph Store endpoint {self.url} (queries at {self.query_url})"
        self.scheme = auth
        self.credentials = credentials if credentials is not None else Credentials.from_env()
        self.timeout = timeout
        self.prompt = prompt  # asks the user for (user, password); the CLI's, so that no stage talks to the terminal
        self.session = requests.Session()
        self.session.auth = self._auth(auth)

    def _auth(self, scheme: str) -> AuthBase | None:
        c = self.credentials
        if scheme == "bearer" or (scheme == "auto" and c.token):
            if not c.token:
                raise UsageError(f"--auth bearer needs {TOKEN_ENV}")
            return _Bearer(c.token)
        if scheme in ("basic", "digest"):
            if not (c.user and c.password):
                raise UsageError(f"--auth {scheme} needs {USER_ENV} and {PASSWORD_ENV}")
            return HTTPBasicAuth(c.user, c.password) if scheme == "basic" else HTTPDigestAuth(c.user, c.password)
        return None  # "none", or "auto" waiting for the server's challenge

    def _answer_challenge(self, response: requests.Response) -> bool:
        """After a 401 in `auto` mode: pick Digest or Basic as the server asks; ask `prompt` if credentials are missing."""
        if self.scheme != "auto" or self.session.auth is not None:
            return False
        c = self.credentials
        if not (c.user and c.password):
            answer = self.prompt(self._safe(self.url), c.user) if self.prompt is not None else None
            if answer is None:
                return False
            self.credentials = c = Credentials(answer[0], answer[1], None)
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        self.session.auth = (
            HTTPDigestAuth(c.user, c.password) if "digest" in challenge else HTTPBasicAuth(c.user, c.password)
        )
        return True

    @staticmethod
    def _safe(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(query="", fragment=""))

    def _request(
        self, method: str, url: str, body: Path | None = None, form: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """One HTTP exchange with errors turned into StoreErrors that name the URL, never the credentials."""
        for _attempt in range(2):
            try:
                with _opened(body) as data:
                    response = self.session.request(
                        method, url, data=form or data, timeout=(10, self.timeout), **kwargs
                    )
            except requests.ConnectionError as err:
                reason = "connection refused" if "refused" in str(err).lower() else type(err).__name__
                raise StoreError(f"cannot connect to {self._safe(url)} ({reason}); is the server running?") from None
            except requests.Timeout:
                raise StoreError(f"{self._safe(url)} did not answer within {self.timeout:g} s") from None
            except requests.RequestException as err:
                raise StoreError(f"{method} {self._safe(url)} failed: {type(err).__name__}") from None
            if response.status_code != 401 or not self._answer_challenge(response):
                break
        if response.status_code == 401:
            who = f" as user {self.credentials.user!r}" if self.credentials.user else ""
            hint = (
                ""
                if self.credentials.user or self.credentials.token
                else f"; set {USER_ENV} and {PASSWORD_ENV} (or {TOKEN_ENV})"
            )
            raise StoreError(f"{method} {self._safe(url)}: authentication failed{who} (HTTP 401){hint}")
        if response.status_code >= 400:
            text = " ".join(response.text.split())[:300]
            raise StoreError(f"{method} {self._safe(url)}: HTTP {response.status_code} {response.reason}: {text}")
        return response

    def _write(self, method: str, payload: Payload) -> None:
        # N-Triples is Turtle; every store accepts text/turtle for GSP writes, not all accept application/n-triples.
        self._request(
            method,
            self.url,
            body=payload.path,
            params={self.param: payload.graph},
            headers={"Content-Type": "text/turtle"},
        )

    def begin(self, graphs: set[str]) -> None:
        """Nothing to prepare: each PUT replaces its graph on the server."""

    def replace(self, payload: Payload) -> None:
        self._write("PUT", payload)

    def append(self, payload: Payload) -> None:
        self._write("POST", payload)

    def query(self, sparql: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> QueryResult:
        from .query import with_values

        response = self._request(
            "POST", self.query_url, form={"query": with_values(sparql, bindings)}, headers={"Accept": _ACCEPT}
        )
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if media in _RESULT_FORMATS:
                return ox.parse_query_results(response.content, _RESULT_FORMATS[media])
            if media in _GRAPH_FORMATS:
                return [q.triple for q in ox.parse(response.content, _GRAPH_FORMATS[media])]
        except (SyntaxError, ValueError) as err:
            raise StoreError(f"{self._safe(self.query_url)} sent unreadable {media} results: {err}") from err
        raise StoreError(f"{self._safe(self.query_url)} answered with unexpected content type {media!r}")

    def close(self) -> None:
        self.session.close()


@contextmanager
def _opened(path: Path | None) -> Iterator[IO[bytes] | None]:
    """A fresh file handle per attempt, so a retried request (auth challenge) sends the whole body again."""
    if path is None:
        yield None
        return
    with path.open("rb") as handle:
        yield handle


# --- the load itself -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphLoaded:
    graph: str
    triples: int
    origin: str


@dataclass(frozen=True)
class LoadSummary:
    target: str
    graphs: list[GraphLoaded]
    seconds: float

    def text(self) -> str:
        width = max((len(g.graph) for g in self.graphs), default=0)
        lines = [f"loaded {len(self.graphs)} graph(s) into {self.target} in {self.seconds:.2f} s:"]
        lines += [f"  {g.graph.ljust(width)}  {g.triples:>9,} triples  ({g.origin})" for g in self.graphs]
        return "\n".join(lines)


def load(target: Target, payloads: Sequence[Payload]) -> LoadSummary:
    """Replace each payload's graph (append for a second payload of the same graph), then count what the store has."""
    start = time.perf_counter()
    target.begin({p.graph for p in payloads})
    origins: dict[str, list[str]] = {}
    for payload in payloads:
        if payload.graph in origins:
            target.append(payload)
        else:
            target.replace(payload)
        origins.setdefault(payload.graph, []).append(payload.origin)
    graphs = [GraphLoaded(g, count_triples(target, g), ", ".join(o)) for g, o in origins.items()]
    return LoadSummary(target.description, graphs, time.perf_counter() - start)


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="abc-kg-load-") as tmp:
        yield Path(tmp)
