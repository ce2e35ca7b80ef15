"""The sentence-transformers model run by ONNX Runtime (fp32, or int8 with dynamic quantisation).

Why not sentence-transformers' own ``backend="onnx"``: it needs ``optimum``, whose ONNX exporter
(optimum-onnx 0.1) requires transformers < 4.58, while sentence-transformers 6 requires transformers 5.
So aisle exports the model itself, once, with ``torch.onnx.export`` from the local weights (nothing is
downloaded), quantises the linear layers' weights to int8 with ``onnxruntime.quantization.quantize_dynamic``
(per channel) for the ``onnx-int8`` backend, and caches both files in the workspace
(``<home>/cache/onnx/<model-slug>/``). An export is also kept in the user's cache (:data:`USER_CACHE`) and
hard-linked (else copied) from there into the next workspace that needs it, so the ~12 s export is paid once
per machine, not once per workspace (every test workspace, every ``aisle serve`` home). The pipeline is the
model's own: its ``tokenizer.json`` (fast tokenizer, truncation at the model's ``max_seq_length``), the
transformer, mean pooling over the attention mask, L2 normalisation. Only mean-pooled models
(``modules.json``: Transformer → Pooling with ``pooling_mode_mean_tokens``) are accepted; anything else is a
ConfigError naming ``--backend torch``.

Texts are sorted by length before batching (sequence-length bucketing) so that a batch pads to its own
longest text, not to the longest of the whole input.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ConfigError
from indexer.fsutil import fsync_dir

log = logging.getLogger(__name__)

ONNX_BACKENDS = ("onnx", "onnx-int8")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
INT8_FILE = "model-int8-perchannel.onnx"  # the recipe in the name: an export made another way is never reused
_export_lock = threading.Lock()
USER_CACHE = Path.home() / ".cache" / "aisle" / "onnx"  # exports shared by every workspace of this user


def _share(source: Path, target: Path) -> bool:
    """Put ``source`` at ``target`` (a hard link, else a copy; atomically); False when it cannot."""
    import shutil

    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or links not allowed: a copy
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        return True
    except OSError:  # a read-only or missing user cache: the export simply is not shared
        tmp.unlink(missing_ok=True)
        return False


def _check_mean_pooled(model_dir: Path) -> int:
    """The model's max_seq_length; a ConfigError unless it is Transformer → mean Pooling (→ Normalize)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text("utf-8"))
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(model_dir / m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((pooling_dir / "config.json").read_text("utf-8"))
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ConfigError(f"the ONNX backend cannot read the sentence-transformers files of {model_dir}: {exc}; "
                          "use --backend torch") from None
    if types[:2] != ["Transformer", "Pooling"] or not pooling.get("pooling_mode_mean_tokens") or any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens")):
        raise ConfigError(f"the ONNX backend supports mean-pooled models only ({model_dir} has {types}); "
                          "use --backend torch")
    return int(st_config.get("max_seq_length") or 256)


check_mean_pooled = _check_mean_pooled  # public: the OpenVINO backend (indexer.build.openvino_encoder) checks too


def export_key(model_dir: Path) -> str:
    """The cache key of an export of ``model_dir`` (ONNX or OpenVINO IR): it changes with the model's path and
    every weight file's size and mtime, so a stale export is redone."""
    import hashlib

    parts = [str(model_dir.resolve())]
    for p in sorted(model_dir.glob("*")):
        if p.is_file() and p.suffix in (".safetensors", ".bin", ".json"):
            st = p.stat()
            parts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _export_fp32(model_dir: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class _Hidden(torch.nn.Module):  # keyword arguments: transformers 5 reorders forward()'s positional ones
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "seq"} for name in (*_INPUTS, "last_hidden_state")}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer warnings
        torch.onnx.export(_Hidden(model), (dummy, dummy, torch.zeros_like(dummy)), str(target),
                          input_names=list(_INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def exported_model(model_dir: Path, cache_dir: Path, backend: str) -> Path:
    """The ONNX file for ``backend`` of the model in ``model_dir``, exported into ``cache_dir`` on first use."""
    folder = cache_dir / f"{model_dir.name[-40:]}-{export_key(model_dir)}"
    fp32, int8 = folder / "model.onnx", folder / INT8_FILE
    wanted = int8 if backend == "onnx-int8" else fp32
    with _export_lock:
        if wanted.is_file():
            return wanted
        folder.mkdir(parents=True, exist_ok=True)
        shared = USER_CACHE / folder.name / "model.onnx"
        if not fp32.is_file() and not (folder.parent != USER_CACHE and shared.is_file() and _share(shared, fp32)):
            log.info("exporting %s to ONNX (once; cached in %s)", model_dir, folder)
            tmp = folder / f".model.{os.getpid()}.onnx"
            _export_fp32(model_dir, tmp)
            os.replace(tmp, fp32)
            if folder.parent != USER_CACHE and not shared.is_file():
                _share(fp32, shared)
        if backend == "onnx-int8" and not int8.is_file():
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = folder / f".model-int8.{os.getpid()}.onnx"
            # per channel: one scale per output column. Per tensor, the vectors' cosine with fp32 fell to 0.95-0.97
            # on product texts; per channel it is 0.99+ at the same speed (benchmarks/embed_backends.py).
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            os.replace(tmp, int8)
        fsync_dir(folder)
    return wanted


def load_tokenizer(model_dir: Path, max_seq_length: int) -> Any:
    """The model's fast tokenizer (``tokenizer.json``), truncating at ``max_seq_length`` and never padding
    (:func:`token_feed` pads each batch to its longest text): the ONNX and OpenVINO encoders'."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_seq_length)
    tok.no_padding()
    return tok


def token_feed(tokenizer: Any, texts: list[str]) -> dict[str, np.ndarray]:
    """The model inputs for ``texts`` (``input_ids``, ``attention_mask``, ``token_type_ids``: int64, zero-padded to
    the longest text) from a ``tokenizers.Tokenizer``, for the ONNX and OpenVINO encoders."""
    # a query or two: tokenized in this thread (encode_batch hands even one text to the Rust thread pool, whose
    # wake-up cost ~1.7 ms a query on the loaded 2-core machine, against 0.02 ms for the work itself)
    encodings = [tokenizer.encode(t) for t in texts] if len(texts) <= 4 else tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids, mask, types = (np.zeros((len(texts), width), dtype=np.int64) for _ in range(3))
    for i, e in enumerate(encodings):
        n = len(e.ids)
        ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def encode_by_length(texts: Sequence[str], batch_size: int, run: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """``run`` over length-sorted batches of ``texts`` (less padding per batch), rows back in input order and
    L2-normalised in float32 (a bf16 or int8 model's output is not unit length): the ONNX and OpenVINO encoders'
    shared loop. ``texts`` must not be empty."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out: np.ndarray | None = None
    for start in range(0, len(order), max(1, batch_size)):
        rows = order[start:start + batch_size]
        vecs = run([texts[int(i)] for i in rows])
        if out is None:
            out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
        out[rows] = vecs
    assert out is not None
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class OnnxEncoder:
    """A mean-pooled sentence-transformers model on ONNX Runtime, behind the ``Encoder`` protocol.

    ``lazy=True`` defers the export/load to the first ``encode`` (or ``dim``), like the torch encoder.
    ``threads`` is ONNX Runtime's intra-op thread count (0: its default, every core).
    """

    def __init__(self, model_dir: Path, name: str, backend: str, cache_dir: Path, *, lazy: bool = False,
                 threads: int = 0, max_seq_length: int | None = None) -> None:
        if backend not in ONNX_BACKENDS:
            raise ConfigError(f"unknown ONNX backend {backend!r}")
        self.name = name
        self.backend = backend
        self._dir = model_dir
        self._cache_dir = cache_dir
        self._threads = threads
        self.max_seq_length = min(_check_mean_pooled(model_dir), max_seq_length or 10**9)
        self._session: Any = None
        self._tokenizer: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()
        if not lazy:
            self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                path = exported_model(self._dir, self._cache_dir, self.backend)
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self._threads
                opts.inter_op_num_threads = 1
                if self._threads == 1:  # a query encoder in a server: no spinning thread pool to wake
                    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
                opts.log_severity_level = 3
                self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                self._tokenizer = load_tokenizer(self._dir, self.max_seq_length)
                log.info("loaded %s with ONNX Runtime (%s)", self.name, self.backend)
        return self._session

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._run(["dim"]).shape[1])
        return self._dim

    def _run(self, texts: list[str]) -> np.ndarray:
        session = self._load()
        feed = token_feed(self._tokenizer, texts)
        (hidden,) = session.run(None, feed)
        weights = feed["attention_mask"][:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return np.asarray(pooled, dtype=np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(n, dim) float32, L2-normalised; texts are length-sorted into batches, returned in input order."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = encode_by_length(texts, batch_size, self._run)
        self._dim = int(out.shape[1])
        return out
