"""Progress reporting through a callback, and timed build stages.

Library code never draws on the terminal: long operations (``crawl``, ``build_index``, ``evaluate``)
take a :data:`ProgressCallback` and report :class:`ProgressEvent` s to it; the default,
:func:`no_progress`, ignores them. The CLI (``cli/progress.py``) turns the events into rich progress
bars on stderr, so ``--json`` stdout stays clean; a test or another front end can record them instead.

Events of one task (a build stage, a merchant, an evaluation mode) share its ``task`` key: one
``start``, then any number of ``total`` / ``advance`` / ``label``, then ``finish``. Several tasks may
be open at once (a crawl runs merchants in parallel). Callbacks run on the caller's thread (the crawl's
event loop), so they must be quick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["start", "total", "advance", "label", "finish"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of progress of one task.

    ``start``: a task begins (``label``; ``total`` items, None when unknown yet). ``total``: the item
    count became known. ``advance``: ``advance`` more items are done. ``label``: a better name for
    the task is known (a merchant's name once its first page arrived). ``finish``: the task is done.
    """

    kind: EventKind
    task: str
    label: str = ""
    total: int | None = None
    advance: int = 0


ProgressCallback = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default :data:`ProgressCallback`: ignores every event."""


class Stages:
    """Times named stages (``seconds``) and reports each one as a task to ``progress``."""

    def __init__(self, progress: ProgressCallback = no_progress) -> None:
        self.seconds: dict[str, float] = {}
        self._progress = progress
        self._current = ""

    @contextmanager
    def stage(self, name: str, *, bar: bool = False) -> Iterator[None]:
        """Time the block as stage ``name``; ``bar``: the block reports ``total``/``advance`` (else the
        stage counts as one item)."""
        self._current = name
        self._progress(ProgressEvent("start", name, name, total=None if bar else 1))
        start = time.perf_counter()
        yield
        self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
        self._progress(ProgressEvent("finish", name, name))

    def total(self, n: int) -> None:
        """Set the number of items of the current stage."""
        self._progress(ProgressEvent("total", self._current, total=n))

    def advance(self, n: int) -> None:
        """Count ``n`` more items done in the current stage."""
        self._progress(ProgressEvent("advance", self._current, advance=n))
