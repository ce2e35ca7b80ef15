"""The CLI draws the library's progress events as rich bars; the library only calls a callback."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from cli.progress import RichBars, progress_bars
from indexer.progress import ProgressEvent, Stages, no_progress


def _bars(fill: bool) -> tuple[Progress, RichBars]:
    progress = Progress(console=Console(file=io.StringIO()), auto_refresh=False)
    return progress, RichBars(progress, fill_on_finish=fill)


def test_events_drive_the_bars() -> None:
    progress, bars = _bars(fill=False)
    bars(ProgressEvent("start", "shop-a", "https://a.example"))
    bars(ProgressEvent("label", "shop-a", "Shop A"))
    bars(ProgressEvent("total", "shop-a", total=10))
    bars(ProgressEvent("advance", "shop-a", advance=4))
    bars(ProgressEvent("advance", "never-started", advance=4))  # ignored, not a crash
    bars(ProgressEvent("finish", "shop-a"))
    (task,) = progress.tasks
    assert (task.description, task.total, task.completed) == ("Shop A", 10, 4)


def test_build_stages_fill_on_finish() -> None:
    progress, bars = _bars(fill=True)
    stages = Stages(bars)
    with stages.stage("read"):
        pass
    with stages.stage("embed", bar=True):
        stages.total(0)  # everything came from the cache
    assert [(t.description, t.total, t.completed) for t in progress.tasks] == [("read", 1, 1), ("embed", 1, 1)]
    assert set(stages.seconds) == {"read", "embed"}


def test_stages_report_through_the_callback() -> None:
    events: list[ProgressEvent] = []
    stages = Stages(events.append)
    with stages.stage("embed", bar=True):
        stages.total(3)
        stages.advance(2)
        stages.advance(1)
    assert [(e.kind, e.task) for e in events] == [("start", "embed"), ("total", "embed"), ("advance", "embed"),
                                                  ("advance", "embed"), ("finish", "embed")]


def test_no_bars_when_hidden() -> None:
    with progress_bars("build", False) as bars:
        assert bars is no_progress
        bars(ProgressEvent("start", "x"))
