"""A remote store: a SPARQL 1.1 Graph Store HTTP Protocol endpoint (writes) and its SPARQL query endpoint.

Secrets: credentials come in a `Credentials` object (the CLI builds it from the environment or a prompt, see
`credentials_from_env`); they are checked before use (control characters refused, Basic needs Latin-1) without
repeating them; no redirect is followed (a redirect to another origin would carry them, and a Digest challenge
from there would be answered); server texts are shown only after removing every secret the tool sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from ..defaults import PASSWORD_ENV, TOKEN_ENV, USER_ENV
from ..errors import StoreError, UsageError
from ..rdf.terms import Term, term
from . import results
from .binding import Sparql, bind
from .inputs import Staged

SHOWN_SERVER_TEXT = 300


@dataclass(frozen=True)
class Credentials:
    """Credentials for a remote store; never shown (repr hides the secrets)."""

    user: str | None = field(default=None)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def secrets(self) -> list[str]:
        return [s for s in (self.password, self.token) if s]

    def check(self) -> Credentials:
        """Refuse values that cannot be sent as they are, naming the variable but never the value."""
        for name, value, env in (("user", self.user, USER_ENV), ("password", self.password, PASSWORD_ENV),
                                 ("token", self.token, TOKEN_ENV)):  # fmt: skip
            if value and any(ord(c) < 32 or ord(c) == 127 for c in value):
                raise UsageError(
                    f"the {name} (${env}) contains a control character (a trailing newline or carriage return from "
                    "a file?); it was not sent"
                )
        return self


def credentials_from_env(environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from $ABC_KG_ENDPOINT_USER, $ABC_KG_ENDPOINT_PASSWORD and $ABC_KG_ENDPOINT_TOKEN (checked)."""
    env = os.environ if environ is None else environ
    return Credentials(env.get(USER_ENV) or None, env.get(PASSWORD_ENV) or None, env.get(TOKEN_ENV) or None).check()


class _Bearer(AuthBase):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def _basic(credentials: Credentials) -> HTTPBasicAuth:
    assert credentials.user is not None and credentials.password is not None
    try:
        credentials.user.encode("latin-1")
        credentials.password.encode("latin-1")
    except UnicodeEncodeError:
        raise UsageError(
            "HTTP Basic authentication can only send Latin-1 user names and passwords; this one has other "
            "characters (use --auth digest, a token, or another password)"
        ) from None
    return HTTPBasicAuth(credentials.user, credentials.password)


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
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise UsageError(f"{option} is not a usable URL") from None
    if parts.scheme not in ("http", "https") or not host:
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
    """A Graph Store endpoint plus its query endpoint. Each graph is replaced by one `PUT` (the protocol's replace).

    The graph goes in the `graph` query parameter (standard) or `graph-uri` (Virtuoso); `auto` picks `graph-uri`
    for Virtuoso's `/sparql-graph-crud` URLs. Authentication: `auto` sends a bearer token if one is set, else
    answers the server's first 401 challenge with Digest or Basic as the server asks, if credentials are set or
    `prompt` (from the CLI) supplies them.
    """

    def __init__(
        self,
        url: str,
        query_url: str | None = None,
        gsp_param: str = "auto",
        auth: str = "auto",
        credentials: Credentials | None = None,
        timeout: float = 600.0,
        prompt: Callable[[str], Credentials | None] | None = None,
    ):
        self.url = check_url(url, "--endpoint")
        self.query_url = check_url(query_url, "--query-url") if query_url else default_query_url(url)
        self.param = gsp_param if gsp_param != "auto" else ("graph-uri" if "/sparql-graph-crud" in url else "graph")
        self.description = f"Graph Store endpoint {self._safe(self.url)} (queries at {self._safe(self.query_url)})"
        self.scheme = auth
        # Oxigraph's /query takes a per-request union-default-graph switch; Virtuoso's default graph is the union.
        self.oxigraph = urlsplit(self.query_url).path.endswith("/query")
        self.credentials = (credentials or Credentials()).check()
        self.prompt = prompt
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc credentials sent behind the user's back
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
            return _basic(c) if scheme == "basic" else HTTPDigestAuth(c.user, c.password)
        return None  # "none", or "auto" waiting for the server's challenge

    def _answer_challenge(self, response: requests.Response) -> bool:
        """After a 401 in `auto` mode: pick Digest or Basic as the server asks; ask the CLI's prompt if needed."""
        if self.scheme != "auto" or self.session.auth is not None:
            return False
        c = self.credentials
        if not (c.user and c.password):
            supplied = self.prompt(self._safe(self.url)) if self.prompt else None
            if supplied is None or not (supplied.user and supplied.password):
                return False
            self.credentials = c = supplied.check()
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        assert c.user is not None and c.password is not None
        self.session.auth = HTTPDigestAuth(c.user, c.password) if "digest" in challenge else _basic(c)
        return True

    @staticmethod
    def _safe(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(parts._replace(query="", fragment=""))

    def _scrub(self, text: str) -> str:
        """A server's text without anything secret the tool sent (servers may echo request headers)."""
        import base64
        import re

        c = self.credentials
        secrets = c.secrets()
        if c.user and c.password:
            pair = f"{c.user}:{c.password}".encode("latin-1", errors="ignore")
            secrets.append(base64.b64encode(pair).decode("ascii"))
        for secret in secrets:
            text = text.replace(secret, "***")
        text = re.sub(r"(?i)(authorization\s*[:=]\s*)(\S+(\s+\S+)?)", r"\1***", text)
        return re.sub(r'(?i)((?:response|nonce|cnonce)\s*=\s*)"?[^",\s]+"?', r"\1***", text)

    def _request(self, method: str, url: str, body: Path | None = None, **kwargs: Any) -> requests.Response:
        """One HTTP exchange with errors turned into StoreErrors that name the URL, never the credentials."""
        for _attempt in range(2):
            try:
                with _opened(body) as data:
                    if data is not None:
                        kwargs["data"] = data
                    response = self.session.request(
                        method, url, timeout=(10, self.timeout), allow_redirects=False, **kwargs
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
        self._check(method, url, response)
        return response

    def _check(self, method: str, url: str, response: requests.Response) -> None:
        status = response.status_code
        if 300 <= status < 400:
            where = self._safe(response.headers.get("Location", "?"))
            raise StoreError(
                f"{method} {self._safe(url)}: the server redirects (HTTP {status}) to {where}; abc-kg does not follow "
                "redirects (credentials must not travel to another address): use the final URL"
            )
        if status == 401:
            c = self.credentials
            who = f" as user {c.user!r}" if c.user else ""
            hint = "" if c.user or c.token else f"; set {USER_ENV} and {PASSWORD_ENV} (or {TOKEN_ENV})"
            raise StoreError(f"{method} {self._safe(url)}: authentication failed{who} (HTTP 401){hint}")
        if status >= 400:
            text = self._scrub(" ".join(response.text.split())[:SHOWN_SERVER_TEXT])
            error = UsageError if (status == 400 and url == self.query_url) else StoreError
            raise error(f"{method} {self._safe(url)}: HTTP {status} {response.reason}: {text}")

    # --- writing ---------------------------------------------------------------------------------------------

    def replace(self, staged: Staged) -> None:
        """PUT the graph's triples (N-Triples, sent as text/turtle, which every server accepts)."""
        with tempfile.TemporaryDirectory(prefix="abc-kg-put-") as tmp:
            body = Path(tmp) / "graph.nt"
            try:
                with body.open("wb") as out:
                    ox.serialize(staged.triples(), out, ox.RdfFormat.N_TRIPLES)
            except OSError as err:
                raise StoreError(f"cannot write the request body for {staged.graph}: {err}") from None
            self._request(
                "PUT", self.url, body=body, params={self.param: staged.graph}, headers={"Content-Type": "text/turtle"}
            )

    def scratch_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="abc-kg-scratch-"))

    def graphs(self) -> list[str]:
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert isinstance(result, results.Solutions)
        return sorted(term(row[0]).value for row in result.rows if row[0] is not None)

    # --- reading ---------------------------------------------------------------------------------------------

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None) -> results.Result:
        """POST the bound query; a query that names no dataset asks Oxigraph for the union default graph."""
        text = bind(sparql, bindings or {})
        union = self.oxigraph and not Sparql(text).names_a_dataset
        params = {"union-default-graph": ""} if union else {}
        response = self._request(
            "POST", self.query_url, data={"query": text}, params=params, headers={"Accept": _ACCEPT}
        )
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        source = self._safe(self.query_url)
        try:
            if media in _RESULT_FORMATS:
                return results.materialise(ox.parse_query_results(response.content, _RESULT_FORMATS[media]), source)
            if media in _GRAPH_FORMATS:
                return results.Graph([q.triple for q in ox.parse(response.content, _GRAPH_FORMATS[media])])
        except (SyntaxError, ValueError, OSError) as err:
            raise StoreError(f"{source} sent unreadable {media} results: {self._scrub(str(err))}") from None
        raise StoreError(f"{source} answered with unexpected content type {media!r}")

    def close(self) -> None:
        self.session.close()


class _opened:
    """A fresh file handle per attempt, so a retried request (auth challenge) sends the whole body again."""

    def __init__(self, path: Path | None):
        self.path = path
        self.handle: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes] | None:
        self.handle = self.path.open("rb") if self.path is not None else None
        return self.handle

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.close()
