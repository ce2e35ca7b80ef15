"""The one exception tree of aisle.

Every error aisle raises on purpose derives from :class:`AisleError`. Each class carries
a machine-readable ``code``, the CLI exit status (``exit_code``) and the HTTP status
(``http_status``) so that the CLI and the HTTP API map errors in exactly one place each
(``cli.main`` and ``search.serve.http``) without knowing the subclasses.

    AisleError
    ├── ConfigError            bad option, bad file, bad workspace          (exit 2, HTTP 400)
    ├── HostNotAllowedError    SSRF guard refused a private/loopback host   (exit 2, HTTP 400)
    ├── FetchError             a merchant request failed for good           (exit 3, HTTP 502)
    │   └── RateLimitedError   429 that outlived the retries                (exit 3, HTTP 502)
    ├── StoreError             the DuckDB catalog is unusable/locked        (exit 4, HTTP 503)
    ├── SnapshotError          no usable index snapshot                     (exit 5, HTTP 503)
    │   ├── NoSnapshotError    nothing built yet
    │   └── SnapshotCorruptError  a snapshot failed verification
    ├── QueryError             a request the engine cannot answer as asked  (exit 2, HTTP 400/422)
    └── NotFoundError          unknown doc_id / variant_id                  (exit 6, HTTP 404)
"""

from __future__ import annotations


class AisleError(Exception):
    """Base of every error aisle raises on purpose."""

    code: str = "aisle_error"
    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str]:
        """Machine-readable form used by the CLI's --json output and the HTTP API."""
        return {"code": self.code, "message": self.message}


class ConfigError(AisleError):
    """A bad option, file, or workspace setting given by the user."""

    code = "config_error"
    exit_code = 2
    http_status = 400


class HostNotAllowedError(AisleError):
    """A URL resolves to a private, loopback or link-local address that is not allow-listed."""

    code = "host_not_allowed"
    exit_code = 2
    http_status = 400


class FetchError(AisleError):
    """A merchant request failed after all retries (network, status, content type, body)."""

    code = "fetch_failed"
    exit_code = 3
    http_status = 502

    def __init__(self, message: str, *, url: str = "", status: int | None = None, code: str | None = None):
        super().__init__(message, code=code)
        self.url = url
        self.status = status


class RateLimitedError(FetchError):
    """The merchant kept answering 429 beyond the retry budget."""

    code = "rate_limited"


class StoreError(AisleError):
    """The DuckDB catalog cannot be opened or written (locked, damaged, wrong schema)."""

    code = "store_error"
    exit_code = 4
    http_status = 503


class SnapshotError(AisleError):
    """No usable search index snapshot."""

    code = "snapshot_error"
    exit_code = 5
    http_status = 503


class NoSnapshotError(SnapshotError):
    """No snapshot has been built in this workspace yet."""

    code = "no_snapshot"


class SnapshotCorruptError(SnapshotError):
    """A snapshot's files do not match its manifest (truncated, damaged, missing)."""

    code = "snapshot_corrupt"


class ShardUnavailableError(SnapshotError):
    """An index shard did not answer (its actor is down, or it serves another snapshot version).

    The sharded engine catches it per shard and answers from the others, flagged ``partial``.
    """

    code = "shard_unavailable"


class QueryError(AisleError):
    """A search/check request the engine cannot answer as asked (bad filter, bad cursor...)."""

    code = "bad_request"
    exit_code = 2
    http_status = 400


class NotFoundError(AisleError):
    """An unknown product or variant id."""

    code = "not_found"
    exit_code = 6
    http_status = 404


class EtsyAuthRevoked(AisleError):
    """The shop owner's grant no longer works (revoked, or the refresh token expired): connect again."""

    code = "etsy_auth_revoked"
    exit_code = 1
    http_status = 502


class EtsyAuthError(AisleError):
    """The OAuth flow failed (state mismatch, refused code, unusable token answer)."""

    code = "etsy_auth_error"
    exit_code = 1
    http_status = 502
