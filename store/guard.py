"""The destination guard: a webhook may not make this program reach internal
networks (no server-side request forgery).

By default a delivery may not connect to loopback, private (RFC 1918,
fc00::/7), link-local (169.254/16 with the cloud metadata services, fe80::/10),
carrier-grade NAT (100.64/10), multicast, unspecified or reserved addresses,
nor to those addresses written in an IPv6 form that embeds IPv4 (IPv4-mapped
``::ffff:a.b.c.d``, 6to4, NAT64).

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
from typing import Any

from .errors import DeliveryFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

ALLOW_HINT = (
    "Webhooks may only reach public internet addresses unless the account setting "
    "'Allow webhooks to private networks' is on (Webhooks tab, s; or ctrl+p \"private\")."
)


class DestinationRefused(DeliveryFailed):
    """The guard refused the destination; nothing was sent."""


class DnsFailure(DeliveryFailed):
    """The host name could not be resolved; nothing was sent."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(address: str | IPAddress) -> str | None:
    """Why ``address`` is not a public internet address (in words), or None if it is."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    inner = _embedded_ipv4(ip)
    if inner is not None:
        why = classify(inner)
        if why is None:
            return None  # e.g. 6to4 or NAT64 of a public address
        form = "an IPv4-mapped IPv6 form" if ip.ipv4_mapped is not None else "an IPv6 form"
        return f"{form} of {inner}, {why}"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_multicast:
        return "a multicast address"
    if any(ip in net for net in _RFC1918) or ip in _UNIQUE_LOCAL:
        return "a private-network address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or not ip.is_global:
        return "not a public internet address"
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
