"""`abc-kg serve`: the embedded store read-only over SPARQL on 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..defaults import STORE_ENV
from ..errors import StoreError
from .app import say


@click.command()
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Embedded store folder. Default: ${STORE_ENV}, else the user data directory.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=7878, show_default=True)
def serve(store: Path | None, port: int) -> None:
    """Serve the embedded store read-only as a SPARQL endpoint on 127.0.0.1 (http://127.0.0.1:PORT/query).

    Runs the Oxigraph server (`oxigraph serve-read-only`) with the union of all graphs as default graph. Do not
    load into the store while it is being served. Stop with Ctrl-C.
    """
    import shutil
    import signal
    import subprocess

    from .. import store as kgstore

    location = store or kgstore.default_store_dir()
    if not (location / "CURRENT").is_file():
        raise StoreError(f"no store at {location}; load something first with `abc-kg load`")
    binary = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
    if binary is None:
        raise StoreError("the oxigraph server is not installed (pip install oxigraph)")
    with kgstore.serve_lock(location):  # held while serving: `load` refuses the store meanwhile
        say(f"serving {location} read-only at http://127.0.0.1:{port}/query (Ctrl-C stops)")
        process = subprocess.Popen(kgstore.serve_command(binary, location, port))
        # Stopping abc-kg (Ctrl-C or SIGTERM) stops the server with it, so no orphan keeps the port and the store.
        previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        try:
            code = process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait()
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)
    if code not in (0, -signal.SIGTERM, -signal.SIGINT):
        raise StoreError(f"the oxigraph server stopped with exit code {code}")
