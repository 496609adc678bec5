"""`abc-kg export`, `fetch` and `releases`: tables in, validated RDF files out."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import FetchError

if TYPE_CHECKING:
    from .. import jobs as jobs_module
from .app import _Reported, _state, say
from .params import (
    FormatsType,
    TaxonomyType,
    _usable_out,
    complete_release,
    fetch_options,
    fetch_settings,
    integration_settings,
    iri_options,
    layer_options,
)
from .report import Reporter
from .taxonomies import echo_table


@click.command("fetch")
@click.argument("taxonomies", nargs=-1, required=True, type=TaxonomyType())
@click.option(
    "--release",
    shell_complete=complete_release,
    help="Release (directory version, YYYYMMDD). Default: the newest the bucket offers.",
)
@fetch_options
def fetch_command(taxonomies: tuple[str, ...], release: str | None, **options: Any) -> None:
    """Download TAXONOMIES' tables from the ABC Atlas into the cache, verified; print each release folder."""
    from .. import registry
    from ..source.bucket import fetch

    settings = fetch_settings(options)
    for taxonomy in taxonomies:
        fetched = fetch.fetch_release(registry.get(taxonomy), release, settings)
        click.echo(str(fetched.folder))


@click.command()
@fetch_options
def releases(**options: Any) -> None:
    """Per taxonomy, the directory versions the bucket offers and the manifests that list them.

    Offline or when the bucket cannot be reached, the cached releases; exit 4 if it cannot be reached (the cached
    ones are listed all the same), exit 0 with --offline.
    """
    from ..source.bucket.http import redact
    from ..source.bucket.releases import release_table

    settings = fetch_settings(options)
    table = release_table(settings)
    say(f"{len(table.rows)} taxonomy release(s) in {table.where}")
    rows = [("taxonomy", "directory", "version", "manifests", "cached")]
    rows += [(r.taxonomy, r.directory, r.version, ",".join(r.manifests), "yes" if r.cached else "") for r in table.rows]
    echo_table(rows)
    if not table.live and not settings.offline:
        raise FetchError(f"the bucket {redact(settings.base_url)} could not be reached; listed the cache only")


@click.command()
@click.argument("taxonomy", nargs=-1, type=TaxonomyType())
@click.option("--all", "everything", is_flag=True, help="Export every known taxonomy that the source holds.")
@click.option(
    "--source",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder laid out like the ABC bucket (metadata/<directory>/<release>/...). "
    "Default: the bundled sample if it has the release, else fetched from the ABC Atlas.",
)
@click.option(
    "--release",
    shell_complete=complete_release,
    help="Release (directory version) to export. Default: the newest one in --source or the sample, "
    "else the newest the bucket offers.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    callback=_usable_out,
    help="Output folder; files go to <out>/<taxonomy>/<release>/.",
)
@click.option(
    "--format",
    "formats",
    type=FormatsType(),
    default="ttl,nt,nq,jsonld",
    show_default=True,
    help="Comma-separated output formats.",
)
@iri_options
@click.option("--no-validate", is_flag=True, help="Skip the SHACL check (not recommended).")
@click.option(
    "--shapes",
    type=click.Path(exists=True, path_type=Path),
    help="SHACL shapes (a Turtle file or a folder of them) that gate the export instead of the project's: give a "
    "folder holding the project's shapes and your own to add constraints.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Taxonomies exported in parallel processes. Default: one per core, at most one per taxonomy.",
)
@layer_options
@fetch_options
def export(
    taxonomy: tuple[str, ...],
    everything: bool,
    source: Path | None,
    release: str | None,
    out: Path,
    formats: list[str],
    base_iri: str,
    kg_iri: str,
    no_validate: bool,
    shapes: Path | None,
    jobs: int | None,
    **fetch_args: Any,
) -> None:
    """Export TAXONOMY... (ids from `abc-kg taxonomies`, or accessions) to RDF.

    Paths of the written files go to stdout, one per line; a summary per taxonomy to stderr (progress bars
    instead on a terminal). With several taxonomies a failure does not stop the others: every failure is
    reported, every written file listed, and the exit code is the worst of the failures.
    """
    if everything == bool(taxonomy):
        raise click.UsageError("name one or more taxonomies, or give --all")
    if release is not None and len(taxonomy) != 1:
        raise click.UsageError("--release needs exactly one taxonomy")
    ids = list(dict.fromkeys(taxonomy))
    if shapes is not None and not no_validate:
        _compile_shapes(shapes)
    with Reporter("export", len(ids) or 1) as reporter:
        from .. import build as pipeline  # after the progress display is up: the stages take a moment to import
        from .. import jobs as jobs_module

        ids = ids or pipeline.present_taxonomies(source)
        if reporter.progress is not None:
            reporter.progress.update(reporter.overall, total=len(ids))
        options = {
            "root": source,
            "out": out,
            "formats": formats,
            "base_iri": base_iri,
            "kg_iri": kg_iri,
            "release": release,
            "check": not no_validate,
            "shapes": shapes,
            "fetch_settings": fetch_settings(fetch_args),
            **integration_settings(fetch_args),
        }
        failures = []
        for outcome in jobs_module.export_many(ids, jobs, progress=reporter, **options):
            for path in outcome.files:
                reporter.data(str(path))
            if outcome.error is None:
                reporter.line(outcome.summary)
            else:
                failures.append(outcome)
                if _state().get("verbose"):
                    reporter.error("".join(traceback.format_exception(outcome.error)).rstrip())
                reporter.error(f"error: {outcome.taxonomy_id}: {outcome.error}")
    _raise_failures(failures)


def _compile_shapes(shapes: Path) -> None:
    """Shapes given to gate an export are read and compiled before any work, so a bad file is a usage error."""
    from ..validate import run as validate

    try:
        validate.compiled(shapes)
    except validate.UnsupportedShape as err:
        raise click.BadParameter(
            f"{err} (the export's gate compiles shapes to SPARQL)", param_hint="--shapes"
        ) from None
    except (SyntaxError, ValueError, OSError) as err:
        raise click.BadParameter(f"{shapes} cannot be read as SHACL shapes: {err}", param_hint="--shapes") from None


def _raise_failures(failures: list[jobs_module.Outcome]) -> None:
    """One failure keeps its own error (already shown); several become one error with the worst exit code."""
    if not failures:
        return
    from .. import jobs as jobs_module

    worst = jobs_module.ExportFailures(failures)
    raise _Reported(worst.exit_code, str(worst))
