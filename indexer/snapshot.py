"""Versioned, immutable search snapshots. CONTRACT STUB: the index helper fills this in.

Public surface (stable; search/ depends on it):

    @dataclass(frozen=True)
    class Snapshot:
        version: str
        path: Path
        manifest: dict[str, Any]
        products: tuple[Product, ...]          # row i <-> vector i <-> lexical doc i
        merchants: dict[str, Merchant]         # merchant_id -> Merchant
        vectors: np.ndarray                    # (N, dim) float32, L2-normalised
        dense: faiss.Index                     # inner product over `vectors`, ids = row numbers
        lexical: LexicalIndex                  # BM25 over the same product text
        vocabulary: Vocabulary
        crawled_at: dict[str, str]             # doc_id -> ISO time its data was last read from the merchant
        def row_of(self, doc_id: str) -> int | None

    class LexicalIndex:
        def search(self, text: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]
            # (rows int64, scores float32), best first; only rows in `allowed` (sorted int64 array) when given

    @dataclass(frozen=True)
    class Vocabulary:
        attributes: dict[str, dict[str, int]]  # canonical attr -> normalised value -> count of variants
        option_names: dict[str, str]           # normalised original option name -> canonical attr
        vendors: dict[str, int]                # normalised vendor -> product count
        product_types: dict[str, int]
        currencies: dict[str, int]

    def build_snapshot(products, merchants, workspace, encoder, *, crawled_at, watermark, full=False, progress=True) -> BuildReport
    def load_current(workspace) -> Snapshot        # falls back to the previous good version if current is damaged
    def current_version(workspace) -> str | None
"""
