"""SSRF guard: a crawler that agents can point at URLs must not reach private networks.

:class:`HostGuard` refuses a URL whose host resolves to a loopback, private, link-local, multicast,
reserved, unspecified, carrier-grade NAT or otherwise non-global address, unless the host is
allow-listed. Allow-list entries (``--allow-host``, repeatable, plus env ``AISLE_ALLOW_HOSTS`` as a
comma list, read by :class:`indexer.settings.Settings`) are host names (exact, case-insensitive;
``*.example.com`` matches sub-domains) or IP addresses / CIDR blocks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``).

Every address a name resolves to must be allowed: a name with one public and one private address is
refused (a classic rebinding trick). Only ``http`` and ``https`` URLs are accepted. The check runs
before every request (redirects included, through an httpx request hook), with results cached
per host for the lifetime of the guard. Residual risk, documented rather than hidden: the name is
resolved again by the HTTP client, so a DNS server that answers differently within that instant can
still rebind; deployments that need more should crawl through an egress proxy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from indexer.errors import ConfigError, FetchError, HostNotAllowedError
from indexer.settings import ENV_ALLOW_HOSTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def is_public(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address (what a crawler may reach by default)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def parse_allow_list(entries: Iterable[str]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """Split allow-list entries into host names and networks; ConfigError on an empty/garbled entry."""
    names: set[str] = set()
    nets: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower()
        if not entry:
            continue
        entry = entry.rstrip(".")
        try:
            nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        label = entry[2:] if entry.startswith("*.") else entry
        if not entry or not label or any(c in label for c in "/:@ ") or not all(part for part in label.split(".")):
            raise ConfigError(f"--allow-host {raw!r} is neither a host name nor an IP address/CIDR block")
        names.add(entry)
    return frozenset(names), tuple(nets)


class HostGuard:
    """Decides whether a URL may be fetched (see the module docstring for the rules)."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.names, self.networks = parse_allow_list(allow)
        self._cache: dict[str, str | None] = {}  # host -> refusal reason (None = allowed)

    def _name_allowed(self, host: str) -> bool:
        if host in self.names:
            return True
        return any(n.startswith("*.") and host.endswith(n[1:]) for n in self.names)

    def _addr_allowed(self, ip: IPAddress) -> bool:
        if is_public(ip):
            return True
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        return any(ip in net or (mapped is not None and mapped in net) for net in self.networks)

    def _verdict(self, host: str, addresses: Iterable[str]) -> str | None:
        refused = []
        for a in addresses:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
            if not self._addr_allowed(ip):
                refused.append(str(ip))
        if refused:
            return (f"host {host!r} resolves to non-public address {', '.join(sorted(set(refused)))}; "
                    f"allow it with --allow-host {host} or --allow-host <CIDR> (or env {ENV_ALLOW_HOSTS})")
        return None

    @staticmethod
    def _split(url: str) -> str:
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
        except ValueError:
            raise HostNotAllowedError(f"refusing {url!r}: not a valid URL") from None
        if parts.scheme not in ("http", "https"):
            raise HostNotAllowedError(f"refusing {url!r}: only http and https URLs can be crawled")
        host = (hostname or "").lower().rstrip(".")
        if not host:
            raise HostNotAllowedError(f"refusing {url!r}: no host name")
        return host

    def _literal(self, host: str) -> list[str] | None:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return None

    def _finish(self, host: str, verdict: str | None) -> None:
        self._cache[host] = verdict
        if verdict:
            raise HostNotAllowedError(verdict)

    async def check(self, url: str) -> None:
        """Raise :class:`HostNotAllowedError` unless ``url`` may be fetched (resolves names asynchronously)."""
        host = self._split(url)
        if host in self._cache:
            self._finish(host, self._cache[host])
            return
        if self._name_allowed(host):
            self._finish(host, None)
            return
        addresses = self._literal(host)
        if addresses is None:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except OSError as exc:
                # Not cached: a resolver hiccup should not condemn the host for the whole crawl.
                raise FetchError(f"cannot resolve host {host!r}: {exc}", url=url, code="dns_error") from None
            addresses = [str(info[4][0]) for info in infos]
        self._finish(host, self._verdict(host, addresses))

    def check_sync(self, url: str) -> None:
        """Blocking form of :meth:`check` (for callers outside an event loop)."""
        asyncio.run(self.check(url))
