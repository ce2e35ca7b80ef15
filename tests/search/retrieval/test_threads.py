"""search.retrieval.threads.single_threaded: one torch/BLAS thread inside, the previous setting restored after."""

from __future__ import annotations

import threading

import pytest

from search.retrieval.threads import single_threaded


def test_limits_and_restores_torch_and_blas() -> None:
    torch = pytest.importorskip("torch")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy as np

    np.ones((4, 4)) @ np.ones(4)  # make sure the BLAS library is loaded
    before = torch.get_num_threads()
    blas_before = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    with single_threaded():
        assert torch.get_num_threads() == 1
        assert all(p["num_threads"] == 1 for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas")
        with single_threaded():  # nested: still one, and the inner exit restores nothing
            pass
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"] == blas_before


def test_concurrent_requests_restore_once_all_left() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    inside = threading.Barrier(4)
    errors: list[BaseException] = []

    def request() -> None:
        try:
            with single_threaded():
                inside.wait(timeout=10)
                assert torch.get_num_threads() == 1
                inside.wait(timeout=10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert torch.get_num_threads() == before
