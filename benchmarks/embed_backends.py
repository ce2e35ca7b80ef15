"""Embedding backends side by side, in one run, on the same real product texts (figures for docs/benchmarks.md).

Texts: ``--sample`` products drawn (seed 0) from ../shared/catalogs, parsed directly, each turned into its dense
text by the project's recipe (:func:`indexer.build.text.product_text`). Every variant encodes the same list:

* ``plain``: ``SentenceTransformer.encode`` (fp32 PyTorch), the baseline every ratio is against;
* ``onnx`` / ``onnx-int8``: :class:`indexer.build.onnx_encoder.OnnxEncoder` (ONNX Runtime fp32 / dynamic int8),
  length-sorted batches; the one-off export time is reported apart (it is cached in the workspace);
* ``onnx-int8-len128``: int8 with ``max_seq_length`` 128 instead of the model's 256;
* ``dedup``: how many texts are identical (the build embeds each distinct text once).

Quality: mean and minimum cosine of each backend's vector with the plain fp32 vector of the same text, and
the overlap of the top-10 neighbours (within the sample) for 200 texts used as queries.

Usage::

    python benchmarks/embed_backends.py [--sample 2000] [--rounds 4] [--cache-dir DIR] [--json F]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _shared_index import DEFAULT_CATALOGS, parse_shared_catalogs  # noqa: E402

from indexer.build.embed import bundled_model_path, load_encoder  # noqa: E402
from indexer.build.onnx_encoder import OnnxEncoder, exported_model  # noqa: E402
from indexer.build.text import product_text  # noqa: E402


def sample_texts(n: int, catalogs: Path = DEFAULT_CATALOGS) -> list[str]:
    """The dense texts of ``n`` products drawn with seed 0 from the shared catalogs."""
    _merchants, products, _crawled = parse_shared_catalogs(catalogs)
    rng = random.Random(0)
    picked = rng.sample(products, min(n, len(products)))
    return [product_text(p) for p in picked]


def _timed(variants: dict[str, Any], texts: list[str], rounds: int) -> dict[str, tuple[float, float, np.ndarray]]:
    """Wall and CPU seconds and vectors per variant. The texts are cut into ``rounds`` chunks and every variant
    encodes chunk 1, then every variant chunk 2...: on a shared machine the load changes over minutes, and
    interleaving gives every variant the same share of it (CPU seconds are reported too, less load-bound)."""
    wall = dict.fromkeys(variants, 0.0)
    cpu = dict.fromkeys(variants, 0.0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in variants}
    size = -(-len(texts) // rounds)
    for start in range(0, len(texts), size):
        chunk = texts[start:start + size]
        for name, fn in variants.items():
            w0, c0 = time.perf_counter(), time.process_time()
            parts[name].append(np.asarray(fn(chunk), dtype=np.float32))
            wall[name] += time.perf_counter() - w0
            cpu[name] += time.process_time() - c0
    return {name: (wall[name], cpu[name], np.concatenate(parts[name])) for name in variants}


def _quality(ref: np.ndarray, vecs: np.ndarray, queries: int = 200) -> dict[str, float]:
    cos = np.sum(ref * vecs, axis=1)
    q = slice(0, min(queries, len(ref)))
    top_ref = np.argsort(-(ref[q] @ ref.T), axis=1)[:, 1:11]
    top_new = np.argsort(-(vecs[q] @ vecs.T), axis=1)[:, 1:11]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_ref, top_new, strict=True)])
    return {"cos_mean": round(float(cos.mean()), 5), "cos_min": round(float(cos.min()), 5),
            "top10_overlap": round(float(overlap), 4)}


def run(n: int, rounds: int, cache_dir: Path, batch_size: int = 64) -> dict[str, Any]:
    texts = sample_texts(n)
    lengths = [len(t) for t in texts]
    out: dict[str, Any] = {"texts": len(texts), "distinct": len(set(texts)),
                           "chars_mean": round(float(np.mean(lengths)), 1), "chars_max": max(lengths)}
    model_dir = bundled_model_path()
    for backend in ("onnx", "onnx-int8"):
        t0 = time.perf_counter()
        exported_model(model_dir, cache_dir, backend)
        out[f"export_s_{backend}"] = round(time.perf_counter() - t0, 2)
    plain = load_encoder(None, "cpu", backend="torch").model  # type: ignore[attr-defined]
    tok = plain.tokenizer
    ntok = [len(tok(t, truncation=False)["input_ids"]) for t in texts]
    out["tokens_mean"] = round(float(np.mean(ntok)), 1)
    out["over_128_tokens"] = sum(1 for x in ntok if x > 128)
    out["over_256_tokens"] = sum(1 for x in ntok if x > 256)

    def st_encode(ts: list[str]) -> np.ndarray:
        return plain.encode(ts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    variants: dict[str, Any] = {"plain": st_encode}
    for backend, length in (("onnx", None), ("onnx-int8", None), ("onnx-int8", 128)):
        enc = OnnxEncoder(model_dir, backend, backend, cache_dir, max_seq_length=length)
        variants[backend + ("-len128" if length else "")] = (lambda e: lambda ts: e.encode(ts, batch_size))(enc)
    for fn in variants.values():
        fn(texts[:64])  # warm-up: first-call allocations are not throughput
    timed = _timed(variants, texts, rounds)
    ref = timed["plain"][2]
    rows: dict[str, dict[str, float]] = {}
    for name, (wall, cpu, vecs) in timed.items():
        rows[name] = {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                      "texts_per_s": round(len(texts) / wall, 1), "texts_per_cpu_s": round(len(texts) / cpu, 1),
                      **_quality(ref, vecs)}
    # de-duplication: the build embeds distinct texts only; the effective rate counts every product
    distinct = sorted(set(texts))
    for name in ("plain", "onnx-int8"):
        rows[name]["products_per_s_dedup"] = round(len(texts) / (rows[name]["seconds"] * len(distinct) / len(texts)),
                                                   1)
    base = rows["plain"]["texts_per_s"]
    base_cpu = rows["plain"]["texts_per_cpu_s"]
    for r in rows.values():
        r["x_plain"] = round(r["texts_per_s"] / base, 2)
        r["x_plain_cpu"] = round(r["texts_per_cpu_s"] / base_cpu, 2)
    out["rows"] = rows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=4, help="chunks the variants take turns on")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the ONNX exports are cached (default: temp)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.sample, args.rounds, args.cache_dir or Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
