"""The sentence-transformers model run by OpenVINO on CPU, in fp32 or bf16 (AMX / AVX512_BF16 where present).

Backends: ``openvino`` (fp32 inference precision) and ``openvino-bf16`` (bf16 inference precision: on a CPU with
AMX-BF16 the matrix products run on the AMX tiles; elsewhere OpenVINO computes in fp32). The precision is always
given explicitly, because OpenVINO's CPU plugin otherwise picks bf16 by itself on CPUs that have it, and a
backend name must mean the same vectors on every machine it can.

The model is converted once with ``openvino.convert_model`` straight from the PyTorch module (the local weights,
nothing downloaded), with the sentence-transformers pooling inside the graph: transformer → mean over the
attention mask → L2 normalisation, so one inference returns the sentence vectors. Converting from PyTorch
rather than from aisle's ONNX export keeps attention as one ``ScaledDotProductAttention`` node, which
OpenVINO fuses (about 15% faster than the ONNX file on the same CPU, benchmarks/embed_backends.py). The IR
(``model.xml`` + ``model.bin``, fp32 weights) is cached in the exports folder of the workspace
(``<home>/cache/onnx/openvino-<model-slug>-<key>/``; the key changes with the weights). Texts are tokenised
by the model's own fast tokenizer, truncated at its ``max_seq_length``, sorted by length and batched.

OpenVINO is an optional dependency (``pip install 'aisle[openvino]'``): without it these backends are a
ConfigError that says so, never an ImportError.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.build.onnx_encoder import check_mean_pooled, encode_by_length, export_key, load_tokenizer, token_feed
from indexer.errors import ConfigError
from indexer.fsutil import fsync_dir

log = logging.getLogger(__name__)

OPENVINO_BACKENDS = ("openvino", "openvino-bf16")
_PRECISION = {"openvino": "f32", "openvino-bf16": "bf16"}
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_convert_lock = threading.Lock()


def _openvino() -> Any:
    try:
        import openvino
    except ImportError:
        raise ConfigError("the openvino backends need the openvino package: pip install 'aisle[openvino]' "
                          "(or use --backend torch)") from None
    return openvino


def _ir_folder(model_dir: Path, cache_dir: Path) -> Path:
    """The cache folder of ``model_dir``'s IR: its key changes with the path and every weight file's size/mtime."""
    return cache_dir / f"openvino-{model_dir.name[-40:]}-{export_key(model_dir)}"


def _convert(model_dir: Path, target: Path) -> None:
    """Transformer + mean pooling + L2 normalisation as one OpenVINO model, saved at ``target`` (fp32 weights)."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    ov = _openvino()
    hf_logging.disable_progress_bar()
    inner = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class _Sentence(torch.nn.Module):  # keyword arguments: transformers 5 reorders forward()'s positional ones
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    example = {name: torch.ones((2, 8), dtype=torch.long) for name in _INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's warnings about data-dependent branches
        model = ov.convert_model(_Sentence(), example_input=example)
    ov.save_model(model, str(target), compress_to_fp16=False)


def converted_model(model_dir: Path, cache_dir: Path) -> Path:
    """The OpenVINO IR (``model.xml``) of the mean-pooled model in ``model_dir``, converted on first use."""
    folder = _ir_folder(model_dir, cache_dir)
    xml = folder / "model.xml"
    with _convert_lock:
        if xml.is_file() and xml.with_suffix(".bin").is_file():
            return xml
        folder.mkdir(parents=True, exist_ok=True)
        log.info("converting %s to OpenVINO (once; cached in %s)", model_dir, folder)
        tmp = folder / f".model.{os.getpid()}.xml"
        _convert(model_dir, tmp)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))  # the weights first: xml marks completion
        os.replace(tmp, xml)
        fsync_dir(folder)
    return xml


class OpenVinoEncoder:
    """A mean-pooled sentence-transformers model on OpenVINO's CPU plugin, behind the ``Encoder`` protocol.

    ``lazy=True`` defers the conversion/compilation to the first ``encode`` (or ``dim``). ``threads``: OpenVINO's
    inference threads (0: its default, every core). One infer request, used under a lock: an engine's
    request threads take turns, as they would for the cores anyway.
    """

    def __init__(self, model_dir: Path, name: str, backend: str, cache_dir: Path, *, lazy: bool = False,
                 threads: int = 0) -> None:
        if backend not in OPENVINO_BACKENDS:
            raise ConfigError(f"unknown OpenVINO backend {backend!r}")
        _openvino()  # a missing package is an error now, not at the first query
        self.name = name
        self.backend = backend
        self._dir = model_dir
        self._cache_dir = cache_dir
        self._threads = threads
        self.max_seq_length = check_mean_pooled(model_dir)
        self._request: Any = None
        self._tokenizer: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()
        if not lazy:
            self._load()

    def _load(self) -> Any:
        if self._request is None:
            ov = _openvino()
            xml = converted_model(self._dir, self._cache_dir)
            config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": _PRECISION[self.backend],
                                      "PERFORMANCE_HINT": "LATENCY",
                                      # no pinning: the cores are shared with the rest of aisle and other work
                                      "ENABLE_CPU_PINNING": False}
            if self._threads > 0:
                config["INFERENCE_NUM_THREADS"] = self._threads
            compiled = ov.Core().compile_model(str(xml), "CPU", config)
            self._tokenizer = load_tokenizer(self._dir, self.max_seq_length)
            self._request = compiled.create_infer_request()
            log.info("loaded %s with OpenVINO (%s)", self.name, self.backend)
        return self._request

    @property
    def tokenizer(self) -> Any:
        """The fast tokenizer (truncating, no padding) that feeds the model: benchmarks feed the same tokens."""
        with self._lock:
            self._load()
        return self._tokenizer

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.encode(["dim"]).shape[1])
        return self._dim

    def _run(self, texts: list[str]) -> np.ndarray:
        result = self._request.infer(token_feed(self._tokenizer, texts))
        return np.array(result[0], dtype=np.float32)  # a copy: the request reuses its output buffer

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """(n, dim) float32, L2-normalised; texts are length-sorted into batches, returned in input order."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            self._load()
            out = encode_by_length(texts, batch_size, self._run)  # bf16 rounding: unit length again in float32
        self._dim = int(out.shape[1])
        return out
