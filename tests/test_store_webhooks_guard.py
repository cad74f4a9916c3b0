"""The destination guard: internal addresses are refused with the reason, on
the address actually connected to (DNS rebinding does not get through), and
allowed when the account allows private networks."""

from __future__ import annotations

import ipaddress

import httpcore
import pytest
from pytest_httpserver import HTTPServer

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


@pytest.fixture(scope="module")
def receiver():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


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
