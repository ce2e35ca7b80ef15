"""Embedding backends side by side, in one run, on the same real product texts (figures for docs/benchmarks.md).

Texts: ``--sample`` products drawn (seed 0) from ../shared/catalogs, parsed directly, each turned into its dense
text by the project's recipe (:func:`indexer.build.text.product_text`). Every variant encodes the same list:

* ``plain``: ``SentenceTransformer.encode`` (fp32 PyTorch), the baseline every ratio is against;
* ``onnx`` / ``onnx-int8``: :class:`indexer.build.onnx_encoder.OnnxEncoder` (ONNX Runtime fp32 / dynamic int8),
  length-sorted batches; the one-off export time is reported apart (it is cached in the workspace);
* ``torch-bf16``: the same sentence-transformers model cast to bfloat16 (oneDNN runs its matrix products on
  AMX-BF16 where the CPU has it);
* ``openvino`` / ``openvino-bf16``: :class:`indexer.build.openvino_encoder.OpenVinoEncoder` (OpenVINO fp32 /
  bf16 inference precision; the one-off conversion time is reported apart);
* ``openvino-int8``: that IR quantised to int8 (weights and activations) by NNCF post-training quantisation,
  calibrated on 300 other product texts (only when ``nncf`` is installed; not an aisle backend);
* ``onnx-int8-len128`` (``--len128``): int8 with ``max_seq_length`` 128 instead of the model's 256;
* ``dedup``: how many texts are identical (the build embeds each distinct text once).

Quality: mean and minimum cosine of each backend's vector with the plain fp32 vector of the same text, and
the overlap of the top-10 neighbours (within the sample) for 200 texts used as queries.

Usage::

    python benchmarks/embed_backends.py [--sample 2000] [--rounds 4] [--cache-dir DIR] [--json F] [--len128]
        [--only torch-bf16,openvino-bf16,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
from indexer.build.onnx_encoder import OnnxEncoder, exported_model, token_feed  # noqa: E402
from indexer.build.openvino_encoder import OpenVinoEncoder, converted_model  # noqa: E402
from indexer.build.text import product_text  # noqa: E402


def sample_texts(n: int, catalogs: Path = DEFAULT_CATALOGS, calibration: int = 0) -> list[str]:
    """The dense texts of ``n`` products drawn with seed 0 from the shared catalogs; with ``calibration``, that
    many more texts of other products are appended (for int8 calibration, never timed)."""
    _merchants, products, _crawled = parse_shared_catalogs(catalogs)
    rng = random.Random(0)
    picked = rng.sample(products, min(n + calibration, len(products)))
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


def _torch_bf16(batch_size: int) -> Any:
    """``SentenceTransformer.encode`` on a bfloat16 copy of the model (its own instance: the fp32 one stays)."""
    import torch

    model = load_encoder(None, "cpu", backend="torch").model.to(torch.bfloat16)  # type: ignore[attr-defined]

    def encode(ts: list[str]) -> np.ndarray:
        vecs = model.encode(ts, batch_size=batch_size, normalize_embeddings=True, convert_to_tensor=True,
                            show_progress_bar=False).float().numpy()
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    return encode


def _openvino_int8(xml: Path, calibration: list[str], batch_size: int, out: dict[str, Any]) -> Any:
    """NNCF post-training int8 quantisation of the OpenVINO IR, calibrated on ``calibration``; None without nncf."""
    try:
        import nncf
        import openvino as ov
    except ImportError:
        out["openvino_int8"] = "nncf not installed"
        return None
    enc = OpenVinoEncoder(bundled_model_path(), "int8", "openvino-bf16", xml.parent.parent, lazy=False)
    tok = enc.tokenizer  # the benchmark feeds the same tokens the encoder would

    t0 = time.perf_counter()
    batches = [token_feed(tok, calibration[i:i + 16]) for i in range(0, len(calibration), 16)]
    quantised = nncf.quantize(ov.Core().read_model(str(xml)), nncf.Dataset(batches),
                              model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches))
    out["quantise_s_openvino_int8"] = round(time.perf_counter() - t0, 1)
    compiled = ov.Core().compile_model(quantised, "CPU", {"INFERENCE_PRECISION_HINT": "bf16",
                                                          "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def encode(ts: list[str]) -> np.ndarray:
        order = np.argsort([-len(t) for t in ts], kind="stable")
        vecs = np.zeros((len(ts), 384), dtype=np.float32)
        for s in range(0, len(ts), batch_size):
            rows = order[s:s + batch_size]
            vecs[rows] = np.array(request.infer(token_feed(tok, [ts[int(i)] for i in rows]))[0])
        return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)

    return encode


def _machine() -> dict[str, Any]:
    import openvino
    import torch

    flags = Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n", 1)[0] if Path(
        "/proc/cpuinfo").is_file() else ""
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "isa": sorted(f for f in flags.split() if f.startswith(("amx", "avx512_bf16", "avx512_vnni"))),
            "torch": torch.__version__, "openvino": openvino.__version__,
            "torch_threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available()}


def _variants(texts: list[str], calibration: list[str], cache_dir: Path, batch_size: int, out: dict[str, Any],
              len128: bool, only: set[str] | None = None) -> dict[str, Any]:
    model_dir = bundled_model_path()
    for backend in ("onnx", "onnx-int8"):
        t0 = time.perf_counter()
        exported_model(model_dir, cache_dir, backend)
        out[f"export_s_{backend}"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    xml = converted_model(model_dir, cache_dir)
    out["convert_s_openvino"] = round(time.perf_counter() - t0, 2)
    plain = load_encoder(None, "cpu", backend="torch").model  # type: ignore[attr-defined]

    def st_encode(ts: list[str]) -> np.ndarray:
        return plain.encode(ts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)

    def bound(enc: Any) -> Any:
        return lambda ts: enc.encode(ts, batch_size)

    variants: dict[str, Any] = {"plain": st_encode, "torch-bf16": _torch_bf16(batch_size)}
    for backend in ("openvino", "openvino-bf16"):
        variants[backend] = bound(OpenVinoEncoder(model_dir, backend, backend, cache_dir))
    int8 = _openvino_int8(xml, calibration, batch_size, out) if not only or "openvino-int8" in only else None
    if int8 is not None:
        variants["openvino-int8"] = int8
    for backend, length in (("onnx", None), ("onnx-int8", None)) + ((("onnx-int8", 128),) if len128 else ()):
        enc = OnnxEncoder(model_dir, backend, backend, cache_dir, max_seq_length=length)
        variants[backend + ("-len128" if length else "")] = bound(enc)
    tok = plain.tokenizer
    ntok = [len(tok(t, truncation=False)["input_ids"]) for t in texts]
    out |= {"tokens_mean": round(float(np.mean(ntok)), 1), "over_128_tokens": sum(1 for x in ntok if x > 128),
            "over_256_tokens": sum(1 for x in ntok if x > 256)}
    return variants


def run(n: int, rounds: int, cache_dir: Path, batch_size: int = 64, *, len128: bool = False,
        only: set[str] | None = None) -> dict[str, Any]:
    texts = sample_texts(n, calibration=300)
    texts, calibration = texts[:n], texts[n:]
    lengths = [len(t) for t in texts]
    out: dict[str, Any] = {"texts": len(texts), "distinct": len(set(texts)), "machine": _machine(),
                           "chars_mean": round(float(np.mean(lengths)), 1), "chars_max": max(lengths)}
    variants = _variants(texts, calibration, cache_dir, batch_size, out, len128, only)
    if only:
        variants = {k: v for k, v in variants.items() if k == "plain" or k in only}
    for fn in variants.values():
        fn(texts[:64])  # warm-up: first-call allocations are not throughput
    out["load_before"] = [round(x, 2) for x in os.getloadavg()]
    timed = _timed(variants, texts, rounds)
    out["load_after"] = [round(x, 2) for x in os.getloadavg()]
    ref = timed["plain"][2]
    rows: dict[str, dict[str, float]] = {}
    for name, (wall, cpu, vecs) in timed.items():
        rows[name] = {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
                      "texts_per_s": round(len(texts) / wall, 1), "texts_per_cpu_s": round(len(texts) / cpu, 1),
                      **_quality(ref, vecs)}
    base, base_cpu = rows["plain"]["texts_per_s"], rows["plain"]["texts_per_cpu_s"]
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
    ap.add_argument("--len128", action="store_true", help="also onnx-int8 with max_seq_length 128")
    ap.add_argument("--only", default="", help="comma list of variants to time besides plain (default: all)")
    args = ap.parse_args()
    only = {v for v in args.only.split(",") if v}
    with tempfile.TemporaryDirectory() as tmp:
        result = run(args.sample, args.rounds, args.cache_dir or Path(tmp), len128=args.len128, only=only)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
