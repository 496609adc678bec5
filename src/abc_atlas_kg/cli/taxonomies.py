"""`abc-kg taxonomies`: the registry as a table, without importing any stage."""

from __future__ import annotations

import click


@click.command()
def taxonomies() -> None:
    """List the taxonomies abc-kg knows: id, accession, species, ABC directory and releases."""
    from .. import registry

    rows: list[tuple[str, ...]] = [
        ("id", "accession", "species (NCBITaxon)", "directory", "known releases (offline hints; see `releases`)")
    ]
    for spec in registry.taxonomies().values():
        rows.append((spec.id, spec.accession, ",".join(spec.species), spec.directory, ",".join(spec.known_releases)))
    echo_table(rows)


def echo_table(rows: list[tuple[str, ...]]) -> None:
    """Rows as aligned columns on stdout, the first row being the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
