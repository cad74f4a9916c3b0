"""What a webhook delivery sends: the body and its two signatures. Pure: no
network, no database.

The body is the platform's JSON (``callback_id``, ``contract``, ``events`` and,
with a key, the legacy ``signature`` = hex ``sha1(callback_id + key)``). With a
key every delivery also carries the Standard Webhooks headers ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256
over ``"{id}.{timestamp}.{body}"``).

Sending lives in ``store.sending``, the delivery log in ``store.delivery_log``,
tests and resends in ``store.deliveries``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import __version__, clock, validate
from .errors import ValidationError

USER_AGENT = f"integrations-admin/{__version__}"
TEST_EVENT = "webhook:test"  # sent by tests only, never by the platform
GENERATED_PREFIX = "whsec_"  # the Standard Webhooks form of a key


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    created_at: datetime


@dataclass(frozen=True)
class Prepared:
    """One request ready to send: its body and headers, signed at ``attempted_at``."""

    url: str
    callback_id: str
    event_type: str
    body: str
    headers: dict[str, str]
    attempted_at: datetime


# -- signing keys ---------------------------------------------------------------------


def is_generated_form(key: str) -> bool:
    """A key in the Standard Webhooks form (``whsec_`` + base64), whose HMAC key is
    the decoded bytes; any other key signs with its UTF-8 bytes."""
    return key.startswith(GENERATED_PREFIX)


def hmac_key(key: str) -> bytes:
    """The HMAC-SHA256 key of a signing key (decoded for ``whsec_`` keys, UTF-8
    otherwise). A ``whsec_`` key that is not base64 after its prefix is refused
    (a ValidationError that never quotes the key)."""
    if is_generated_form(key):
        try:
            return base64.b64decode(key[len(GENERATED_PREFIX) :], validate=True)
        except ValueError:  # binascii.Error is one; so is a character beyond ASCII
            raise ValidationError(
                "sign_key",
                f"A key starting with {GENERATED_PREFIX} must be base64 after the prefix.",
            ) from None
    return key.encode("utf-8")


# -- the body and its signatures --------------------------------------------------------


def new_callback_id() -> str:
    """40 lowercase hex characters; the same for every resend of a delivery."""
    return secrets.token_hex(20)


def format_time(at: datetime) -> str:
    """The platform's time format, e.g. ``2026-11-28T15:14:14+0000``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")


def legacy_signature(callback_id: str, key: str) -> str:
    """The platform's signature: lowercase hex ``sha1(callback_id + sign_key)``."""
    return hashlib.sha1((callback_id + key).encode("utf-8")).hexdigest()


def standard_signature(callback_id: str, timestamp: int, body: str, key: str) -> str:
    """Standard Webhooks ``webhook-signature``: ``v1,`` + base64 HMAC-SHA256."""
    mac = hmac.new(hmac_key(key), f"{callback_id}.{timestamp}.{body}".encode(), hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def build_body(
    callback_id: str, events: list[Event], key: str | None, *, contract_id: int | None = None
) -> str:
    """The JSON body, compatible with the platform's own notifications."""
    payload: dict[str, Any] = {
        "callback_id": callback_id,
        "contract": {"id": contract_id if contract_id is not None else 0},
        "events": [
            {"id": e.id, "type": e.type, "created_time": format_time(e.created_at)} for e in events
        ],
    }
    if key:
        payload["signature"] = legacy_signature(callback_id, key)
    return json.dumps(payload)


def build_headers(
    callback_id: str,
    timestamp: int,
    body: str,
    key: str | None,
    *,
    previous_key: str | None = None,
) -> dict[str, str]:
    """The request's headers; with a key, the Standard Webhooks ones too. During a
    key rotation's overlap (``previous_key``), ``webhook-signature`` carries the new
    key's signature then the previous key's, space-separated: a Standard Webhooks
    verifier holding either key accepts it."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # never decompress an untrusted answer
    }
    if key:
        headers["webhook-id"] = callback_id
        headers["webhook-timestamp"] = str(timestamp)
        signature = standard_signature(callback_id, timestamp, body, key)
        if previous_key and previous_key != key:
            signature += " " + standard_signature(callback_id, timestamp, body, previous_key)
        headers["webhook-signature"] = signature
    return headers


def prepare(
    url: str,
    key: str | None,
    events: list[Event],
    *,
    callback_id: str | None = None,
    contract_id: int | None = None,
    previous_key: str | None = None,
) -> Prepared:
    """A request for ``events`` to ``url``, signed now with ``key`` (a new callback
    id unless one is given: a resend keeps its original's). ``previous_key``: the
    key a rotation replaced, while its overlap lasts (``build_headers``); the
    legacy ``signature`` in the body uses ``key`` only."""
    if not events:
        raise ValidationError("events", "A delivery needs at least one event.")
    now = clock.now()
    callback_id = callback_id or new_callback_id()
    body = build_body(callback_id, events, key, contract_id=contract_id)
    headers = build_headers(
        callback_id, int(now.timestamp()), body, key, previous_key=previous_key if key else None
    )
    return Prepared(url, callback_id, events[0].type, body, headers, now)


def webhook_test_events() -> list[Event]:
    """The one ``webhook:test`` event a test delivery carries (a random id)."""
    return [Event(id=secrets.randbelow(2**31 - 1) + 1, type=TEST_EVENT, created_at=clock.now())]


def sent_events(body: str) -> tuple[list[Event], int | None]:
    """The events and contract id of a body this program sent (to resend them);
    ValidationError when the body cannot be read back."""
    try:
        sent = json.loads(body)
        events = [
            Event(
                id=int(e["id"]),
                type=str(e["type"]),
                created_at=datetime.strptime(e["created_time"], "%Y-%m-%dT%H:%M:%S%z"),
            )
            for e in sent["events"]
        ]
        contract_id = (sent.get("contract") or {}).get("id")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValidationError("body", "The body is not one this program sent.") from None
    return events, contract_id


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
