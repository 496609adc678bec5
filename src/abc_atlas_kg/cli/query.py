"""`abc-kg query`: named or ad-hoc SPARQL against a store."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UsageError

if TYPE_CHECKING:
    from ..store import Target
from ..defaults import QUERY_OUTPUT_FORMATS
from .params import QueryNameType
from .targets import store_target


def _check_query(query_text: str | None, query_file: Path | None, list_queries: bool, **_: Any) -> None:
    if not list_queries and (query_text is None) == (query_file is None):
        raise UsageError("give one QUERY_NAME, SPARQL string or --file (see `abc-kg query --list`)")


@click.command("query")
@click.argument("query_text", required=False, metavar="[QUERY_NAME | 'SPARQL']", type=QueryNameType())
@click.option(
    "--file", "query_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Read the query here."
)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Bind a query variable (repeatable).")
@click.option("--list", "list_queries", is_flag=True, help="List the named queries and their parameters.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_OUTPUT_FORMATS),
    default="table",
    show_default=True,
    help="SELECT output.",
)
@click.option("--full-iris", is_flag=True, help="Tables show full IRIs instead of CURIEs of the known prefixes.")
@store_target(read_only=True, check=_check_query, needed=lambda list_queries, **_: not list_queries)
def query_command(
    query_text: str | None,
    query_file: Path | None,
    params: tuple[str, ...],
    list_queries: bool,
    fmt: str,
    full_iris: bool,
    target: Target | None,
    endpoint: str | None,
) -> None:
    """Run a named query (see --list), a query file or a SPARQL string against a store; results to stdout.

    On the embedded store the default graph is the union of all graphs. Named queries work on any store, as
    they match each release in its own graph (GRAPH ?g).
    """
    from .. import store as kgstore
    from ..store import binding, named, results

    if target is None:
        named.describe(sys.stdout)
        return
    named_query = None
    if query_file is not None:
        text = query_file.read_text(encoding="utf-8")
    elif query_text is not None and named.looks_like_name(query_text):
        named_query = named.get(query_text)
        text = named_query.text
    else:
        text = query_text or ""
    bindings = named.bind(named_query, named.parse_params(params))
    if named_query is None:
        text = kgstore.with_prefixes(text)  # ad-hoc queries get the export's prefixes unless they declare them
    start = time.perf_counter()
    result = target.query(text, bindings)
    parsed = binding.Sparql(text)
    if isinstance(result, results.Solutions) and parsed.select_star:
        result = result.reordered(parsed.variables)
    output = kgstore.render(result, fmt, kgstore.Style(full_iris=full_iris))
    logging.getLogger(__name__).info("query took %.3f s", time.perf_counter() - start)
    click.echo(output, nl=False)
