"""Rich progress bars on stderr, drawn from the library's progress events.

The library reports progress through :data:`indexer.progress.ProgressCallback`; the CLI owns the
terminal. :func:`progress_bars` opens one rich display in the layout of a command (``build``,
``crawl`` or ``eval``) and yields the callback that draws on it (or one that ignores every event when
bars are off, e.g. with ``--json`` or when stderr is not a terminal).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from indexer.progress import ProgressCallback, ProgressEvent, no_progress

Layout = Literal["build", "crawl", "eval"]


def _columns(layout: Layout) -> tuple[ProgressColumn, ...]:
    if layout == "build":
        return (TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TimeRemainingColumn())
    if layout == "crawl":
        return (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())


class RichBars:
    """A :data:`ProgressCallback` drawing one rich bar per task.

    ``fill_on_finish``: a finished task shows a full bar (build stages, whose item count may be
    unknown); a crawl leaves each merchant's bar at what was counted.
    """

    def __init__(self, progress: Progress, *, fill_on_finish: bool) -> None:
        self._progress = progress
        self._fill = fill_on_finish
        self._tasks: dict[str, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        bars = self._progress
        if event.kind == "start":
            self._tasks[event.task] = bars.add_task(event.label or event.task, total=event.total)
            return
        task = self._tasks.get(event.task)
        if task is None:  # an event of a task that never started: nothing to draw it on
            return
        if event.kind == "total":
            bars.update(task, total=event.total)
        elif event.kind == "advance":
            bars.advance(task, event.advance)
        elif event.kind == "label":
            bars.update(task, description=event.label)
        elif event.kind == "finish" and self._fill:
            state = bars.tasks[task]
            done = max(state.total if state.total is not None else state.completed, 1)
            bars.update(task, total=done, completed=done)


@contextmanager
def progress_bars(layout: Layout, show: bool) -> Iterator[ProgressCallback]:
    """A progress callback drawing ``layout`` bars on stderr while the block runs (``show``), else one
    that ignores every event."""
    if not show:
        yield no_progress
        return
    options: dict[str, Any] = {"transient": layout == "eval"}
    with Progress(*_columns(layout), console=Console(stderr=True), **options) as bars:
        yield RichBars(bars, fill_on_finish=layout == "build")
