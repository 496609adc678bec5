"""`abc-kg info`: what an export or a store holds."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UsageError


@click.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help="Describe this embedded store.")
@click.option("--graph", help="Named graph for the triples of .nt/.ttl FILEs (as load).")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
def info(files: tuple[Path, ...], store: Path | None, graph: str | None, as_json: bool) -> None:
    """What FILEs of an export, or a store, hold: taxonomies, releases, graphs, counts per class and level."""
    from .. import store as kgstore

    if bool(files) == (store is not None):
        raise UsageError("give FILE... or --store, not both")
    if store is not None:
        target = kgstore.open_target(store=store, read_only=True)
        try:
            described = kgstore.info(target=target)
        finally:
            target.close()
    else:
        described = kgstore.info(files=list(files), graph=graph)
    click.echo(
        kgstore.render_json(described) if as_json else kgstore.render_table(described, kgstore.Style()), nl=False
    )
