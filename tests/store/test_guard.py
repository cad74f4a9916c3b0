"""The destination guard: internal addresses are refused with the reason, on
the address actually connected to (DNS rebinding does not get through), and
allowed when the account allows private networks."""

from __future__ import annotations

import ipaddress

import httpcore
import pytest

from store import deliveries, guard, marketplace, settings, webhooks
from store.errors import ValidationError

PUBLIC = "93.184.215.14"

REFUSED = [
    ("127.0.0.1", "127.0.0.1 is a loopback address"),
    ("::1", "::1 is a loopback address"),
    (
        "::ffff:127.0.0.1",
        "::ffff:127.0.0.1 is an IPv4-mapped IPv6 form of 127.0.0.1, a loopback address",
    ),
    ("10.0.0.1", "10.0.0.1 is a private-network address"),
    ("172.16.5.4", "172.16.5.4 is a private-network address"),
    ("192.168.1.1", "192.168.1.1 is a private-network address"),
    ("fd12:3456::1", "fd12:3456::1 is a private-network address"),
    (
        "169.254.169.254",
        "169.254.169.254 is a link-local address (where cloud metadata services answer)",
    ),
    ("fe80::1", "fe80::1 is a link-local address"),
    ("100.64.0.1", "100.64.0.1 is a carrier-grade NAT address (100.64.0.0/10)"),
    ("224.0.0.1", "224.0.0.1 is a multicast address"),
    ("ff02::1", "ff02::1 is a multicast address"),
    ("0.0.0.0", "0.0.0.0 is the unspecified address"),
    ("::", ":: is the unspecified address"),
    ("240.0.0.1", "240.0.0.1 is a reserved address"),
    ("::ffff:169.254.169.254", "IPv4-mapped IPv6 form of 169.254.169.254, a link-local address"),
    ("::ffff:10.0.0.1", "IPv4-mapped IPv6 form of 10.0.0.1, a private-network address"),
    ("2002:7f00:1::", "an IPv6 form of 127.0.0.1, a loopback address"),
    ("64:ff9b::a00:1", "an IPv6 form of 10.0.0.1, a private-network address"),
]


class RecordingBackend:
    """Stands in for the real network: records which address a connection went to."""

    def __init__(self) -> None:
        self.connected: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append((host, port))
        return object()

    async def sleep(self, seconds):  # pragma: no cover - part of the backend interface
        pass


def counting_resolver(*answers: list[str]):
    """A resolver that gives answers[0] the first time, answers[1] the second..."""
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.fixture(autouse=True)
def _system_resolver():
    yield
    guard.set_resolver(None)


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_classify_refuses_internal_addresses(address, reason):
    message = guard.refusal(address, address)
    assert message is not None
    assert message.startswith("Refused by the destination guard: ")
    assert reason in message
    assert "Allow webhooks to private networks" in message


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert guard.classify(address) is None


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_literal_refused_at_connect_time(address, reason):
    inner = RecordingBackend()
    backend = guard.GuardedNetworkBackend(allow_private=False, inner=inner)
    with pytest.raises(guard.DestinationRefused) as err:
        await backend.connect_tcp(address, 443)
    assert reason in err.value.message
    assert inner.connected == []


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_allowed_when_private_networks_are_allowed(address, reason):
    inner = RecordingBackend()
    backend = guard.GuardedNetworkBackend(allow_private=True, inner=inner)
    await backend.connect_tcp(address, 443)
    [(host, port)] = inner.connected
    assert (ipaddress.ip_address(host), port) == (ipaddress.ip_address(address), 443)


async def test_name_resolving_to_private_address_is_refused():
    guard.set_resolver(counting_resolver(["10.1.2.3"]))
    inner = RecordingBackend()
    backend = guard.GuardedNetworkBackend(allow_private=False, inner=inner)
    with pytest.raises(guard.DestinationRefused) as err:
        await backend.connect_tcp("intranet.example.com", 443)
    assert (
        "intranet.example.com resolves to 10.1.2.3, a private-network address" in err.value.message
    )
    assert inner.connected == []


async def test_public_then_private_in_one_answer_is_refused():
    guard.set_resolver(counting_resolver([PUBLIC, "127.0.0.1"]))
    inner = RecordingBackend()
    backend = guard.GuardedNetworkBackend(allow_private=False, inner=inner)
    with pytest.raises(guard.DestinationRefused) as err:
        await backend.connect_tcp("rebind.example.com", 443)
    assert "rebind.example.com resolves to 127.0.0.1, a loopback address" in err.value.message
    assert inner.connected == []


async def test_rebinding_resolver_cannot_swap_the_address_after_the_check():
    """A resolver that answers public the first time and loopback afterwards: the
    name is resolved once, and the connection goes to the address that was checked."""
    resolver = counting_resolver([PUBLIC], ["127.0.0.1"])
    guard.set_resolver(resolver)
    inner = RecordingBackend()
    backend = guard.GuardedNetworkBackend(allow_private=False, inner=inner)
    await backend.connect_tcp("rebind.example.com", 8443)
    assert inner.connected == [(PUBLIC, 8443)]
    assert resolver.calls == ["rebind.example.com"]


async def test_next_address_is_tried_only_when_one_refuses():
    guard.set_resolver(counting_resolver(["2606:4700:4700::1111", PUBLIC]))

    class RefusesIPv6(RecordingBackend):
        async def connect_tcp(self, host, port, **kw):
            self.connected.append((host, port))
            if ":" in host:
                raise httpcore.ConnectError("[Errno 101] Network is unreachable")
            return object()

    inner = RefusesIPv6()
    backend = guard.GuardedNetworkBackend(allow_private=False, inner=inner)
    await backend.connect_tcp("dual.example.com", 443)
    assert inner.connected == [("2606:4700:4700::1111", 443), (PUBLIC, 443)]
    assert backend.connected_to == PUBLIC


# -- end to end through deliveries (a real server on loopback must get nothing) -------


@pytest.fixture
def custom(store, owner, receiver) -> int:
    receiver.clear()
    receiver.expect_request("/hook").respond_with_data("reached")
    return marketplace.enable(store, owner, "custom")


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("[::1]", "::1 is a loopback address"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1 is an IPv4-mapped IPv6 form of 127.0.0.1"),
        ("10.0.0.1", "10.0.0.1 is a private-network address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is a carrier-grade NAT address"),
    ],
)
async def test_literal_urls_refused_before_sending(store, owner, custom, receiver, host, reason):
    with pytest.raises(ValidationError) as err:
        await deliveries.test_url(
            store, owner, custom, f"https://{host}:{receiver.port}/hook", None
        )
    assert err.value.field == "url" and reason in err.value.message
    assert receiver.log == []


async def test_name_resolving_to_loopback_is_refused_then_allowed(store, owner, custom, receiver):
    guard.set_resolver(counting_resolver(["127.0.0.1"]))
    url = f"https://internal.example.com:{receiver.port}/hook"
    refused = await deliveries.test_url(store, owner, custom, url, None)
    assert not refused.ok and refused.status_code is None
    assert refused.reason.startswith(
        "Refused by the destination guard: internal.example.com resolves to 127.0.0.1, "
        "a loopback address."
    )
    assert receiver.log == []

    settings.set_allow_private_webhooks(store, owner, True)
    allowed = await deliveries.test_url(
        store, owner, custom, f"http://internal.example.com:{receiver.port}/hook", None
    )
    assert allowed.ok and allowed.connected_to == "127.0.0.1"
    assert len(receiver.log) == 1


async def test_rebinding_answer_is_refused_end_to_end(store, owner, custom, receiver):
    """Public first, private second in the same answer: refused, nothing reaches
    the loopback server; a saved webhook logs the refusal."""
    guard.set_resolver(counting_resolver([PUBLIC, "127.0.0.1"]))
    url = f"https://rebind.example.com:{receiver.port}/hook"
    w = webhooks.create(store, owner, custom, url=url)
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok
    assert "rebind.example.com resolves to 127.0.0.1, a loopback address" in result.reason
    assert receiver.log == []
    [logged] = deliveries.deliveries(store, w.id)
    assert logged.error == result.reason and logged.short_label == "failed (guard)"


async def test_saved_literal_refused_after_private_networks_are_turned_off(
    store, owner, custom, receiver
):
    settings.set_allow_private_webhooks(store, owner, True)
    w = webhooks.create(store, owner, custom, url=f"https://127.0.0.1:{receiver.port}/hook")
    settings.set_allow_private_webhooks(store, owner, False)
    result = await deliveries.send_test(store, owner, w.id)
    assert not result.ok and "127.0.0.1 is a loopback address" in result.reason
    assert receiver.log == []


# -- the IANA special-purpose registries, entry by entry (issue 13, item 19) ----------

# Written out here from the registries (IPv4 and IPv6 Special-Purpose Address
# Registries, 2025), independently of store/guard.py: (block, publicly reachable).
# True only where the registry's "Globally Reachable" column says True.
IPV4_REGISTRY = [
    ("0.0.0.0/8", False),
    ("0.0.0.0/32", False),
    ("10.0.0.0/8", False),
    ("100.64.0.0/10", False),
    ("127.0.0.0/8", False),
    ("169.254.0.0/16", False),
    ("172.16.0.0/12", False),
    ("192.0.0.0/24", False),
    ("192.0.0.0/29", False),
    ("192.0.0.8/32", False),
    ("192.0.0.9/32", True),
    ("192.0.0.10/32", True),
    ("192.0.0.170/31", False),
    ("192.0.2.0/24", False),
    ("192.31.196.0/24", True),
    ("192.52.193.0/24", True),
    ("192.88.99.0/24", False),  # N/A: deprecated 6to4 relay anycast
    ("192.88.99.2/32", False),
    ("192.168.0.0/16", False),
    ("192.175.48.0/24", True),
    ("198.18.0.0/15", False),
    ("198.51.100.0/24", False),
    ("203.0.113.0/24", False),
    ("240.0.0.0/4", False),
    ("255.255.255.255/32", False),
    ("224.0.0.0/4", False),  # multicast
]
IPV6_REGISTRY = [
    ("::1/128", False),
    ("::/128", False),
    ("::ffff:0:0/96", False),
    ("64:ff9b::/96", True),
    ("64:ff9b:1::/48", False),
    ("100::/64", False),
    ("100:0:0:1::/64", False),
    ("2001::/23", False),
    ("2001::/32", False),  # N/A: Teredo
    ("2001:1::1/128", True),
    ("2001:1::2/128", True),
    ("2001:1::3/128", True),
    ("2001:2::/48", False),
    ("2001:3::/32", True),
    ("2001:4:112::/48", True),
    ("2001:10::/28", False),  # N/A: deprecated ORCHID
    ("2001:20::/28", True),
    ("2001:30::/28", True),
    ("2001:db8::/32", False),
    ("2002::/16", False),  # N/A: 6to4
    ("2620:4f:8000::/48", True),
    ("3fff::/20", False),
    ("5f00::/16", False),
    ("fc00::/7", False),
    ("fe80::/10", False),
    ("fec0::/10", False),  # deprecated site-local
    ("ff00::/8", False),  # multicast
]
REGISTRY = IPV4_REGISTRY + IPV6_REGISTRY


@pytest.mark.parametrize(("block", "public"), REGISTRY, ids=[b for b, _ in REGISTRY])
def test_every_registry_entry_is_data_in_the_guard(block, public):
    entries = {str(e.network): e for e in guard.SPECIAL_PURPOSE}
    assert block in entries
    assert (entries[block].globally_reachable is True) == public
    assert entries[block].name and entries[block].rfc.startswith("RFC ")


def _forms(block: str) -> list[str]:
    """The block's first address; for IPv4, also its IPv4-mapped and NAT64 forms."""
    first = ipaddress.ip_network(block)[0]
    if first.version == 6:
        return [str(first)]
    return [str(first), f"::ffff:{first}", f"64:ff9b::{first}"]


# These two are judged by the IPv4 they embed: their first address stands for 0.0.0.0.
EMBEDDING = {"::ffff:0:0/96", "64:ff9b::/96"}


@pytest.mark.parametrize(
    ("address", "public"),
    [(a, public and block not in EMBEDDING) for block, public in REGISTRY for a in _forms(block)],
)
def test_every_registry_entry_in_every_form(address, public):
    why = guard.classify(address)
    if public:
        assert why is None
    else:
        message = guard.refusal(address, address)
        assert message is not None and why is not None
        assert message.startswith(f"Refused by the destination guard: {address} is ")
    # Connecting agrees with classify.
    assert (guard.refusal(address, address) is None) == public


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("192.0.0.1", "IPv4 Service Continuity Prefix (192.0.0.0/29, RFC 7335)"),
        ("192.0.0.200", "IETF Protocol Assignments (192.0.0.0/24, RFC 6890)"),
        ("::ffff:192.0.0.200", "IPv4-mapped IPv6 form of 192.0.0.200, a special-purpose"),
        ("64:ff9b::192.0.0.200", "an IPv6 form of 192.0.0.200, a special-purpose"),
        ("fec0::1", "a site-local address"),
        ("3fff::1", "a documentation address"),
        ("3fff:fff:ffff::1", "a documentation address"),
        ("192.0.2.55", "a documentation address"),
        ("2001:db8::1", "a documentation address"),
        ("5f00::1", "Segment Routing (SRv6) SIDs (5f00::/16, RFC 9602)"),
        ("2001::1", "TEREDO (2001::/32, RFC 4380)"),
        ("2002:808:808::1", "6to4 (2002::/16, RFC 3056)"),
        ("64:ff9b:1::a00:1", "(64:ff9b:1::/48, RFC 8215)"),
        ("::a00:1", "a reserved address (outside 2000::/3"),
        ("4000::1", "a reserved address (outside 2000::/3"),
        ("255.255.255.255", "the broadcast address"),
        ("198.19.255.1", "Benchmarking (198.18.0.0/15, RFC 2544)"),
    ],
)
def test_special_purpose_reasons_name_the_entry(address, reason):
    message = guard.refusal(address, address)
    assert message is not None and reason in message


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.9",  # a globally reachable /32 inside 192.0.0.0/24
        "192.175.48.1",
        "2001:4:112::1",
        "::ffff:8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2001:4860:4860::8888",
        "1.1.1.1",
        "223.255.255.254",
    ],
)
def test_public_and_globally_reachable_addresses_pass(address):
    assert guard.classify(address) is None


def test_the_guard_does_not_ask_the_python_build(monkeypatch):
    """Verdicts come from the table: ipaddress's is_global, is_private... (whose
    answers changed between Python releases) are never consulted."""

    def asked(self):
        raise AssertionError("the guard asked ipaddress for a verdict")

    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        for name in (
            "is_global",
            "is_private",
            "is_reserved",
            "is_loopback",
            "is_link_local",
            "is_multicast",
            "is_unspecified",
            "is_site_local",
        ):
            if hasattr(cls, name):
                monkeypatch.setattr(cls, name, property(asked))
    for block, _public in REGISTRY:
        for address in _forms(block):
            guard.classify(address)
    assert guard.classify(PUBLIC) is None
