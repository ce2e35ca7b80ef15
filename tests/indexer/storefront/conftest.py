"""Fixtures for the storefront simulator tests: the bundled sample catalog served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from indexer.storefront import RunningStorefront, running_storefront

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample"
SHARED_CATALOGS = REPO / ".." / "shared" / "catalogs"
ETSY_KEY = {"x-api-key": "testkey:testsecret"}


@pytest.fixture(scope="module")
def sample_sf() -> Iterator[RunningStorefront]:
    """A read-only simulator over the sample catalog (no faults, page cap 50 to exercise the cap)."""
    with running_storefront(SAMPLE, page_cap=50) as sf:
        yield sf


@pytest.fixture()
def fresh_sf() -> Iterator[RunningStorefront]:
    """A simulator of its own for tests that change the catalog."""
    with running_storefront(SAMPLE) as sf:
        yield sf


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, trust_env=False) as c:
        yield c
