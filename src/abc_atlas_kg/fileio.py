"""Writing files safely: atomic writes, MD5, and output folders whose set of files changes all at once.

The one home of these helpers (fetch and load use them too), so that every file abc-kg writes is either complete
or absent, never torn.

An output folder holds the files of one export and three hidden files of ours:
- `.abc-kg.lock`: held (`fcntl.flock`) by the export writing the folder; a second export waits for it up to
  `lock_timeout` seconds (default 60, or `ABC_KG_LOCK_TIMEOUT`), then fails with `OutputError`. It is never
  removed: removing a lock file that another process has open would let two writers in.
- `.abc-kg-export.json`: the manifest, the names of the files the last export wrote. The next export replaces that
  whole set: files listed there but not written again (fewer formats, no mappings this time) are removed.
- `.abc-kg-export.pending.json`: exists only while a set is being committed. It lists the complete temporary files
  and their final names; an export that finds it (the previous one was killed mid-commit) finishes that commit
  first, so a folder never stays a mix of two exports.

Temporary files are `.<name>.<random>.tmp` beside their destination; whatever a killed run left is removed by the
next export of that folder (under the lock, so never another live export's files).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

from .defaults import DEFAULT_LOCK_TIMEOUT as DEFAULT_LOCK_TIMEOUT_SECONDS
from .defaults import LOCK_TIMEOUT_ENV
from .errors import OutputError

LOCK_NAME = ".abc-kg.lock"
MANIFEST_NAME = ".abc-kg-export.json"
PENDING_NAME = ".abc-kg-export.pending.json"
DEFAULT_LOCK_TIMEOUT = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT_SECONDS))

Content = bytes | Callable[[IO[bytes]], None]


def md5_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Lower-case hex MD5 of a file, read in chunks so that memory does not grow with the file."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_temp(final: Path, content: Content) -> Path:
    """Write `content` in full (and fsync it) to a new temporary file beside `final`; return the temporary path.

    `content` is bytes or a function that writes to the open binary file. On any failure the temporary file is
    removed and the error raised.
    """
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    tmp = Path(name)
    try:
        os.chmod(fd, 0o666 & ~_umask())  # mkstemp creates 0600; outputs are ordinary shareable files
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                content(out)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def fsync_dir(folder: Path) -> None:
    """Make renames in `folder` durable (a crash after this cannot bring back the old names)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: Content) -> Path:
    """Replace `path` with `content` all at once: readers see the old file or the new one, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


@contextlib.contextmanager
def folder_lock(folder: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the folder's lock for the block; wait up to `timeout` seconds for another export to finish."""
    timeout = DEFAULT_LOCK_TIMEOUT if timeout is None else timeout
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        f"{folder}: another abc-kg export is writing this folder; gave up after waiting {timeout:g} s "
                        f"(set ABC_KG_LOCK_TIMEOUT to wait longer)"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def read_manifest(folder: Path) -> list[str]:
    """Names of the files the last export into `folder` wrote (empty when none, or unreadable: then nothing is ours)."""
    try:
        names = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [n for n in names if isinstance(n, str) and _is_plain_name(n)]


def _is_plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") and not name.startswith(".")


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def recover(folder: Path) -> None:
    """Finish a commit that a killed export left half done, then remove stray temporary files. Call under the lock."""
    pending = folder / PENDING_NAME
    if pending.exists():
        try:
            journal = json.loads(pending.read_text(encoding="utf-8"))
            staged = {k: v for k, v in journal["staged"].items() if _is_plain_name(k)}
            _roll_forward(folder, staged, journal["files"], journal["remove"])
        except (ValueError, KeyError, TypeError, AttributeError):
            pending.unlink(missing_ok=True)  # a torn journal is never used: it is written atomically
    for stray in folder.glob(".*.tmp"):
        if stray.is_file():
            stray.unlink(missing_ok=True)


def _roll_forward(folder: Path, staged: Mapping[str, str], files: list[str], remove: list[str]) -> None:
    for final, tmp in staged.items():
        tmp_path = folder / Path(tmp).name
        if tmp_path.exists():
            os.replace(tmp_path, folder / final)
    for name in remove:
        if _is_plain_name(name) and name not in files:
            (folder / name).unlink(missing_ok=True)
    atomic_write(folder / MANIFEST_NAME, _json_bytes({"files": sorted(files)}))
    (folder / PENDING_NAME).unlink(missing_ok=True)
    fsync_dir(folder)


class FileSet:
    """The files of one export, staged as temporary files and committed together, replacing the previous set.

    Use inside `folder_lock`: `stage()` each file, then `commit()`; `discard()` (also on any error) removes the
    temporary files and leaves the folder as it was.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.staged: dict[str, Path] = {}  # final name -> complete temporary file

    def stage(self, name: str, content: Content) -> None:
        if not _is_plain_name(name) or name in self.staged:
            raise ValueError(f"cannot stage {name!r} in {self.folder}")
        self.staged[name] = write_temp(self.folder / name, content)

    def commit(self) -> list[Path]:
        """Put every staged file in place and remove the previous export's files that were not written again."""
        files = list(self.staged)
        remove = [n for n in read_manifest(self.folder) if n not in self.staged]
        journal = {"files": files, "remove": remove, "staged": {n: p.name for n, p in self.staged.items()}}
        atomic_write(self.folder / PENDING_NAME, _json_bytes(journal))
        # From here on the new set is decided: a kill before the end is finished by the next export's `recover`.
        _roll_forward(self.folder, {n: p.name for n, p in self.staged.items()}, files, remove)
        self.staged.clear()
        return [self.folder / n for n in files]

    def discard(self) -> None:
        for tmp in self.staged.values():
            tmp.unlink(missing_ok=True)
        self.staged.clear()


def output_error(folder: Path, err: OSError) -> OutputError:
    """A one-line message for a failed output write, saying that the previous files were kept."""
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }.get(err.errno or 0, err.strerror or str(err))
    return OutputError(f"cannot write to {folder}: {reason}; the previous files there are unchanged")
