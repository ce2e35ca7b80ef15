"""SSRF guard: a crawler that agents can point at URLs must not reach private networks.

:class:`HostGuard` refuses a URL whose host resolves to a loopback, private, link-local, multicast,
reserved, unspecified, carrier-grade NAT or otherwise non-global address, unless the host is
allow-listed. Allow-list entries (``--allow-host``, repeatable, plus env ``AISLE_ALLOW_HOSTS`` as a
comma list, read by :class:`indexer.settings.Settings`) are host names (exact, case-insensitive;
``*.example.com`` matches sub-domains) or IP addresses / CIDR blocks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``).

Every address a name resolves to must be allowed: a name with one public and one private address is
refused (a classic rebinding trick). IPv6 addresses that embed an IPv4 address (IPv4-mapped and
-compatible, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``, Teredo ``2001::/32``) are judged as the IPv4
they embed. Only ``http`` and ``https`` URLs are accepted.

The name is resolved **once** per check (through an injectable ``resolver``, the boundary the tests
replace with a rebinding resolver) and :meth:`HostGuard.pin` returns the checked address: the guarded
transports of :mod:`indexer.crawl.guarded` connect to that address (keeping the original ``Host`` header
and TLS SNI), so the HTTP client never resolves the name again and a DNS answer that changes between check
and connect has nothing to change. Verdicts and pinned addresses are cached per host for ``cache_ttl``
seconds (60 by default), so a long-running server sees DNS changes, each one checked again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from indexer.errors import ConfigError, FetchError, HostNotAllowedError
from indexer.settings import ENV_ALLOW_HOSTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]
"""Host name → its addresses as text (blocking; raises OSError when the name does not resolve)."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
DEFAULT_CACHE_TTL = 60.0


def system_resolver(host: str) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), one entry per address, in its order."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo client), else None.

    Such an address reaches the IPv4 host it embeds (through the kernel, a relay or a translator), so it
    is judged as that host. (``64:ff9b:1::/48``, local-use NAT64, is non-global in itself and refused.)
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _global(ip: IPAddress) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def is_public(ip: IPAddress) -> bool:
    """True when ``ip`` is a globally routable unicast address (what a crawler may reach by default).

    An IPv6 address embedding an IPv4 one (see :func:`embedded_ipv4`) is judged as that IPv4 address.
    """
    v4 = embedded_ipv4(ip)
    return _global(v4 if v4 is not None else ip)


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


def is_loopback_host(host: str | None) -> bool:
    """True for a host only this machine can reach: ``localhost``, 127.0.0.0/8, ``::1`` (brackets allowed).

    The one loopback test, used by the simulator's admin API, the API's Host check and Etsy's redirect listener.
    """
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Pinned:
    """A checked host and the address to connect to (one of those the check saw; empty for an allow-listed
    name, which is connected to by name)."""

    host: str
    address: str


class HostGuard:
    """Decides whether a URL may be fetched and which address to connect to (rules in the module docstring).

    ``resolver`` (blocking; default :func:`system_resolver`) is called at most once per host and
    ``cache_ttl`` seconds; ``clock`` is for tests. Safe to share between threads.
    """

    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver | None = None,
                 cache_ttl: float = DEFAULT_CACHE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.names, self.networks = parse_allow_list(allow)
        self._resolver = resolver or system_resolver
        self._ttl, self._clock = cache_ttl, clock
        self._cache: dict[str, tuple[float, str | None, str]] = {}  # host -> (expiry, refusal, address)

    def _name_allowed(self, host: str) -> bool:
        if host in self.names:
            return True
        return any(n.startswith("*.") and host.endswith(n[1:]) for n in self.names)

    def _addr_allowed(self, ip: IPAddress) -> bool:
        if is_public(ip):
            return True
        v4 = embedded_ipv4(ip)
        return any(ip in net or (v4 is not None and v4 in net) for net in self.networks)

    def _verdict(self, host: str, addresses: Iterable[str]) -> tuple[str | None, str]:
        refused, first = [], ""
        for a in addresses:
            ip = ipaddress.ip_address(a.split("%", 1)[0])
            first = first or str(ip)
            if not self._addr_allowed(ip):
                refused.append(str(ip))
        if not first:
            return f"host {host!r} resolves to no address", ""
        if refused:
            return (f"host {host!r} resolves to non-public address {', '.join(sorted(set(refused)))}; "
                    f"allow it with --allow-host {host} or --allow-host <CIDR> (or env {ENV_ALLOW_HOSTS})"), first
        return None, first

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

    @staticmethod
    def _literal(host: str) -> list[str] | None:
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            return None

    def _cached(self, host: str) -> Pinned | None:
        hit = self._cache.get(host)
        if hit is None or hit[0] < self._clock():
            return None
        return self._finish(host, hit[1], hit[2], store=False)

    def _finish(self, host: str, verdict: str | None, address: str, *, store: bool = True) -> Pinned:
        if store:
            self._cache[host] = (self._clock() + self._ttl, verdict, address)
        if verdict:
            raise HostNotAllowedError(verdict)
        return Pinned(host, address)

    def _decide(self, url: str, host: str, addresses: Sequence[str] | BaseException) -> Pinned:
        if isinstance(addresses, BaseException):
            # Not cached: a resolver hiccup should not condemn the host for the whole crawl.
            raise FetchError(f"cannot resolve host {host!r}: {addresses}", url=url, code="dns_error") from None
        return self._finish(host, *self._verdict(host, addresses))

    def _resolve(self, host: str) -> Sequence[str] | BaseException:
        try:
            return list(self._resolver(host))
        except (OSError, UnicodeError) as exc:
            return exc

    def pin_sync(self, url: str) -> Pinned:
        """Check ``url`` (raise :class:`HostNotAllowedError` when refused) and return the address to use."""
        host = self._split(url)
        if self._name_allowed(host):
            return Pinned(host, "")  # the operator vouched for the name: connect by name, whatever it resolves to
        return self._cached(host) or self._decide(url, host, self._literal(host) or self._resolve(host))

    async def pin(self, url: str) -> Pinned:
        """:meth:`pin_sync` resolving on a worker thread (for callers on an event loop)."""
        host = self._split(url)
        if self._name_allowed(host):
            return Pinned(host, "")
        hit = self._cached(host)
        if hit is not None:
            return hit
        addresses = self._literal(host)
        if addresses is None:
            return self._decide(url, host, await asyncio.get_running_loop().run_in_executor(None, self._resolve, host))
        return self._decide(url, host, addresses)

    async def check(self, url: str) -> None:
        """Raise :class:`HostNotAllowedError` unless ``url`` may be fetched (resolves names asynchronously)."""
        await self.pin(url)

    def check_sync(self, url: str) -> None:
        """Blocking form of :meth:`check` (for callers outside an event loop)."""
        self.pin_sync(url)
