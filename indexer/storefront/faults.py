"""Seeded fault injection for the storefront simulator.

A fault spec such as ``429=0.05,500=0.03,timeout=0.02,truncate=0.02,html=0.01,dup=0.02`` gives, per
kind, the probability that one request to a JSON data endpoint is answered with that fault:

* ``429``      HTTP 429 with ``Retry-After`` (seconds, configurable);
* ``500``      a 5xx (500, 502 or 503; ``5xx`` is accepted as an alias);
* ``timeout``  the normal answer, but only after ``slow_seconds`` (longer than a client's timeout);
* ``truncate`` status 200 with the JSON body cut short;
* ``html``     status 200, ``text/html``: a bot-check page instead of JSON;
* ``dup``      the previous page's content (only for ``products.json`` pages after the first).

Determinism: the draw for a request is a hash of ``(seed, method, path, query, n)`` where ``n`` counts
earlier requests for the very same URL. A run is therefore reproducible whatever the order in which
concurrent requests arrive, and a retry of the same URL gets a fresh draw (so faults can be retried
away). A drawn kind that does not apply (``dup`` on a first page or a non-page endpoint, ``truncate``
or ``dup`` on a non-200 answer) is not injected and not logged.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, fields

from indexer.errors import ConfigError

#: Fault kinds in draw order (the order never changes, so a seed always means the same faults).
FAULT_KINDS: tuple[str, ...] = ("429", "500", "timeout", "truncate", "html", "dup")
_ALIASES = {"5xx": "500", "502": "500", "503": "500", "slow": "timeout", "truncated": "truncate",
            "duplicate": "dup", "repeat": "dup", "rate": "429"}
_FIELD = {"429": "rate_429", "500": "rate_500", "timeout": "timeout", "truncate": "truncate",
          "html": "html", "dup": "dup"}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Per-request probabilities of each fault kind (all 0 = no faults)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    timeout: float = 0.0
    truncate: float = 0.0
    html: float = 0.0
    dup: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, int | float) or isinstance(v, bool) or not 0.0 <= float(v) <= 1.0:
                raise ConfigError(f"fault rate {f.name}={v!r} must be a number between 0 and 1")
        if self.total > 1.0 + 1e-9:
            raise ConfigError(f"fault rates add up to {self.total:.3f}, more than 1")

    def rates(self) -> dict[str, float]:
        """``{kind: rate}`` in draw order, kinds as in :data:`FAULT_KINDS`."""
        return {k: float(getattr(self, _FIELD[k])) for k in FAULT_KINDS}

    @property
    def total(self) -> float:
        """Probability that a request draws any fault."""
        return sum(float(getattr(self, f.name)) for f in fields(self))

    def __str__(self) -> str:
        return ",".join(f"{k}={r:g}" for k, r in self.rates().items() if r > 0) or "none"


def parse_faults(spec: str) -> FaultSpec:
    """Parse ``"429=0.05,500=0.03,..."`` into a :class:`FaultSpec`.

    ``""``, ``"none"`` and ``"off"`` mean no faults. Raises :class:`~indexer.errors.ConfigError`
    on an unknown kind, a repeated kind, a rate outside 0..1 or rates adding up to more than 1.
    """
    text = (spec or "").strip()
    if text.lower() in ("", "none", "off", "0"):
        return FaultSpec()
    values: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ConfigError(f"bad fault spec item {part!r}: expected KIND=RATE (e.g. 429=0.05)")
        kind_raw, rate_raw = (s.strip() for s in part.split("=", 1))
        kind = _ALIASES.get(kind_raw.lower(), kind_raw.lower())
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind_raw!r}; known kinds: {', '.join(FAULT_KINDS)}")
        if kind in values:
            raise ConfigError(f"fault kind {kind!r} given twice in {spec!r}")
        try:
            rate = float(rate_raw)
        except ValueError:
            raise ConfigError(f"fault rate {rate_raw!r} for {kind_raw!r} is not a number") from None
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"fault rate {rate_raw!r} for {kind_raw!r} must be between 0 and 1")
        values[kind] = rate
    return FaultSpec(**{_FIELD[k]: r for k, r in values.items()})


def as_fault_spec(faults: FaultSpec | str | None) -> FaultSpec:
    """Accept a spec object, a spec string or None (no faults)."""
    if faults is None:
        return FaultSpec()
    if isinstance(faults, FaultSpec):
        return faults
    if isinstance(faults, str):
        return parse_faults(faults)
    raise ConfigError(f"faults must be a FaultSpec, a spec string or None, not {type(faults).__name__}")


@dataclass(frozen=True, slots=True)
class Draw:
    """One request's draw: the kind (None = serve normally) and a second uniform number for details."""

    kind: str | None
    detail: float


class FaultInjector:
    """Draws faults per request and keeps the fault log (counts per kind and ``(path, kind)`` entries)."""

    def __init__(self, spec: FaultSpec, seed: int = 0) -> None:
        self.spec = spec
        self.seed = int(seed)
        self._seen: Counter[str] = Counter()
        self.requests = 0
        self.counts: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []

    def configure(self, spec: FaultSpec, seed: int | None = None) -> None:
        """Change the spec (and seed) at run time; the per-URL counters restart so draws stay reproducible."""
        self.spec = spec
        if seed is not None:
            self.seed = int(seed)
        self._seen.clear()

    def draw(self, method: str, path: str, query: str) -> Draw:
        """The fault drawn for this request (every call counts as one more request for the URL)."""
        url = f"{method} {path}?{query}"
        n = self._seen[url]
        self._seen[url] = n + 1
        self.requests += 1
        digest = hashlib.blake2b(f"{self.seed}\x00{url}\x00{n}".encode(), digest_size=16).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        detail = int.from_bytes(digest[8:], "big") / 2**64
        acc = 0.0
        for kind, rate in self.spec.rates().items():
            acc += rate
            if u < acc:
                return Draw(kind, detail)
        return Draw(None, detail)

    def record(self, path: str, kind: str) -> None:
        """Log one injected fault."""
        self.counts[kind] += 1
        self.log.append((path, kind))

    def reset(self) -> None:
        """Forget the log and the counters (the spec and seed stay)."""
        self._seen.clear()
        self.requests = 0
        self.counts.clear()
        self.log.clear()

    def stats(self) -> dict[str, object]:
        """JSON-able fault statistics as served by ``GET /_admin/faults``."""
        return {
            "spec": str(self.spec),
            "seed": self.seed,
            "requests": self.requests,
            "counts": {k: self.counts.get(k, 0) for k in FAULT_KINDS},
            "total": sum(self.counts.values()),
            "log": [[p, k] for p, k in self.log],
        }
