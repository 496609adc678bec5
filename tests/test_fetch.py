"""Fetching from a real HTTP server on 127.0.0.1 laid out like the ABC bucket: manifest, cache, checksums, retries.

The server serves files from a folder shaped like the bucket, a manifest built here in the real structure with real
MD5s and sizes, and an S3 ListObjectsV2 answer for `?list-type=2&prefix=releases/`. It counts every request and
can be told to fail a path a number of times (500, stall past the client's timeout), so each outcome is produced by
real sockets, not mocks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import COMPLETE, COMPLETE_RELEASE, load_store, run, select

from abc_atlas_kg import fetch

DIRECTORY = "WMB-taxonomy"
RELEASE = "20231215"
FOLDER = f"metadata/{DIRECTORY}/{RELEASE}"
PIVOTED = f"{FOLDER}/views/cluster_to_cluster_annotation_membership_pivoted.csv"
CLUSTER = f"{FOLDER}/cluster.csv"
STALL_SECONDS = 1.5  # the server's stall: longer than the client's timeout below, bounded so threads end soon
FAST = ("--timeout", "0.5", "--retries", "1", "--backoff", "0.01")


@dataclass
class Bucket:
    """A bucket-shaped folder served over HTTP, with a request log and scripted faults per path."""

    root: Path
    url: str = ""
    requests: list[str] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)  # path -> actions for its next requests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path: str | None = None) -> int:
        return len(self.requests) if path is None else Counter(self.requests)[path]

    def manifest(self, version: str, *, directory_version: str = RELEASE, omit: tuple[str, ...] = ()) -> dict:
        """Write `releases/<version>/manifest.json` in the real structure, listing the served tables."""
        folder = f"metadata/{DIRECTORY}/{directory_version}"
        files = {}
        for path in sorted((self.root / folder).rglob("*.csv")):
            tag = path.name.removesuffix(".csv")
            if tag in omit:
                continue
            data = path.read_bytes()
            relative = path.relative_to(self.root).as_posix()
            files[tag] = {
                "files": {
                    "csv": {
                        "version": directory_version,
                        "relative_path": relative,
                        "url": f"https://allen-brain-cell-atlas.s3.us-west-2.amazonaws.com/{relative}",
                        "size": len(data),
                        "file_hash": hashlib.md5(data).hexdigest(),
                    }
                }
            }
        manifest = {
            "version": version,
            "resource_uri": "s3://allen-brain-cell-atlas/",
            "directory_listing": {
                DIRECTORY: {"directories": {"metadata": {"version": directory_version, "relative_path": folder}}}
            },
            "file_listing": {DIRECTORY: {"metadata": files}},
        }
        target = self.root / "releases" / version / "manifest.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(manifest, indent=1))
        return manifest

    def listing(self) -> bytes:
        keys = sorted(p.relative_to(self.root).as_posix() for p in (self.root / "releases").glob("*/manifest.json"))
        contents = "".join(f"<Contents><Key>{k}</Key></Contents>" for k in keys)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>allen-brain-cell-atlas</Name><Prefix>releases/</Prefix><IsTruncated>false</IsTruncated>{contents}"
            "</ListBucketResult>"
        ).encode()


def _handler(bucket: Bucket) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.lstrip("/")
            query = parse_qs(parts.query)
            key = f"?list-type={query['list-type'][0]}&prefix={query['prefix'][0]}" if "list-type" in query else path
            with bucket.lock:
                bucket.requests.append(key)
                actions = bucket.faults.get(key, [])
                action = actions.pop(0) if actions else None
            if action in ("403", "500"):
                return self._send(int(action), b"scripted failure")
            if action == "stall":
                time.sleep(STALL_SECONDS)
            if key.startswith("?"):
                return self._send(200, bucket.listing(), "application/xml")
            file = bucket.root / path
            if not file.is_file():
                return self._send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return self._send(200, file.read_bytes(), "text/csv")

        def _send(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


@pytest.fixture
def bucket(tmp_path: Path) -> Iterator[Bucket]:
    """The complete fixture's tables served as release 20231215, with manifest 20231215 listing them."""
    root = tmp_path / "served"
    shutil.copytree(COMPLETE_RELEASE, root / FOLDER)
    served = Bucket(root)
    served.manifest(RELEASE)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    server.daemon_threads = True
    server.block_on_close = False  # a stalled handler must not hold up teardown
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def fetch_cli(bucket: Bucket, cache: Path, *extra: str, release: str = RELEASE):
    return run("fetch", "WMB-taxonomy", "--release", release, "--cache", cache, "--base-url", bucket.url, *FAST, *extra)


def cached_files(cache: Path) -> set[str]:
    """Every file under the cache, temporary ones included."""
    return {p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- success and the cache


def test_first_fetch_downloads_and_verifies_second_makes_no_request(bucket: Bucket, cache: Path) -> None:
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(cache / FOLDER)
    for csv in COMPLETE_RELEASE.glob("*.csv"):
        assert md5(cache / FOLDER / csv.name) == md5(csv), csv.name
        assert f"downloaded {FOLDER}/{csv.name}" in " ".join(result.stderr.split())
    assert f"absent     {PIVOTED}" in result.stderr  # unlisted, optional, 404: absent, not an error
    assert (cache / "releases" / RELEASE / "manifest.json").is_file()
    assert "?list-type=2&prefix=releases/" not in bucket.requests  # the same-date manifest listed the release
    record = json.loads((cache / FOLDER / fetch.RECORD_NAME).read_text())
    assert record["manifest_version"] == RELEASE
    assert record["files"][CLUSTER]["checksum"] == "manifest"
    assert not any(".part" in p for p in cached_files(cache))
    assert "━" not in result.stderr  # no progress bar when stderr is not a terminal

    before = bucket.count()
    again = fetch_cli(bucket, cache)
    assert again.exit_code == 0, again.stderr
    assert bucket.count() == before, "a verified cache hit made a request"
    assert f"cached     {CLUSTER}" in again.stderr
    offline = fetch_cli(bucket, cache, "--offline")
    assert offline.exit_code == 0 and bucket.count() == before


def test_a_cached_file_edited_after_its_check_is_fetched_again(bucket: Bucket, cache: Path) -> None:
    assert fetch_cli(bucket, cache).exit_code == 0
    (cache / CLUSTER).write_text("tampered\n")
    before = bucket.count(CLUSTER)
    assert fetch_cli(bucket, cache).exit_code == 0
    assert bucket.count(CLUSTER) == before + 1
    assert md5(cache / CLUSTER) == md5(COMPLETE_RELEASE / "cluster.csv")
    assert fetch_cli(bucket, cache, "--offline").exit_code == 0


def test_export_without_source_fetches_and_records_url_manifest_version_and_md5(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out, *FAST
    )
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.ttl")
    rows = select(
        store,
        """
        PREFIX dcat: <http://www.w3.org/ns/dcat#>
        SELECT ?path ?url ?manifest ?md5 WHERE {
          ?taxonomy prov:wasDerivedFrom ?file .
          ?file a akg:SourceFile ; dcterms:identifier ?path ; dcat:downloadURL ?url ;
                akg:manifestVersion ?manifest ; akg:md5 ?md5 .
        }""",
    )
    expected = {f"{FOLDER}/{p.name}": md5(p) for p in COMPLETE_RELEASE.glob("*.csv")}
    assert {r["path"]: r["md5"] for r in rows} == expected
    for row in rows:
        assert row["url"] == bucket.url + row["path"]
        assert row["manifest"] == RELEASE
    before = bucket.count()
    again = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out
    )
    assert again.exit_code == 0, again.stderr
    assert bucket.count() == before


def test_a_listed_view_is_fetched_into_views_and_checked_against_the_manifest(bucket: Bucket, cache: Path) -> None:
    view = bucket.root / PIVOTED
    view.parent.mkdir()
    view.write_text("cluster_alias,class,subclass\n1,01 IT-ET Glut,001 CLA-EPd-CTX Car3 Glut\n")
    bucket.manifest(RELEASE)
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert md5(cache / PIVOTED) == md5(view)
    assert json.loads((cache / FOLDER / fetch.RECORD_NAME).read_text())["files"][PIVOTED]["checksum"] == "manifest"


def test_env_vars_choose_mirror_and_cache(bucket: Bucket, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fetch.BASE_URL_ENV, bucket.url)
    monkeypatch.setenv(fetch.CACHE_ENV, str(cache))
    result = run("fetch", "WMB-taxonomy", "--release", RELEASE, *FAST)
    assert result.exit_code == 0, result.stderr
    assert (cache / CLUSTER).is_file() and bucket.count(CLUSTER) == 1


def test_a_later_manifest_found_through_the_listing_resolves_the_directory_version(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    shutil.rmtree(bucket.root / "releases")
    bucket.manifest("20230830", directory_version="20230830")  # older: cannot list 20231215, never opened
    bucket.manifest("20240330")  # lists WMB-taxonomy at 20231215
    out = tmp_path / "out"
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--out", out, *FAST
    )
    assert result.exit_code == 0, result.stderr
    assert bucket.count(f"releases/{RELEASE}/manifest.json") == 1  # tried first, 404
    assert bucket.count("?list-type=2&prefix=releases/") == 1
    assert bucket.count("releases/20230830/manifest.json") == 0
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.nt")
    versions = select(store, "SELECT DISTINCT ?v WHERE { ?f akg:manifestVersion ?v }")
    assert versions == [{"v": "20240330"}]


def test_a_file_the_manifest_omits_is_fetched_by_path_with_a_local_md5(bucket: Bucket, cache: Path) -> None:
    bucket.manifest(RELEASE, omit=("cluster",))
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    entry = json.loads((cache / FOLDER / fetch.RECORD_NAME).read_text())["files"][CLUSTER]
    assert entry["checksum"] == "local" and entry["md5"] == md5(COMPLETE_RELEASE / "cluster.csv")


def test_releases_lists_the_bucket_manifests_then_the_cached_ones_offline(bucket: Bucket, cache: Path) -> None:
    bucket.manifest("20240330")
    result = run("releases", "--cache", cache, "--base-url", bucket.url, *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [RELEASE, "20240330"]
    assert fetch_cli(bucket, cache).exit_code == 0
    before = bucket.count()
    offline = run("releases", "--cache", cache, "--offline")
    assert offline.exit_code == 0 and offline.stdout.split() == [RELEASE]
    assert bucket.count() == before


# ---------------------------------------------------------------- failures


def test_a_corrupted_file_fails_naming_url_and_both_hashes_and_is_not_cached(bucket: Bucket, cache: Path) -> None:
    served = bucket.root / CLUSTER
    expected = md5(served)
    data = bytearray(served.read_bytes())
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")  # same size, other bytes
    served.write_bytes(bytes(data))
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: MD5 mismatch: expected {expected}, got {md5(served)}" in result.stderr
    assert bucket.count(CLUSTER) == 1  # a checksum mismatch is not retried
    assert CLUSTER not in cached_files(cache)
    assert not any(".part" in p for p in cached_files(cache))


def test_a_wrong_size_fails_and_is_not_cached(bucket: Bucket, cache: Path) -> None:
    with (bucket.root / CLUSTER).open("ab") as served:
        served.write(b"99,CS20230722_CLUS_9999,1\n")
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    size = (COMPLETE_RELEASE / "cluster.csv").stat().st_size
    assert f"size mismatch: expected {size} bytes, got {size + 26}" in result.stderr
    assert CLUSTER not in cached_files(cache)


def test_a_listed_file_that_404s_is_an_error(bucket: Bucket, cache: Path) -> None:
    (bucket.root / CLUSTER).unlink()
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: HTTP 404 Not Found, though manifest {RELEASE} lists it" in result.stderr
    assert bucket.count(CLUSTER) == 1  # 4xx is not retried


def test_a_403_is_final_and_not_retried(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["403"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: HTTP 403" in result.stderr
    assert bucket.count(CLUSTER) == 1


def test_a_500_that_recovers_after_a_retry_succeeds(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["500"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert bucket.count(CLUSTER) == 2
    assert "server error HTTP 500; retrying" in result.stderr
    assert md5(cache / CLUSTER) == md5(COMPLETE_RELEASE / "cluster.csv")


def test_a_500_that_persists_gives_up_after_the_retries(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["500"] * 5
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert bucket.count(CLUSTER) == 2  # one attempt and --retries 1
    assert "gave up after 2 attempt(s)" in result.stderr
    assert CLUSTER not in cached_files(cache)


def test_a_stalled_server_times_out_and_is_retried(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["stall"]
    started = time.monotonic()
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 0, result.stderr
    assert "timed out; retrying" in result.stderr
    assert bucket.count(CLUSTER) == 2
    assert time.monotonic() - started < STALL_SECONDS + 1


def test_a_server_that_keeps_stalling_fails_with_exit_4(bucket: Bucket, cache: Path) -> None:
    bucket.faults[CLUSTER] = ["stall", "stall"]
    result = fetch_cli(bucket, cache)
    assert result.exit_code == 4
    assert f"{bucket.url}{CLUSTER}: timed out (gave up after 2 attempt(s))" in result.stderr
    assert CLUSTER not in cached_files(cache)


def test_connection_refused_names_what_is_missing_from_the_cache(cache: Path) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run("fetch", "WMB-taxonomy", "--cache", cache, "--base-url", f"http://127.0.0.1:{port}/", *FAST)
    assert result.exit_code == 4
    assert "connection refused" in result.stderr and "Are you offline?" in result.stderr
    assert f"Missing from the cache {cache}: " in result.stderr and CLUSTER in result.stderr


def test_offline_with_an_empty_cache_fails_naming_the_missing_files(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    result = run(
        "export", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", bucket.url, "--offline",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.exit_code == 4
    assert "--offline" in result.stderr and f"{FOLDER}/cluster_annotation_term.csv" in result.stderr
    assert bucket.count() == 0
    assert not (tmp_path / "out").exists()


def test_credentials_in_the_base_url_never_reach_messages_or_provenance(bucket: Bucket, cache: Path) -> None:
    base = bucket.url.replace("http://", "http://reader:s3cr3t@")
    (bucket.root / CLUSTER).unlink()
    failed = run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base, *FAST)
    assert failed.exit_code == 4 and "s3cr3t" not in failed.stderr and "***@127.0.0.1" in failed.stderr
    shutil.copy(COMPLETE_RELEASE / "cluster.csv", bucket.root / CLUSTER)
    assert run("fetch", "WMB-taxonomy", "--release", RELEASE, "--cache", cache, "--base-url", base).exit_code == 0
    assert "s3cr3t" not in (cache / FOLDER / fetch.RECORD_NAME).read_text()


def test_an_unpinned_release_is_a_usage_error_without_any_request(bucket: Bucket, cache: Path) -> None:
    result = fetch_cli(bucket, cache, release="19990101")
    assert result.exit_code == 2 and "19990101" in result.stderr
    assert bucket.count() == 0


# ---------------------------------------------------------------- small pieces


def test_listing_parser_reads_prefixes_keys_and_continuation() -> None:
    body = (
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>true</IsTruncated>'
        b"<Contents><Key>releases/20231215/manifest.json</Key></Contents>"
        b"<CommonPrefixes><Prefix>releases/20240330/</Prefix></CommonPrefixes>"
        b"<CommonPrefixes><Prefix>releases/notes/</Prefix></CommonPrefixes>"
        b"<NextContinuationToken>abc</NextContinuationToken></ListBucketResult>"
    )
    assert fetch.parse_listing(body) == (["20231215", "20240330"], "abc")


def test_redact_hides_userinfo_and_signatures() -> None:
    url = "https://u:p@bucket.example/metadata/x.csv?X-Amz-Signature=abc&list-type=2"
    assert fetch.redact(url) == "https://***@bucket.example/metadata/x.csv?X-Amz-Signature=***&list-type=2"


def test_export_from_a_fetched_cache_as_source_keeps_the_provenance(
    bucket: Bucket, cache: Path, tmp_path: Path
) -> None:
    assert fetch_cli(bucket, cache).exit_code == 0
    out = tmp_path / "out"
    result = run("export", "WMB-taxonomy", "--source", cache, "--out", out, "--format", "nt")
    assert result.exit_code == 0, result.stderr
    store = load_store(out / "WMB-taxonomy" / RELEASE / "CCN20230722.nt")
    assert select(store, "SELECT (COUNT(?f) AS ?n) WHERE { ?f akg:manifestVersion ?v }") == [{"n": "4"}]
    assert COMPLETE.is_dir()
