"""What a person at a terminal sees, and what Ctrl-C does: real processes, a real pseudo-terminal, real signals."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ABC_KG, ATLAS

pytestmark = pytest.mark.slow  # Ctrl-C and progress in a real terminal

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def _read_pty(fd: int, until: float) -> bytes:
    """Everything the child writes to its terminal until it closes it or `until` passes."""
    chunks = []
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_export_all_in_a_terminal_shows_progress_within_a_second(tmp_path: Path) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    env.pop("NO_COLOR", None)
    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: abc-kg with stdin, stdout and stderr on the pseudo-terminal
        os.execve(str(ABC_KG), [str(ABC_KG), "export", "--all", "--source", str(ATLAS), "--out", str(tmp_path)], env)
    seen_at = None
    output = b""
    try:
        while time.monotonic() < started + 60:
            chunk = _read_pty(fd, time.monotonic() + 0.05)
            if chunk:
                output += chunk
            if seen_at is None and b"export" in ANSI.sub(b"", output):
                seen_at = time.monotonic() - started
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished:
                output += _read_pty(fd, time.monotonic() + 1)
                break
        else:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("export --all did not finish in 60 s")
    finally:
        os.close(fd)
    shown = ANSI.sub(b"", output).decode(errors="replace")[-3000:]
    assert os.waitstatus_to_exitcode(status) == 0, f"exit {os.waitstatus_to_exitcode(status)}:\n{shown}"
    assert seen_at is not None, shown
    assert seen_at < 1.0, f"first progress after {seen_at:.2f} s"
    text = ANSI.sub(b"", output).decode(errors="replace")
    assert "WMB-taxonomy CCN20230722 release 20231215" in text  # the summaries stay once the bars are gone


def _visible_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")}


def _interrupt_after(
    args: list[str], out: Path, wait: float, ready: Callable[[], bool] = lambda: True
) -> tuple[int, float, set[Path], str]:
    """Start abc-kg, send SIGINT after `wait` seconds and once `ready()`; returns exit code, seconds to stop, files at
    the signal, stderr. Waiting for a state of the work, not only a time, keeps the test true on faster machines."""
    process = subprocess.Popen(
        [str(ABC_KG), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test runner started in the background (`pytest &`) inherits SIGINT ignored, and so would abc-kg
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(wait)
    deadline = time.monotonic() + 30
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "finished before the interrupt: make the job longer"
    at_signal = _visible_files(out) if out.exists() else set()
    sent = time.monotonic()
    os.kill(process.pid, signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, time.monotonic() - sent, at_signal, stderr


@pytest.fixture
def long_bucket(tmp_path: Path, shared_bucket: Path) -> Path:
    """The atlas fixture with the real, full WMB release in place of its small one: an export of several seconds."""
    bucket = tmp_path / "bucket" / "metadata"
    bucket.mkdir(parents=True)
    for directory in (ATLAS / "metadata").iterdir():
        real = shared_bucket / "metadata" / directory.name
        (bucket / directory.name).symlink_to(real if real.is_dir() else directory)
    return bucket.parent


def test_ctrl_c_stops_an_export_within_a_second_writes_nothing_more_and_exits_130(
    tmp_path: Path, long_bucket: Path
) -> None:
    out = tmp_path / "out"
    args = ["export", "WMB-taxonomy", "--release", "20231215", "--source", str(long_bucket), "--out", str(out)]
    code, seconds, at_signal, stderr = _interrupt_after(
        args, out, 1.0
    )  # mid-way: reading or converting the 143k triples
    assert code == 130, stderr
    assert seconds < 1.0, f"stopped {seconds:.2f} s after SIGINT"
    assert "Traceback" not in stderr and "interrupted" in stderr
    time.sleep(0.5)
    assert (_visible_files(out) if out.exists() else set()) == at_signal
    assert not list(out.rglob(".*.tmp")) if out.exists() else True


def test_ctrl_c_stops_parallel_workers_too(tmp_path: Path, long_bucket: Path) -> None:
    out = tmp_path / "out"
    args = ["export", "--all", "--jobs", "2", "--source", str(long_bucket), "--out", str(out), "--format", "nt"]
    code, seconds, at_signal, stderr = _interrupt_after(args, out, 0.5, ready=lambda: bool(_visible_files(out)))
    assert at_signal and not any("WMB-taxonomy" in p.parts for p in at_signal), "interrupt while WMB is in work"
    assert code == 130, stderr
    assert seconds < 1.0, f"stopped {seconds:.2f} s after SIGINT"
    time.sleep(1.0)  # a surviving worker would still write WMB's files now
    assert _visible_files(out) == at_signal
    assert not (out / "WMB-taxonomy").exists() or not _visible_files(out / "WMB-taxonomy")
