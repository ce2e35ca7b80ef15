"""UCP discovery and version negotiation: the business profile at ``GET /.well-known/ucp`` and the
``UCP-Agent`` request header.

**Profile** (:func:`business_profile`, valid against ``profile.json#/$defs/business_schema``): one
``dev.ucp.shopping`` service over REST whose ``endpoint`` is ``{base}/ucp`` (UCP appends its operation paths:
``/catalog/search``, ``/catalog/lookup``, ``/catalog/product``, ``/carts``), the capabilities aisle serves,
each with its ``YYYY-MM-DD`` version and ucp.dev ``spec``/``schema`` URLs (the namespace authority of
``dev.ucp.*`` is ucp.dev), and no payment handlers (``{}``: aisle takes no payment; checkout happens at
each merchant). Choices:

* ``{base}`` is the URL the request reached (scheme, host, port, root path): behind a TLS proxy, run
  uvicorn with proxy headers trusted (``aisle serve`` does for loopback proxies) so the profile says https.
* ``dev.ucp.shopping.permalink`` is declared only when ``{base}`` is https, since UCP requires an absolute
  HTTPS browser endpoint (``permalink.json#/$defs/endpoint``); its endpoint is ``{base}/ucp/buy``.
* The MCP transport is not declared: aisle's MCP tools (``search_catalog``, ``get_product``,
  ``check_checkout``) take aisle's own arguments, not UCP's operation payloads.
* Only the current version is served, so there is no ``supported_versions`` map.

**Negotiation** (:func:`negotiate`): UCP platforms send ``UCP-Agent: profile="https://..."`` (an RFC 8941
dictionary) and a business reads the platform's version from that profile. aisle does not fetch agent
profiles (an outgoing request to a URL the caller names, on every request, is an SSRF and latency risk), so
the platform states its version in the header itself, as a dictionary member or a parameter of
``profile``: ``UCP-Agent: profile="https://agent.example/p.json", version="2026-04-08"`` (or
``profile="...";version="2026-04-08"``). A version in :data:`SUPPORTED_VERSIONS` is answered at that version;
any other gets UCP's ``error_response`` with code ``version_unsupported`` (HTTP 400, severity
``recoverable``: retry at a version the profile lists). A header without a version is served at the current
version; no header at all is allowed too (aisle also serves plain HTTP clients). A header that does not
parse, or names no ``profile``, is ``400 invalid_ucp_agent``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from indexer.errors import QueryError
from search.serve.ucp import CAPABILITY as CATALOG_SEARCH
from search.serve.ucp import UCP_VERSION

SUPPORTED_VERSIONS: tuple[str, ...] = (UCP_VERSION,)
SHOPPING_SERVICE = "dev.ucp.shopping"
CATALOG_LOOKUP = "dev.ucp.shopping.catalog.lookup"
CART = "dev.ucp.shopping.cart"
PERMALINK = "dev.ucp.shopping.permalink"
#: capability → (spec page, schema file) under https://ucp.dev/{version}/
_CAPABILITIES = {
    CATALOG_SEARCH: ("specification/catalog/search", "schemas/shopping/catalog_search.json"),
    CATALOG_LOOKUP: ("specification/catalog/lookup", "schemas/shopping/catalog_lookup.json"),
    CART: ("specification/cart", "schemas/shopping/cart.json"),
}
_PERMALINK = ("specification/permalink", "schemas/shopping/permalink.json")
MAX_HEADER_CHARS = 2048


def _capability(version: str, spec_schema: tuple[str, str], **extra: Any) -> dict[str, Any]:
    spec, schema = spec_schema
    return {"version": version, "spec": f"https://ucp.dev/{version}/{spec}",
            "schema": f"https://ucp.dev/{version}/{schema}", **extra}


def business_profile(base_url: str) -> dict[str, Any]:
    """The UCP business profile of an aisle server reached at ``base_url`` (rules in the module docstring)."""
    base = base_url.rstrip("/")
    v = UCP_VERSION
    capabilities = {name: [_capability(v, where)] for name, where in _CAPABILITIES.items()}
    if base.startswith("https://"):
        capabilities[PERMALINK] = [_capability(v, _PERMALINK, config={"endpoint": f"{base}/ucp/buy"})]
    service = {"version": v, "spec": f"https://ucp.dev/{v}/specification/overview", "transport": "rest",
               "schema": f"https://ucp.dev/{v}/services/shopping/rest.openapi.json", "endpoint": f"{base}/ucp"}
    return {"ucp": {"version": v, "services": {SHOPPING_SERVICE: [service]}, "capabilities": capabilities,
                    "payment_handlers": {}}}


def response_meta(version: str, *capabilities: str) -> dict[str, Any]:
    """The ``ucp`` member of a successful response: its version and the capabilities it answers for."""
    return {"version": version, "status": "success", "capabilities": {c: [{"version": version}] for c in capabilities}}


@dataclass(frozen=True, slots=True)
class UcpAgent:
    """What a ``UCP-Agent`` header says: the platform's profile URI and, when stated, its UCP version."""

    profile: str
    version: str | None = None


# RFC 8941 pieces aisle reads: keys, strings, tokens, integers/decimals, booleans.
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_VALUE = re.compile(r'"((?:[^"\\\x00-\x1f\x7f]|\\["\\])*)"|([A-Za-z*][!#$%&\'*+\-.^_`|~:/A-Za-z0-9]*)'
                    r"|(-?\d{1,15}(?:\.\d{1,3})?)|\?([01])")


def _value(text: str, pos: int) -> tuple[str | bool, int]:
    m = _VALUE.match(text, pos)
    if m is None:
        raise ValueError(f"bad value at {pos}")
    if m.group(1) is not None:
        return re.sub(r"\\(.)", r"\1", m.group(1)), m.end()
    if m.group(4) is not None:
        return m.group(4) == "1", m.end()
    return m.group(2) or m.group(3), m.end()


def _item(text: str, pos: int) -> tuple[str, str | bool, dict[str, str | bool], int]:
    """One dictionary member ``key[=value](;param[=value])*`` from ``pos``; its end position."""
    m = _KEY.match(text, pos)
    if m is None:
        raise ValueError(f"bad key at {pos}")
    key, pos = m.group(), m.end()
    value: str | bool = True
    if text.startswith("=", pos):
        value, pos = _value(text, pos + 1)
    params: dict[str, str | bool] = {}
    while text.startswith(";", pos):
        pos = len(text) - len(text[pos + 1 :].lstrip(" "))
        m = _KEY.match(text, pos)
        if m is None:
            raise ValueError(f"bad parameter at {pos}")
        pname, pos = m.group(), m.end()
        pval: str | bool = True
        if text.startswith("=", pos):
            pval, pos = _value(text, pos + 1)
        params[pname] = pval
    return key, value, params, pos


def parse_ucp_agent(header: str) -> UcpAgent:
    """The ``UCP-Agent`` header (an RFC 8941 dictionary); ValueError when it does not parse or has no profile."""
    text = header.strip(" \t")
    if not text or len(text) > MAX_HEADER_CHARS:
        raise ValueError("empty or too long")
    members: dict[str, tuple[str | bool, dict[str, str | bool]]] = {}
    pos = 0
    while True:
        key, value, params, pos = _item(text, pos)
        members[key] = (value, params)
        rest = text[pos:].lstrip(" \t")
        if not rest:
            break
        if not rest.startswith(","):
            raise ValueError(f"expected ',' at {pos}")
        pos = len(text) - len(rest[1:].lstrip(" \t"))
    profile, params = members.get("profile", (None, {}))
    if not isinstance(profile, str) or not profile:
        raise ValueError("no profile")
    version = members.get("version", (params.get("version"), {}))[0]
    return UcpAgent(profile=profile, version=version if isinstance(version, str) else None)


def negotiate(header: str | None) -> str:
    """The UCP version to answer a request with ``UCP-Agent: header`` (rules in the module docstring)."""
    if header is None:
        return UCP_VERSION
    try:
        agent = parse_ucp_agent(header)
    except ValueError:
        raise QueryError('UCP-Agent must be an RFC 8941 dictionary naming the platform profile, e.g. '
                         'profile="https://agent.example/profile.json", version="' + UCP_VERSION + '"',
                         code="invalid_ucp_agent") from None
    if agent.version is None:
        return UCP_VERSION
    if agent.version not in SUPPORTED_VERSIONS:
        shown = agent.version[:40]
        raise QueryError(f"UCP version {shown} is not supported; this server implements "
                         f"{', '.join(SUPPORTED_VERSIONS)} (see /.well-known/ucp)", code="version_unsupported")
    return agent.version


def outcome_error(version: str, code: str, content: str, *, severity: str = "unrecoverable",
                  capability: str | None = None) -> dict[str, Any]:
    """``error_response`` for a business outcome (UCP's REST binding answers those with HTTP 200: the
    request was well formed, the answer is that there is nothing to act on)."""
    ucp: dict[str, Any] = {"version": version, "status": "error"}
    if capability is not None:
        ucp["capabilities"] = {capability: [{"version": version}]}
    return {"ucp": ucp, "messages": [{"type": "error", "code": code, "content": content, "severity": severity}]}
