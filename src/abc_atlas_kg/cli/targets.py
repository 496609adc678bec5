"""The store options shared by `load`, `query` and `info`: open a target, reachable, closed afterwards."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from ..errors import StoreError

if TYPE_CHECKING:
    from ..store import Credentials, Target
from ..defaults import AUTH_ENV, AUTH_SCHEMES, ENDPOINT_ENV, PASSWORD_ENV, QUERY_URL_ENV, STORE_ENV, TOKEN_ENV, USER_ENV
from .params import _options

_target_options = _options(
    [
        click.option(
            "--store",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Embedded Oxigraph store folder. Default: ${STORE_ENV}, else the user data directory.",
        ),
        click.option(
            "--endpoint",
            envvar=ENDPOINT_ENV,
            help="SPARQL 1.1 Graph Store Protocol URL of a server, e.g. http://localhost:7878/store (Oxigraph) or "
            "http://localhost:8890/sparql-graph-crud-auth (Virtuoso). [env ABC_KG_ENDPOINT]",
        ),
        click.option(
            "--query-url",
            envvar=QUERY_URL_ENV,
            help="SPARQL query URL of that server. Default: derived from --endpoint (/store → /query, "
            "/sparql-graph-crud-auth → /sparql, /ds/data → /ds/sparql). [env ABC_KG_QUERY_URL]",
        ),
        click.option(
            "--gsp-param",
            type=click.Choice(["auto", "graph", "graph-uri"]),
            default="auto",
            show_default=True,
            help="Query parameter naming the graph: graph (standard) or graph-uri (Virtuoso); auto picks by URL.",
        ),
        click.option(
            "--auth",
            "auth_scheme",
            type=click.Choice(AUTH_SCHEMES),
            default="auto",
            envvar=AUTH_ENV,
            show_default=True,
            help=f"Authentication for --endpoint. Credentials come only from ${USER_ENV}, "
            f"${PASSWORD_ENV}, ${TOKEN_ENV} or a hidden prompt on a terminal. auto: bearer if a token "
            "is set, else Digest or Basic as the server's challenge asks.",
        ),
    ]
)


def prompt_credentials(url: str) -> Credentials | None:
    """Ask for a user and password on a terminal (hidden input); None when nobody is there to answer."""
    if not sys.stdin.isatty():
        return None
    from ..store import Credentials

    user = click.prompt(f"user for {url}", err=True)
    password = click.prompt(f"password for {user}", hide_input=True, err=True)
    return Credentials(user=user, password=password)


def open_target(
    store: Path | None, endpoint: str | None, query_url: str | None, gsp_param: str, auth_scheme: str, read_only: bool
) -> Target:
    """The store a command works on; a server is checked to be reachable now, before minutes of building."""
    from .. import store as kgstore

    credentials = kgstore.credentials_from_env() if endpoint else None
    target = kgstore.open_target(store, endpoint, query_url, gsp_param, auth_scheme, credentials, read_only)
    if isinstance(target, kgstore.GraphStoreEndpoint):
        target.prompt = prompt_credentials
        _reachable(target.url)
    return target


def _reachable(url: str, timeout: float = 10.0) -> None:
    """A TCP connection to the server, without any HTTP request (authentication flows stay as they are)."""
    import socket

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    safe = parts._replace(query="", fragment="").geturl()
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            pass
    except OSError as err:
        reason = (
            "connection refused" if isinstance(err, ConnectionRefusedError) else (err.strerror or type(err).__name__)
        )
        raise StoreError(f"cannot connect to {safe} ({reason}); is the server running?") from None


def store_target(
    read_only: bool, check: Callable[..., None] | None = None, needed: Callable[..., bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hands the command a ready `target` (opened, reachable, closed afterwards) in place of the store options.

    `check(**arguments)` runs first, so that usage errors are reported before a store is created or contacted;
    when `needed(**arguments)` is false the command gets `target=None` (e.g. `query --list`).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            if check is not None:
                check(**kwargs)
            names = ("store", "endpoint", "query_url", "gsp_param", "auth_scheme")
            chosen = {name: kwargs.pop(name) for name in names}
            if needed is not None and not needed(**kwargs):
                return command(target=None, endpoint=chosen["endpoint"], **kwargs)
            target = open_target(**chosen, read_only=read_only)
            try:
                return command(target=target, endpoint=chosen["endpoint"], **kwargs)
            finally:
                target.close()

        return _target_options(wrapper)

    return decorate
