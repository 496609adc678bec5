"""Progress on stderr: rich bars on a terminal, one summary line per taxonomy otherwise."""

from __future__ import annotations

import sys
from typing import Any

import click

from .app import _quiet


class Reporter:
    """Progress of a multi-taxonomy job on stderr: rich bars on a terminal, one summary line per taxonomy otherwise.

    Called as `reporter(taxonomy_id, stage)` by the build, its stages being `build.STAGES` (read when the first
    call comes: the build is imported by then). Shown only when stderr is a terminal and --quiet is off, so pipes,
    CI logs and scripts get plain lines.
    """

    def __init__(self, title: str, total: int):
        self.title, self.total = title, total
        self.quiet = _quiet()
        self.live = not self.quiet and sys.stderr.isatty()
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self.finished: set[str] = set()

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self.progress = Progress(
                *columns,
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,  # stdout carries data (paths); it must never be routed into stderr
                redirect_stderr=False,
            )
            self.progress.start()
            self.overall = self.progress.add_task(self.title, total=self.total)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, taxonomy_id: str, stage: str) -> None:
        if self.progress is None or taxonomy_id in self.finished:  # workers' events can arrive after "done"
            return
        from ..build import STAGES

        if taxonomy_id not in self.tasks:
            self.tasks[taxonomy_id] = self.progress.add_task(taxonomy_id, total=len(STAGES) - 1)
        task = self.tasks[taxonomy_id]
        step = STAGES.index(stage) if stage in STAGES else 0
        self.progress.update(task, completed=step, description=f"{taxonomy_id}: {stage}")
        if stage == "done":
            self.finished.add(taxonomy_id)
            self.progress.remove_task(task)
            self.progress.advance(self.overall)

    def data(self, text: str) -> None:
        """A line of data for stdout; drawn above the bars when stdout is the same terminal, so both stay legible."""
        if self.progress is not None and sys.stdout.isatty():
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text)

    def line(self, text: str) -> None:
        """A line for people (a summary, a failure), above the bars on a terminal."""
        if self.quiet:
            return
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)

    def error(self, text: str) -> None:
        """Errors are shown even with --quiet."""
        if self.progress is not None:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(text, err=True)
