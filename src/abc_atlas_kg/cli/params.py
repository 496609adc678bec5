"""Parameter types and shared options: every argument is checked by click before any work starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from click.core import ParameterSource
from click.shell_completion import CompletionItem

from ..errors import UsageError

if TYPE_CHECKING:
    from ..build import BuildOptions
    from ..source.bucket.settings import Settings

    ParamType = click.ParamType[Any, Any]  # generic in click's types (8.2 and later), not at run time in 8.1
else:
    ParamType = click.ParamType
from ..defaults import BASE_URL_ENV, CACHE_ENV, DEFAULT_BASE_IRI, DEFAULT_BASE_URL, DEFAULT_KG_IRI, INTEGRATION_ENV
from .app import _quiet


class TaxonomyType(ParamType):
    """A registry id or accession, case-insensitive; a near miss gets a suggestion. Converts to the registry id."""

    name = "taxonomy"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return resolve_taxonomy(str(value))
        except UsageError as err:
            self.fail(str(err), param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from .. import registry

        names = [n for s in registry.taxonomies().values() for n in (s.id, s.accession)]
        return [CompletionItem(n) for n in names if n.casefold().startswith(incomplete.casefold())]


def complete_release(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Releases of the taxonomies named so far (all taxonomies when none is): the registry's hints, the bundled
    sample's and those of a `--source` folder given before, without asking the bucket (completion must be instant)."""
    from .. import registry
    from ..resources import sample_root
    from ..source.layout import available_releases

    # While completing, click leaves the positional taxonomies unconverted in ctx.args.
    named = {n.casefold() for n in (*ctx.params.get("taxonomy", ()), *ctx.params.get("taxonomies", ()), *ctx.args)}
    known = registry.taxonomies().values()
    specs = [s for s in known if s.id.casefold() in named or s.accession.casefold() in named] or list(known)
    folders = [sample_root(), *([ctx.params["source"]] if ctx.params.get("source") else [])]
    found = {r for s in specs for r in s.known_releases} | {
        r for s in specs for folder in folders for r in available_releases(Path(folder), s.directory)
    }
    return [CompletionItem(r) for r in sorted(found) if r.startswith(incomplete)]


def resolve_taxonomy(name: str) -> str:
    """The registry id for an id or accession in any case; a UsageError naming the closest known ids otherwise."""
    import difflib

    from .. import registry

    known = registry.taxonomies()
    by_name = {n.casefold(): s.id for s in known.values() for n in (s.id, s.accession)}
    if name.casefold() in by_name:
        return by_name[name.casefold()]
    close = difflib.get_close_matches(name.casefold(), list(by_name), n=1, cutoff=0.6)
    hint = f"; did you mean {by_name[close[0]]}?" if close else ""
    raise UsageError(f"unknown taxonomy {name!r}{hint} (known: {', '.join(sorted(known))})")


class FormatsType(ParamType):
    """Comma-separated output format names, checked against the writers."""

    name = "formats"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, list):
            return value
        from ..files import write

        names = [v.strip() for v in str(value).split(",") if v.strip()]
        unknown = [n for n in names if n not in write.formats()]
        if unknown or not names:
            self.fail(f"choose from {', '.join(write.formats())} (got {value!r})", param, ctx)
        return names

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        from ..files import write

        head, _, tail = incomplete.rpartition(",")
        prefix = f"{head}," if head else ""
        return [CompletionItem(prefix + n) for n in write.formats() if n.startswith(tail)]


class IriBaseType(ParamType):
    """An absolute http(s) IRI ending in / or #: the base that names are appended to."""

    name = "iri"
    FORBIDDEN = frozenset(' <>"{}|^`\\')

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        parts = urlsplit(text)
        bad = sorted({c for c in text if c in self.FORBIDDEN or ord(c) < 0x21})
        if bad:
            self.fail(f"{text!r} contains characters not allowed in an IRI: {' '.join(map(repr, bad))}", param, ctx)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(f"{text!r} is not an absolute http:// or https:// IRI", param, ctx)
        if not text.endswith(("/", "#")):
            self.fail(f"{text!r} must end in '/' or '#', since names are appended to it", param, ctx)
        return text


class QueryNameType(ParamType):
    """A named query (completed from the shipped queries) or SPARQL text, passed through unchanged."""

    name = "query"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return [CompletionItem(n) for n in query_names() if n.startswith(incomplete)]


def query_names() -> list[str]:
    """The named queries: the .rq files shipped in abc_atlas_kg/queries (read without importing the query module)."""
    from importlib.resources import files

    folder = files("abc_atlas_kg").joinpath("queries")
    return sorted(p.name[:-3] for p in folder.iterdir() if p.name.endswith(".rq"))


def _usable_out(_ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """An output folder that can be created and written, checked before any work is done."""
    if value.exists() and not value.is_dir():
        raise click.BadParameter(f"{value} exists and is not a folder", param=param)
    existing = value
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise click.BadParameter(f"{existing} is not a folder, so {value} cannot be created", param=param)
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".abc-kg-probe-"):
            pass
    except OSError as err:
        raise click.BadParameter(f"cannot write in {existing}: {err.strerror or err}", param=param) from None
    return value


def _options(options: list[Callable[[Any], Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


fetch_options = _options(
    [
        click.option(
            "--cache",
            type=click.Path(file_okay=False, path_type=Path),
            envvar=CACHE_ENV,
            help=f"Cache folder, laid out like the bucket. Default: ${CACHE_ENV}, else the user cache directory.",
        ),
        click.option(
            "--base-url",
            envvar=BASE_URL_ENV,
            default=DEFAULT_BASE_URL,
            show_default=True,
            help=f"Bucket or mirror to fetch from (also ${BASE_URL_ENV}).",
        ),
        click.option("--offline", is_flag=True, help="Make no request: use the cache or fail (exit 4)."),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds to wait for a connection or for data, on every request.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=4,
            show_default=True,
            help="Extra attempts after connection errors, timeouts and 5xx responses.",
        ),
        click.option(
            "--backoff",
            type=click.FloatRange(min=0),
            default=1.0,
            show_default=True,
            help="Seconds before the first retry; doubled for each further one.",
        ),
        click.option(
            "--deadline",
            type=click.FloatRange(min=0, min_open=True),
            default=600.0,
            show_default=True,
            help="Seconds one file may take in all, retries included; a slower download fails (exit 4).",
        ),
    ]
)


"""The options that say where to fetch from and to: `fetch`, `releases`, `export` and `load`."""


iri_options = _options(
    [
        click.option(
            "--base-iri",
            type=IriBaseType(),
            default=DEFAULT_BASE_IRI,
            show_default=True,
            help="Base of taxonomy, cell-set and level IRIs: {base}{accession}/{label}.",
        ),
        click.option(
            "--kg-iri",
            type=IriBaseType(),
            default=DEFAULT_KG_IRI,
            show_default=True,
            help="abc-kg's own namespace: releases, named graphs, leaf clusters, mappings ({kg}graph/...).",
        ),
    ]
)


layer_options = _options(
    [
        click.option(
            "--integration",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            envvar=INTEGRATION_ENV,
            help="Folder holding integration source files (CL components, curation tables, atlas ontologies, gene "
            f"lookups), in any layout: files are matched by MD5. Also ${INTEGRATION_ENV}.",
        ),
        click.option(
            "--integration-url",
            metavar="URL",
            help="A mirror of the integration sources laid out like ../shared/samples/integration, instead of "
            "each source's pinned public URL.",
        ),
        click.option(
            "--layers",
            metavar="NAMES",
            help="Comma-separated integration layers to build (celltypes, anatomy, genes), or 'none'. Default: "
            "every layer whose sources are given or cached (downloaded too when the tables are fetched).",
        ),
        click.option(
            "--owl-view",
            is_flag=True,
            help="Also state each exact cell-type link in CL's own OWL pattern on the cell set (rdf:type "
            "[owl:Restriction; owl:onProperty RO:0015002; owl:someValuesFrom CL:x]), for users who reason with CL.",
        ),
    ]
)
"""Which integration layers to build and where their sources are: `export` and `load`."""


def integration_settings(options: dict[str, Any]) -> dict[str, Any]:
    """`integration` and `layers` build arguments from the layer options (consumed from `options`)."""
    from ..registry import sources
    from ..source.integration import IntegrationSettings

    folder, mirror, chosen = options.pop("integration"), options.pop("integration_url"), options.pop("layers")
    switched = frozenset({"owl-view"} if options.pop("owl_view", False) else ())
    layers: tuple[str, ...] | None = None
    if chosen is not None:
        names = [] if chosen.strip() == "none" else [n.strip() for n in chosen.split(",") if n.strip()]
        unknown = [n for n in names if n not in sources.implemented_layers()]
        if unknown:
            known = ", ".join(sources.implemented_layers()) or "none implemented yet"
            raise click.BadParameter(f"unknown layer(s) {', '.join(unknown)} (known: {known})", param_hint="--layers")
        layers = tuple(names)
    return {"integration": IntegrationSettings(folder=folder, mirror=mirror, options=switched), "layers": layers}


def build_options(
    options: dict[str, Any],
    source: Path | None,
    release: str | None,
    base_iri: str,
    kg_iri: str,
    validate: bool = True,
    shapes: Path | None = None,
) -> BuildOptions:
    """The one BuildOptions of a command, with the fetch and layer options (consumed from `options`)."""
    from ..build import BuildOptions

    return BuildOptions(
        source=source,
        release=release,
        base_iri=base_iri,
        kg_iri=kg_iri,
        validate=validate,
        shapes=shapes,
        fetch=fetch_settings(options),
        **integration_settings(options),
    )


def _to_stderr(line: str) -> None:
    """Status lines of fetching; module level so that settings can travel to worker processes."""
    click.echo(line, err=True)


def _silent(_line: str) -> None:
    """Status lines of fetching with --quiet."""


def fetch_settings(options: dict[str, Any]) -> Settings:
    """Fetch settings from the shared options (consumed from `options`); status lines go to stderr."""
    from ..source.bucket.settings import Settings, default_cache

    ctx = click.get_current_context()
    given = {"base_url", "cache", "offline"}
    requested = any(ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT) for name in given)
    return Settings(
        base_url=options.pop("base_url"),
        cache=options.pop("cache") or default_cache(),
        offline=options.pop("offline"),
        timeout=options.pop("timeout"),
        retries=options.pop("retries"),
        backoff=options.pop("backoff"),
        deadline=options.pop("deadline"),
        requested=requested,
        report=_silent if _quiet() else _to_stderr,
    )
