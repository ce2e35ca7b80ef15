"""Timed build stages with optional rich progress bars (on stderr, so ``--json`` stdout stays clean)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Stages:
    """Times named stages (``seconds``) and shows one progress line per stage when ``show``."""

    def __init__(self, show: bool = False) -> None:
        self.seconds: dict[str, float] = {}
        self._progress: Progress | None = None
        if show:
            self._progress = Progress(
                TextColumn("{task.description:<11}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
            )
        self._task: Any = None

    def __enter__(self) -> Stages:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    @contextmanager
    def stage(self, name: str, *, bar: bool = False) -> Iterator[None]:
        """Time the block as stage ``name``; ``bar``: the block reports ``total``/``advance``."""
        if self._progress is not None:
            self._task = self._progress.add_task(name, total=None if bar else 1)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
        if self._progress is not None:
            task = self._progress.tasks[-1]
            total = task.total if task.total is not None else task.completed
            self._progress.update(self._task, total=max(total, 1), completed=max(total, 1))

    def total(self, n: int) -> None:
        """Set the number of items of the current stage."""
        if self._progress is not None:
            self._progress.update(self._task, total=n)

    def advance(self, n: int) -> None:
        """Count ``n`` more items done in the current stage."""
        if self._progress is not None:
            self._progress.advance(self._task, n)
