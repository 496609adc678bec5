"""`abc-kg taxonomies`: the registry as a table, without importing any stage."""

from __future__ import annotations

import click


@click.command()
def taxonomies() -> None:
    """List the taxonomies abc-kg knows: id, accession, species, ABC directory, releases and integration layers.

    The last column names the integration layers (cell types, ...) whose public sources serve the taxonomy, or
    `none` where no source keyed by its accession exists; a line on stderr says which those are.
    """
    from .. import registry
    from ..registry import sources

    rows: list[tuple[str, ...]] = [
        (
            "id",
            "accession",
            "species (NCBITaxon)",
            "directory",
            "known releases (offline hints; see `releases`)",
            "layers",
        )
    ]
    without = []
    for spec in registry.taxonomies().values():
        layers = [layer for layer in sources.implemented_layers() if sources.for_taxonomy(spec.id, layer)]
        if not layers:
            without.append(spec.id)
        rows.append(
            (
                spec.id,
                spec.accession,
                ",".join(spec.species),
                spec.directory,
                ",".join(spec.known_releases),
                ",".join(layers) or "none",
            )
        )
    echo_table(rows)
    if without and sources.implemented_layers():
        click.echo(
            f"layers none: no public source ({', '.join(sources.implemented_layers())}) is keyed by the accession of "
            f"{', '.join(without)}; their exports have no integration layer",
            err=True,
        )


def echo_table(rows: list[tuple[str, ...]]) -> None:
    """Rows as aligned columns on stdout, the first row being the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
