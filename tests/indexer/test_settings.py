"""Settings are read from the environment once, into one frozen object."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from indexer.errors import ConfigError
from indexer.settings import Settings


def test_defaults_when_nothing_is_set() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.home, s.etsy_api_key, s.allow_hosts, s.api_token) == (None, None, (), None)
    assert (s.bind_host, s.refresh_interval, s.native_threads) == ("127.0.0.1", 1.0, 1)


def test_every_variable_is_read() -> None:
    s = Settings.from_env({
        "AISLE_HOME": "/tmp/h", "AISLE_ETSY_API_KEY": "k:s", "AISLE_ALLOW_HOSTS": "127.0.0.1, 10.0.0.0/8,,",
        "AISLE_API_TOKEN": "t", "AISLE_BIND_HOST": "0.0.0.0", "AISLE_REFRESH_INTERVAL": "2.5",
        "AISLE_NATIVE_THREADS": "4",
    })
    assert s == Settings(home=Path("/tmp/h"), etsy_api_key="k:s", allow_hosts=("127.0.0.1", "10.0.0.0/8"),
                         api_token="t", bind_host="0.0.0.0", refresh_interval=2.5, native_threads=4)


def test_empty_means_unset_and_the_object_is_frozen() -> None:
    s = Settings.from_env({"AISLE_ETSY_API_KEY": "", "AISLE_API_TOKEN": "  ", "AISLE_NATIVE_THREADS": ""})
    assert s.etsy_api_key is None and s.api_token is None and s.native_threads == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.etsy_api_key = "x"  # type: ignore[misc]


def test_a_bad_number_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="AISLE_REFRESH_INTERVAL"):
        Settings.from_env({"AISLE_REFRESH_INTERVAL": "soon"})


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_ETSY_API_KEY", "key:secret")
    assert Settings.from_env().etsy_api_key == "key:secret"
