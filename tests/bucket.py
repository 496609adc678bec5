"""A real HTTP server on 127.0.0.1 that answers like the ABC Atlas S3 bucket, and can misbehave on purpose.

It serves a folder laid out like the bucket (`metadata/...`, `releases/<version>/manifest.json`), answers
`GET /?list-type=2&prefix=...` with ListObjectsV2 XML in pages of `page_size` keys (continuation tokens), and
missing keys with S3's `NoSuchKey` XML 404. It logs every request and can be told, per path, to fail or misbehave:
scripted one-shot faults (`faults[path] = ["500", "stall", ...]`) or a standing misbehaviour (`hostile[path] = ...`):

    endless        a 200 body that never ends (no Content-Length)
    gzip-bomb      `Content-Encoding: gzip` whose decompressed size is far larger than the file
    huge           announces 500 MB (Content-Length) and starts sending
    slow           one byte per `slow_interval` seconds, forever
    html           an HTML error page with status 200
    redirect-file  302 to file:///etc/passwd
    redirect-loop  302 to itself
    redirect-other 302 to the same path on `other_host` (another origin)
    echo           403 whose body echoes the request headers (Authorization included)
    endless-listing (on the key "?list") every listing page has a continuation token

Real sockets, real bytes: no mocks.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

LIST = "?list"  # the request-log key of every listing request
STALL_SECONDS = 1.5


@dataclass
class Bucket:
    """A bucket-shaped folder served over HTTP, with a request log and faults per path."""

    root: Path
    page_size: int = 1  # keys per listing page: small, so that continuation tokens are exercised
    url: str = ""
    other_host: str = ""  # base URL of another origin, for redirect-other
    slow_interval: float = 0.5
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)  # path -> one-shot actions for its next requests
    hostile: dict[str, str] = field(default_factory=dict)  # path -> standing misbehaviour
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str | None = None) -> int:
        return len(self.requests) if path is None else Counter(self.requests)[path]

    def keys(self, prefix: str) -> list[str]:
        files = (p for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in (p.relative_to(self.root).as_posix() for p in files) if k.startswith(prefix))

    def listing(self, prefix: str, token: str | None) -> bytes:
        keys = self.keys(prefix)
        start = int(token) if token and token.isdigit() else 0
        page = keys[start : start + self.page_size]
        more = start + self.page_size < len(keys) or self.hostile.get(LIST) == "endless-listing"
        nxt = f"<NextContinuationToken>{start + self.page_size}</NextContinuationToken>" if more else ""
        contents = "".join(f"<Contents><Key>{escape(k)}</Key></Contents>" for k in page)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>allen-brain-cell-atlas</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{self.page_size}</MaxKeys><IsTruncated>{'true' if more else 'false'}</IsTruncated>"
            f"{contents}{nxt}</ListBucketResult>"
        ).encode()


def write_manifest(root: Path, version: str, directories: dict[str, str]) -> dict:
    """Write `releases/<version>/manifest.json` in the real structure for the csv files of these directory versions."""
    directory_listing, file_listing = {}, {}
    for directory, dir_version in directories.items():
        folder = f"metadata/{directory}/{dir_version}"
        directory_listing[directory] = {
            "directories": {"metadata": {"version": dir_version, "relative_path": folder, "url": "", "total_size": 0}}
        }
        files = {}
        for path in sorted((root / folder).rglob("*.csv")):
            data = path.read_bytes()
            relative = path.relative_to(root).as_posix()
            files[path.name.split(".")[0]] = {
                "files": {
                    "csv": {
                        "version": dir_version,
                        "relative_path": relative,
                        "url": f"https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/{relative}",
                        "size": len(data),
                        "file_hash": hashlib.md5(data).hexdigest(),
                    }
                }
            }
        file_listing[directory] = {"metadata": files}
    manifest = {
        "version": version,
        "resource_uri": "s3://allen-brain-cell-atlas/",
        "directory_listing": directory_listing,
        "file_listing": file_listing,
    }
    target = root / "releases" / version / "manifest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(manifest, indent=1))
    return manifest


def _handler(bucket: Bucket) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # one branch per misbehaviour, on purpose
            parts = urlsplit(self.path)
            path = parts.path.lstrip("/")
            query = parse_qs(parts.query)
            key = LIST if "list-type" in query else path
            with bucket.lock:
                bucket.requests.append(key)
                bucket.headers.append(dict(self.headers.items()))
                actions = bucket.faults.get(key, [])
                action = actions.pop(0) if actions else bucket.hostile.get(key)
            if action == "redirect-other" and self.headers.get("Host", "").startswith("localhost"):
                action = None  # arrived at the other origin: serve the file
            if action in ("403", "500"):
                return self._send(int(action), b"<Error><Code>InternalError</Code></Error>", "application/xml")
            if action == "stall":
                time.sleep(STALL_SECONDS)
            if action == "echo":
                echoed = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()).encode()
                return self._send(403, b"denied; you sent:\r\n" + echoed)
            if action == "html":
                return self._send(200, b"<!DOCTYPE html><html><body>Service unavailable</body></html>", "text/html")
            if action in ("redirect-file", "redirect-loop", "redirect-other"):
                target = {
                    "redirect-file": "file:///etc/passwd",
                    "redirect-loop": "/" + path,
                    "redirect-other": bucket.other_host + path,
                }[action]
                return self._send(302, b"", headers={"Location": target})
            if action == "endless":
                return self._stream(lambda: b"x" * 65536, 0)
            if action == "slow":
                return self._stream(lambda: b"x", bucket.slow_interval)
            if action == "huge":
                return self._stream(lambda: b" " * 65536, 0, length=500_000_000)
            if action == "gzip-bomb":
                bomb = gzip.compress(b"\0" * (64 << 20))
                return self._send(200, bomb, "text/csv", headers={"Content-Encoding": "gzip"})
            if key == LIST:
                prefix = query.get("prefix", [""])[0]
                token = query.get("continuation-token", [None])[0]
                return self._send(200, bucket.listing(prefix, token), "application/xml")
            file = bucket.root / path
            if not path or ".." in path.split("/") or not file.is_file():
                body = f"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{escape(path)}</Key></Error>"
                return self._send(404, body.encode(), "application/xml")
            return self._send(200, file.read_bytes(), "text/csv")

        def _send(self, status: int, body: bytes, kind: str = "text/plain", headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up

        def _stream(self, chunk: object, pause: float, length: int | None = None) -> None:
            """Send chunks until the client hangs up (bounded to 60 s so test threads always end)."""
            self.close_connection = True
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                if length is not None:
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                ends = time.monotonic() + 60
                while time.monotonic() < ends:
                    self.wfile.write(chunk())  # type: ignore[operator]
                    self.wfile.flush()
                    if pause:
                        time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass

    return Handler


@contextmanager
def serve(root: Path, page_size: int = 1) -> Iterator[Bucket]:
    """Serve `root` on 127.0.0.1 (a free port) for the duration of the block."""
    bucket = Bucket(root, page_size)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bucket))
    server.daemon_threads = True
    server.block_on_close = False  # a stalled handler must not hold up teardown
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    bucket.url = f"http://127.0.0.1:{server.server_address[1]}/"
    bucket.other_host = f"http://localhost:{server.server_address[1]}/"  # same server, another origin
    try:
        yield bucket
    finally:
        server.shutdown()
        server.server_close()
