"""Fixtures of the surface tests: one sample world per test module (served over real loopback HTTP).

A module that needs another world (the real model, no hostile product...) defines its own ``world``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.serve.http import create_app
from tests.search.apiworld import World, running_api, sample_world


@pytest.fixture(scope="module")
def world(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The crawled and indexed data/sample catalog (with its hostile product), built once per module."""
    with sample_world(sample_dir, tmp_path_factory.mktemp("world")) as w:
        yield w


@pytest.fixture(scope="module")
def base_url(world: World) -> Iterator[str]:
    """The module's world served by the HTTP API (MCP at ``/mcp``) on a loopback port."""
    with running_api(create_app(engine=world.engine, refresh_interval=0)) as base:
        yield base
