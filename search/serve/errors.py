"""Errors at the edge: the one mapping from an exception to what a client of any surface sees.

:func:`error_for` turns an exception into an :class:`EdgeError` ``(HTTP status, code, message)``:
an :class:`~indexer.errors.AisleError` keeps its own ``http_status`` and ``code``; a pydantic
validation failure gets a specific code (:func:`validation_error`: ``malformed_json``,
``unknown_filter``, ``unknown_field``, ``query_too_long``, ``limit_too_large``/``bad_limit``, and aisle's own
``bad_country``, ``bad_currency``, ``bad_price_range``) or the generic
``invalid_request``; anything else is :data:`INTERNAL` (``500 internal``) with a fixed message, so
no stack trace or exception text reaches a client. The CLI reports a request it could not build with
the same mapping (:func:`config_error`), so an error reads the same on every surface. HTTP renders it in
:func:`search.serve.guard.render_error` (UCP-shaped under ``/ucp/``), MCP as a tool error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from indexer.errors import AisleError
from search.schema import FACET_NAMES, MAX_LIMIT, MAX_QUERY_CHARS, Filters

FILTER_NAMES: tuple[str, ...] = tuple(Filters.model_fields)
#: Validation error types raised by aisle's own validators, answered as ``400`` with the type as the code.
OWN_CODES = frozenset({"bad_country", "bad_currency", "bad_price_range", "malformed_json"})


@dataclass(frozen=True)
class EdgeError:
    """An error as every adapter reports it: HTTP status, machine-readable code, human message."""

    status: int
    code: str
    message: str
    details: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """``{"error": {"code", "message"[, "details"]}}``: the aisle error envelope."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


INTERNAL = EdgeError(500, "internal", "internal error; the request was not completed")


def _loc(loc: Iterable[Any]) -> list[str]:
    # FastAPI prefixes "body"/"query"/"path"; the caller knows only its own field names.
    parts = [str(p) for p in loc]
    return parts[1:] if parts and parts[0] in ("body", "query", "path", "header") else parts


def _specific(e: Mapping[str, Any], d: dict[str, str], details: list[dict[str, str]]) -> EdgeError | None:
    """The specific error for one validation problem (second pass), or None."""
    kind, path = d["type"], _loc(e.get("loc", ()))
    last = path[-1] if path else ""
    if kind == "extra_forbidden":
        return EdgeError(400, "unknown_field", f"unknown field {d['field']!r}", details)
    if kind in OWN_CODES:  # aisle's own validators (search.schema): the error type is the code
        where = "" if d["field"] in ("", "body") else f"{d['field']}: "
        return EdgeError(400, kind, where + d["message"], details)
    if kind == "literal_error" and path[:1] == ["facets"]:
        return EdgeError(400, "unknown_facet", f"unknown facet; known facets: {', '.join(FACET_NAMES)}", details)
    if kind == "string_too_long" and last == "query":
        return EdgeError(400, "query_too_long", f"query is longer than {MAX_QUERY_CHARS} characters", details)
    if last == "limit" and kind in ("less_than_equal", "greater_than_equal"):
        code = "limit_too_large" if kind == "less_than_equal" else "bad_limit"
        most = (e.get("ctx") or {}).get("le", MAX_LIMIT) if kind == "less_than_equal" else None
        # The route's own bound (the ACP feed pages up to 1000); a lower-bound failure names the search bound.
        return EdgeError(400, code, f"limit must be between 1 and {most or MAX_LIMIT}", details)
    return None


def validation_error(errors: Sequence[Mapping[str, Any]]) -> EdgeError:
    """Map pydantic/FastAPI validation errors onto one specific code (most specific first).

    Only field paths, error types and pydantic's messages are reported, never the rejected values.
    """
    details = [
        {
            "field": ".".join(_loc(e.get("loc", ()))) or "body",
            "type": str(e.get("type", "")),
            "message": str(e.get("msg", "")),
        }
        for e in errors
    ]
    # First pass: the problems that make every other one moot (bad JSON, an unknown filter name).
    for e, d in zip(errors, details, strict=True):
        kind, path = d["type"], _loc(e.get("loc", ()))
        if kind == "json_invalid":
            return EdgeError(400, "malformed_json", "request body is not valid JSON", details)
        if kind == "extra_forbidden" and len(path) >= 2 and path[-2] == "filters":
            return EdgeError(
                400,
                "unknown_filter",
                f"unknown filter {path[-1]!r}; known filters: {', '.join(FILTER_NAMES)}",
                details,
            )
    for e, d in zip(errors, details, strict=True):
        specific = _specific(e, d, details)
        if specific is not None:
            return specific
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    return EdgeError(422, "invalid_request", f"{first['field']}: {first['message']}", details)


def error_for(exc: BaseException) -> EdgeError:
    """The one mapping from an exception to what a client sees."""
    if isinstance(exc, AisleError):
        return EdgeError(exc.http_status, exc.code, exc.message)
    if isinstance(exc, ValidationError):
        return validation_error(exc.errors(include_url=False, include_input=False))
    return INTERNAL


def config_error(exc: ValidationError) -> AisleError:
    """A request model that failed validation outside HTTP (the CLI), as the API words it: a
    :class:`~indexer.errors.ConfigError` with the API's code and message (never pydantic's wording)."""
    from indexer.errors import ConfigError

    edge = error_for(exc)
    return ConfigError(edge.message, code=edge.code)
