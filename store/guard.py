"""The destination guard: a webhook may not make this program reach internal
networks (no server-side request forgery).

By default a delivery may connect only to a public internet address. What is
not public is written here as data, not left to ``ipaddress.is_global`` (whose
verdicts changed between Python releases): ``SPECIAL_PURPOSE`` holds the IANA
IPv4 and IPv6 Special-Purpose Address Registries (as of 2025), plus multicast
(224.0.0.0/4, ff00::/8) and the deprecated site-local fec0::/10. An address is
judged by the most specific entry that holds it:

- an entry the registry marks *globally reachable* (True) is public: e.g.
  192.0.0.9/32 inside 192.0.0.0/24, or the AS112 and AMT blocks;
- any other entry (False, or "N/A" for the deprecated 6to4, Teredo and ORCHID
  blocks) is refused, with the entry's name and RFC in the reason;
- an IPv6 address outside 2000::/3, the global unicast space, is refused even
  where no entry names it (IANA reserves the rest): stricter than the registry;
- IPv4 written in IPv6 is judged by its IPv4: the IPv4-mapped form
  (``::ffff:a.b.c.d``) and the NAT64 well-known prefix (``64:ff9b::a.b.c.d``).
  A 6to4 address (2002::/16) names its IPv4 when that is internal, and is
  refused in any case (the registry does not call 6to4 globally reachable).

The check applies to the address actually connected to. ``GuardedNetworkBackend``
is the network layer under httpx: it resolves the host name once, itself,
checks every address the name resolves to, and connects to a checked address.
The Host header and TLS (SNI and the certificate check) keep the original name,
because httpcore takes those from the URL, not from the socket. A name that
answers differently the second time cannot get through: there is no second time.

The account setting *Allow webhooks to private networks* lifts the guard.
httpcore is imported only when a backend is made (it is not needed at start-up).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

from .errors import DeliveryFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

ALLOW_HINT = (
    "Webhooks may only reach public internet addresses unless the account setting "
    "'Allow webhooks to private networks' is on (Webhooks tab, s; or ctrl+p \"private\")."
)


class Special(NamedTuple):
    """One entry of a special-purpose address registry."""

    network: IPNetwork
    name: str
    rfc: str
    globally_reachable: bool | None  # None: the registry says N/A
    words: str = ""  # how a refusal describes the address ("" : from the name)

    def reason(self) -> str:
        return self.words or f"a special-purpose address: {self.name} ({self.network}, {self.rfc})"


def _e(network: str, name: str, rfc: str, reachable: bool | None, words: str = "") -> Special:
    return Special(ipaddress.ip_network(network), name, rfc, reachable, words)


_PRIVATE = "a private-network address"
_LINK_LOCAL = "a link-local address (where cloud metadata services answer)"
_DOCUMENTATION = "a documentation address (never a real receiver)"

SPECIAL_PURPOSE: tuple[Special, ...] = (
    # IANA IPv4 Special-Purpose Address Registry
    _e("0.0.0.0/8", '"This network"', "RFC 791", False, "a 'this network' address (0.0.0.0/8)"),
    _e("0.0.0.0/32", '"This host on this network"', "RFC 1122", False, "the unspecified address"),
    _e("10.0.0.0/8", "Private-Use", "RFC 1918", False, _PRIVATE),
    _e(
        "100.64.0.0/10",
        "Shared Address Space",
        "RFC 6598",
        False,
        "a carrier-grade NAT address (100.64.0.0/10)",
    ),
    _e("127.0.0.0/8", "Loopback", "RFC 1122", False, "a loopback address"),
    _e("169.254.0.0/16", "Link Local", "RFC 3927", False, _LINK_LOCAL),
    _e("172.16.0.0/12", "Private-Use", "RFC 1918", False, _PRIVATE),
    _e("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", False),
    _e("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", False),
    _e("192.0.0.8/32", "IPv4 dummy address", "RFC 7600", False),
    _e("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", True),
    _e("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", True),
    _e("192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880", False),
    _e("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", False, _DOCUMENTATION),
    _e("192.31.196.0/24", "AS112-v4", "RFC 7535", True),
    _e("192.52.193.0/24", "AMT", "RFC 7450", True),
    _e("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", None),
    _e("192.88.99.2/32", "6a44-relay anycast address", "RFC 6751", False),
    _e("192.168.0.0/16", "Private-Use", "RFC 1918", False, _PRIVATE),
    _e("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", True),
    _e("198.18.0.0/15", "Benchmarking", "RFC 2544", False),
    _e("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", False, _DOCUMENTATION),
    _e("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", False, _DOCUMENTATION),
    _e("240.0.0.0/4", "Reserved", "RFC 1112", False, "a reserved address"),
    _e("255.255.255.255/32", "Limited Broadcast", "RFC 919", False, "the broadcast address"),
    # Not in the registry, never a receiver:
    _e("224.0.0.0/4", "Multicast", "RFC 5771", False, "a multicast address"),
    # IANA IPv6 Special-Purpose Address Registry
    _e("::1/128", "Loopback Address", "RFC 4291", False, "a loopback address"),
    _e("::/128", "Unspecified Address", "RFC 4291", False, "the unspecified address"),
    _e("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", False),  # judged by its IPv4
    _e("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", True),  # judged by its IPv4
    _e("64:ff9b:1::/48", "IPv4-IPv6 Translat. (local use)", "RFC 8215", False),
    _e("100::/64", "Discard-Only Address Block", "RFC 6666", False),
    _e("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", False),
    _e("2001::/23", "IETF Protocol Assignments", "RFC 2928", False),
    _e("2001::/32", "TEREDO", "RFC 4380", None),
    _e("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", True),
    _e("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", True),
    _e("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", True),
    _e("2001:2::/48", "Benchmarking", "RFC 5180", False),
    _e("2001:3::/32", "AMT", "RFC 7450", True),
    _e("2001:4:112::/48", "AS112-v6", "RFC 7535", True),
    _e("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", None),
    _e("2001:20::/28", "ORCHIDv2", "RFC 7343", True),
    _e("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", True),
    _e("2001:db8::/32", "Documentation", "RFC 3849", False, _DOCUMENTATION),
    _e("2002::/16", "6to4", "RFC 3056", None),
    _e("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", True),
    _e("3fff::/20", "Documentation", "RFC 9637", False, _DOCUMENTATION),
    _e("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", False),
    _e("fc00::/7", "Unique-Local", "RFC 4193", False, _PRIVATE),
    _e("fe80::/10", "Link-Local Unicast", "RFC 4291", False, "a link-local address"),
    # Not in the registry, never a receiver:
    _e("fec0::/10", "Site-Local (deprecated)", "RFC 3879", False, "a site-local address"),
    _e("ff00::/8", "Multicast", "RFC 4291", False, "a multicast address"),
)

# Most specific first, so the first entry that holds an address is the one that judges it.
_BY_SPECIFICITY = sorted(SPECIAL_PURPOSE, key=lambda e: -e.network.prefixlen)
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class DestinationRefused(DeliveryFailed):
    """The guard refused the destination; nothing was sent."""


class DnsFailure(DeliveryFailed):
    """The host name could not be resolved; nothing was sent."""


def special_purpose(ip: IPAddress) -> Special | None:
    """The most specific registry entry that holds ``ip``, if any."""
    for entry in _BY_SPECIFICITY:
        if entry.network.version == ip.version and ip in entry.network:
            return entry
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    """The IPv4 address in the last 32 bits (IPv4-mapped and NAT64 forms)."""
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def classify(address: str | IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (in words), or None if it is."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if ip in _MAPPED or ip in _NAT64:
            inner = _embedded_ipv4(ip)
            why = classify(inner)
            if why is None:
                return None  # the IPv4 it stands for is public
            form = "an IPv4-mapped IPv6 form" if ip in _MAPPED else "an IPv6 form"
            return f"{form} of {inner}, {why}"
        if ip in _SIX_TO_FOUR:
            inner = ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
            why = classify(inner)
            if why is not None:
                return f"an IPv6 form of {inner}, {why}"
    entry = special_purpose(ip)
    if entry is not None:
        return None if entry.globally_reachable is True else entry.reason()
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST:
        return "a reserved address (outside 2000::/3, the global unicast space)"
    return None


def refusal(host: str, address: str) -> str | None:
    """The administrator's message when ``host`` (or the ``address`` it resolved
    to) is refused, or None when the address is public."""
    why = classify(address)
    if why is None:
        return None
    shown = host.strip("[]")
    subject = f"{shown} is" if literal_address(shown) else f"{shown} resolves to {address},"
    return f"Refused by the destination guard: {subject} {why}. {ALLOW_HINT}"


def literal_address(host: str) -> IPAddress | None:
    """The address when ``host`` is an IP literal (``[::1]`` included), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


# -- resolution ------------------------------------------------------------------

_override: Resolver | None = None


def set_resolver(resolver: Resolver | None) -> None:
    """Replace name resolution (tests and demos); None restores the system resolver."""
    global _override
    _override = resolver


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order, without repeats."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return _unique(str(info[4][0]) for info in infos)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


async def resolve_checked(host: str, port: int, *, allow_private: bool) -> list[str]:
    """Resolve ``host`` once and check every address; refuse if any is internal.

    Raises DnsFailure or DestinationRefused (with the reason in words).
    """
    literal = literal_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = _unique(await (_override or system_resolve)(host, port))
        except (socket.gaierror, UnicodeError) as exc:
            detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise DnsFailure(f"DNS: the name {host} could not be resolved ({detail}).") from None
        if not addresses:
            raise DnsFailure(f"DNS: the name {host} resolves to no address.")
    if not allow_private:
        for address in addresses:
            why = refusal(host, address)
            if why:
                raise DestinationRefused(why)
    return addresses


class GuardedNetworkBackend:
    """An httpcore network backend that connects only to checked addresses.

    httpcore calls ``connect_tcp`` with the URL's host name; this resolves it
    once, checks every address (unless private networks are allowed) and
    connects to the first address that accepts, by IP. ``connected_to`` and
    ``phase`` tell the caller where a failure happened.
    """

    def __init__(self, *, allow_private: bool, inner: Any = None) -> None:
        if inner is None:
            import httpcore

            inner = httpcore.AnyIOBackend()
        self.allow_private = allow_private
        self._inner = inner
        self.phase = "dns"  # dns -> connect -> connected
        self.connected_to: str | None = None
        self.tried: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        self.phase = "dns"
        addresses = await resolve_checked(host, port, allow_private=self.allow_private)
        self.phase = "connect"
        last: BaseException | None = None
        for address in addresses:
            self.tried.append(address)
            try:
                stream = await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except Exception as exc:
                # Try the next address only when this one refused or is unreachable;
                # a timeout spends the whole budget and ends the attempt.
                if type(exc).__name__ != "ConnectError" and not isinstance(exc, OSError):
                    raise
                last = exc
                continue
            self.connected_to = address
            self.phase = "connected"
            return stream
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise DestinationRefused("Refused by the destination guard: not a network address.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
