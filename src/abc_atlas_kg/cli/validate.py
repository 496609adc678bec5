"""`abc-kg validate`: check any RDF file against the shapes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AbcKgError, ExitCode, UsageError
from .app import say


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--engine",
    type=click.Choice(["sparql", "pyshacl"]),
    default="sparql",
    show_default=True,
    help="sparql: the shapes compiled to SPARQL and run by Oxigraph (fast); pyshacl: the reference engine, for "
    "any shapes.",
)
@click.option(
    "--shapes",
    type=click.Path(exists=True, path_type=Path),
    help="SHACL shapes (a Turtle file or a folder of them) instead of the project's.",
)
def validate_files(files: tuple[Path, ...], engine: str, shapes: Path | None) -> None:
    """Check RDF FILES (.ttl, .nt, .nq, .jsonld, .trig, .rdf, .owl, also gzipped) against the shapes.

    Exit 0 only if all conform; 3 if any file does not conform, else 1 if any file cannot be parsed. RDF/XML
    that declares DTD entities is refused unread (their expansion is unbounded).
    """
    from ..store.inputs import read_rdf
    from ..validate import run as validate

    unparsable = not_conforming = 0
    for path in files:
        try:
            quads = read_rdf(path)
        except (ValueError, SyntaxError, OSError, AbcKgError) as err:
            click.echo(f"{path}: cannot be parsed: {err}", err=True)
            unparsable += 1
            continue
        try:
            report = validate.validate(quads, shapes=shapes, engine=engine)
        except validate.UnsupportedShape as err:
            raise UsageError(f"{err}; the pyshacl engine reads any shapes: --engine pyshacl") from None
        if report.conforms:
            say(f"{path}: conforms ({len(quads)} triples)")
        else:
            not_conforming += 1
            click.echo(f"{path}: does not conform ({len(report.violations)} result(s))\n{report.text()}", err=True)
    if not_conforming:
        sys.exit(int(ExitCode.NOT_CONFORMING))
    if unparsable:
        sys.exit(int(ExitCode.INVALID_INPUT))
