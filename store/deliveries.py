"""Webhook deliveries: the payload, its two signatures, sending with httpx, and
the log of every attempt.

The body is the platform's JSON (``callback_id``, ``contract``, ``events`` and,
with a key, the legacy ``signature`` = hex ``sha1(callback_id + key)``). With a
key every delivery also carries the Standard Webhooks headers ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` + base64 HMAC-SHA256
over ``"{id}.{timestamp}.{body}"``).

A delivery succeeds on any 2xx within the account's timeout (default 10 s).
Redirects are not followed; at most 64 KiB of the response is read; the
destination guard (``store.guard``) checks the address actually connected to.
Every attempt on a saved webhook is logged in the ``delivery`` table.

Tests of a URL typed in the create form (``test_url``) are *not* logged on
their own: there is no webhook yet to own them. When the administrator then
confirms the form, ``webhooks.create(..., test=result)`` logs that test as the
new webhook's first delivery.

The sending functions are async (the TUI awaits them in workers); database
work inside them runs in a thread so a slow database never blocks the loop.
httpx is imported on first send, not at start-up.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import String, cast, or_
from sqlmodel import Session, col, func, select

from . import __version__, catalog, clock, integrations, validate
from .accounts import Actor
from .change import anyone, change, may_manage
from .db import Store
from .errors import Conflict, NotFound, ValidationError
from .models import Account, Delivery, Integration, Webhook
from .refusals import managed_webhook_refusal
from .textmatch import contains, like_pattern
from .webhooks import (
    TEST_EVENT,
    _events_of,
    failure_kind,
    hmac_key,
    validate_sign_key,
    validate_url,
)

# httpx logs every request's full URL at INFO, and a webhook URL may carry a secret
# in its query string; the delivery log is the record of what was sent.
logging.getLogger("httpx").setLevel(logging.WARNING)

USER_AGENT = f"integrations-admin/{__version__}"
RESPONSE_READ_MAX = 64 * 1024  # bytes of a response ever read
EXCERPT_MAX = 4096  # characters of the response body kept in the log
# The platform's schedule for retrying real events after the first failure (public docs).
RETRY_SCHEDULE_S = (1, 5, 10, 30, 60, 300, 600, 1800, 3600)


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    created_at: datetime


@dataclass(frozen=True)
class AttemptResult:
    """What happened when one request was sent (or refused before sending)."""

    ok: bool
    status_code: int | None
    latency_ms: int | None
    reason: str  # in words: "HTTP 200 OK", "Timeout: ...", "DNS: ...", "Refused ..."
    url: str
    event_type: str
    callback_id: str
    attempted_at: datetime
    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    response_excerpt: str  # status line, headers, blank line, start of the body
    response_bytes: int  # body bytes read (never more than RESPONSE_READ_MAX)
    response_truncated: bool  # the body was longer than what was read
    connected_to: str | None = None  # the checked address the request went to
    delivery_id: int | None = None  # set once logged


@dataclass(frozen=True)
class DeliveryInfo:
    """One logged attempt, as the delivery log lists it."""

    id: int
    webhook_id: int
    attempted_at: datetime
    event_type: str
    callback_id: str
    url: str
    success: bool
    status_code: int | None
    latency_ms: int | None
    error: str | None
    resend_of_id: int | None

    @property
    def result_label(self) -> str:
        """'200 OK', 'failed: 503 Service Unavailable' or 'failed: Timeout' style."""
        if self.success:
            return f"{self.status_code} {_phrase(self.status_code)}".strip()
        if self.status_code is not None:
            return f"failed: {self.status_code} {_phrase(self.status_code)}".strip()
        return f"failed: {(self.error or '').split(':', 1)[0]}"

    @property
    def short_label(self) -> str:
        """'200 OK', 'failed (503)' or 'failed (timeout)': narrow enough for a table."""
        if self.success:
            return self.result_label
        if self.status_code is not None:
            return f"failed ({self.status_code})"
        return f"failed ({failure_kind(self.error)})"


@dataclass(frozen=True)
class DeliveryDetail(DeliveryInfo):
    """A logged attempt in full: the request as sent and the response as read."""

    request_headers: tuple[tuple[str, str], ...]
    request_body: str
    response_excerpt: str
    # Its place in its webhook's log (1 = the oldest kept), and that of the
    # attempt it resends: what the delivery's page calls it, not the account-wide id.
    number: int = 0
    resend_of_number: int | None = None


def _phrase(code: int | None) -> str:
    try:
        return HTTPStatus(code).phrase if code is not None else ""
    except ValueError:
        return ""


# -- payload and signatures ---------------------------------------------------------


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


def build_headers(callback_id: str, timestamp: int, body: str, key: str | None) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # never decompress an untrusted answer
    }
    if key:
        headers["webhook-id"] = callback_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = standard_signature(callback_id, timestamp, body, key)
    return headers


@dataclass(frozen=True)
class _Prepared:
    url: str
    callback_id: str
    event_type: str
    body: str
    headers: dict[str, str]
    attempted_at: datetime


def _prepare(
    url: str,
    key: str | None,
    events: list[Event],
    *,
    callback_id: str | None = None,
    contract_id: int | None = None,
) -> _Prepared:
    now = clock.now()
    callback_id = callback_id or new_callback_id()
    body = build_body(callback_id, events, key, contract_id=contract_id)
    headers = build_headers(callback_id, int(now.timestamp()), body, key)
    return _Prepared(url, callback_id, events[0].type, body, headers, now)


def _test_events() -> list[Event]:
    return [Event(id=secrets.randbelow(2**31 - 1) + 1, type=TEST_EVENT, created_at=clock.now())]


# -- sending ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _ssl_context_for(cafile: str | None, capath: str | None) -> Any:
    import ssl

    if not cafile and not capath:
        import certifi  # httpx's own default trust store

        cafile = certifi.where()
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _ssl_context() -> Any:
    # SSL_CERT_FILE / SSL_CERT_DIR let an operator trust an intranet CA.
    return _ssl_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _transport_class() -> type:
    """An httpx transport over an httpcore pool whose network backend is the guard.

    httpx's default transport does not take a network backend, so this is the
    same mapping it does (request -> httpcore, response <- httpcore), in public API.
    """
    import httpcore
    import httpx

    class _ResponseStream(httpx.AsyncByteStream):
        def __init__(self, stream: Any) -> None:
            self._stream = stream

        async def __aiter__(self):
            async for part in self._stream:
                yield part

        async def aclose(self) -> None:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()

    class GuardedTransport(httpx.AsyncBaseTransport):
        def __init__(self, backend: Any, ssl_context: Any) -> None:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                network_backend=backend,
                max_connections=1,
                http1=True,
                http2=False,
                retries=0,
            )

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.AsyncByteStream)
            core = httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
            resp = await self._pool.handle_async_request(core)
            return httpx.Response(
                status_code=resp.status,
                headers=resp.headers,
                stream=_ResponseStream(resp.stream),
                extensions=resp.extensions,
            )

        async def aclose(self) -> None:
            await self._pool.aclose()

    return GuardedTransport


def _causes(exc: BaseException):
    """The exception and everything it was raised from (groups included)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                todo.append(nxt)


def _explain(exc: BaseException, *, host: str, port: int, backend: Any, timeout_s: int) -> str:
    """The failure in words: DNS, refused, TLS, timeout or what the connection did."""
    import ssl

    from . import guard

    if isinstance(exc, guard.DestinationRefused | guard.DnsFailure):
        return exc.message
    name = type(exc).__name__
    if isinstance(exc, TimeoutError) or name.endswith("Timeout"):
        if backend.phase == "dns":
            return f"Timeout: resolving {host} took longer than {timeout_s} s."
        if backend.phase == "connect":
            return f"Timeout: no connection to {host} port {port} within {timeout_s} s."
        return f"Timeout: {host} did not answer within {timeout_s} s."
    chain = list(_causes(exc))
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            detail = e.verify_message or e.reason or "not trusted"
            return f"TLS: the certificate of {host} was not accepted ({detail})."
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return f"TLS: the secure connection to {host} failed ({e.reason or e})."
    where = f"{host} port {port}"
    if backend.tried and backend.tried[-1] != host.strip("[]"):
        where += f" ({backend.tried[-1]})"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return f"Refused: {where} refused the connection (nothing listens there)."
    if name == "ConnectError":
        oserr = next((e for e in chain if isinstance(e, OSError) and e.strerror), None)
        detail = oserr.strerror if oserr else str(exc) or "unreachable"
        return f"Cannot connect to {where}: {detail}."
    if name in ("RemoteProtocolError", "ReadError", "WriteError", "LocalProtocolError"):
        return f"Connection to {where} broken: {exc or 'closed before a complete answer'}."
    return f"Delivery failed: {name}: {exc}"


def _response_text(
    status: int, reason: str, headers: list[tuple[str, str]], body: bytes, truncated: bool
) -> str:
    head = [f"HTTP {status} {reason}".rstrip()] + [f"{k}: {v}" for k, v in headers]
    text = body.decode("utf-8", errors="replace")
    more = len(text) > EXCERPT_MAX
    text = text[:EXCERPT_MAX]
    if truncated:
        text += f"\n[... response longer than {RESPONSE_READ_MAX // 1024} KiB: reading stopped]"
    elif more:
        text += f"\n[... {len(body)} bytes read, the first {EXCERPT_MAX} characters kept]"
    return "\n".join(head)[:EXCERPT_MAX] + "\n\n" + text


async def _send(prep: _Prepared, *, timeout_s: int, allow_private: bool) -> AttemptResult:
    """Send one prepared request; every failure becomes an AttemptResult with a reason."""
    import httpx

    from . import guard

    parts = urlsplit(prep.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    backend = guard.GuardedNetworkBackend(allow_private=allow_private)
    transport = _transport_class()(backend, _ssl_context())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    started = time.perf_counter()
    result = dict(
        url=prep.url,
        event_type=prep.event_type,
        callback_id=prep.callback_id,
        attempted_at=prep.attempted_at,
        request_body=prep.body,
        request_headers=tuple(prep.headers.items()),
        response_excerpt="",
        response_bytes=0,
        response_truncated=False,
    )

    def elapsed_ms() -> int:
        return int((time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
    ) as client:
        try:
            request = client.build_request(
                "POST", prep.url, content=prep.body.encode("utf-8"), headers=prep.headers
            )
        except Exception as exc:  # httpx.InvalidURL, or idna refusing the host name
            return _refused(prep, f"The URL cannot be used: {exc}.")
        result["request_headers"] = tuple(
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
        )
        try:
            async with asyncio.timeout_at(deadline):
                response = await client.send(request, stream=True)
        except Exception as exc:
            reason = _explain(exc, host=host, port=port, backend=backend, timeout_s=timeout_s)
            return AttemptResult(
                ok=False,
                status_code=None,
                latency_ms=elapsed_ms(),
                reason=clip_error(reason),
                connected_to=backend.connected_to,
                **result,
            )
        latency = elapsed_ms()
        body = bytearray()
        truncated = False
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    room = RESPONSE_READ_MAX - len(body)
                    if len(chunk) > room:
                        body.extend(chunk[:room])
                        truncated = True
                        break
                    body.extend(chunk)
        except Exception:
            pass  # the status already came; a slow or broken body only shortens the excerpt
        finally:
            await response.aclose()
    status = response.status_code
    phrase = _phrase(status) or response.reason_phrase
    ok = 200 <= status < 300
    if ok:
        reason = f"HTTP {status} {phrase}".rstrip()
    elif 300 <= status < 400:
        location = response.headers.get("location", "(no Location header)")
        reason = (
            f"HTTP {status} {phrase}: redirect to {location} not followed; "
            "set the webhook's URL to the final address."
        )
    else:
        reason = f"HTTP {status} {phrase}: the receiver did not accept the delivery."
    # The receiver's words are stored and shown: no NUL (PostgreSQL refuses it),
    # no terminal escape sequences (they would reach the administrator's terminal).
    result["response_excerpt"] = validate.printable(
        _response_text(status, phrase, list(response.headers.items()), bytes(body), truncated)
    )
    result["response_bytes"] = len(body)
    result["response_truncated"] = truncated
    return AttemptResult(
        ok=ok,
        status_code=status,
        latency_ms=latency,
        reason=clip_error(validate.printable(reason)),  # may quote the phrase or Location
        connected_to=backend.connected_to,
        **result,
    )


# An error is stored and listed in one line: a receiver's long redirect address or
# an exception's text is cut to this (PostgreSQL also refuses index entries over
# ~2,700 bytes, and the delivery log's listing index holds the error).
ERROR_MAX = 500


def clip_error(reason: str) -> str:
    """``reason``, cut to ERROR_MAX characters (the last one "…") if longer."""
    return reason if len(reason) <= ERROR_MAX else reason[: ERROR_MAX - 1] + "…"


def _refused(prep: _Prepared, reason: str) -> AttemptResult:
    """An attempt stopped before anything was sent."""
    return AttemptResult(
        ok=False,
        status_code=None,
        latency_ms=None,
        reason=clip_error(reason),
        url=prep.url,
        event_type=prep.event_type,
        callback_id=prep.callback_id,
        attempted_at=prep.attempted_at,
        request_headers=tuple(prep.headers.items()),
        request_body=prep.body,
        response_excerpt="",
        response_bytes=0,
        response_truncated=False,
    )


# -- the log ------------------------------------------------------------------------------


def log_attempt(
    s: Session, webhook_id: int, attempt: AttemptResult, resend_of_id: int | None = None
) -> int:
    """Write an attempt to the delivery log inside the caller's transaction."""
    d = Delivery(
        webhook_id=webhook_id,
        callback_id=attempt.callback_id,
        event_type=attempt.event_type,
        url=attempt.url,
        attempted_at=attempt.attempted_at,
        success=attempt.ok,
        status_code=attempt.status_code,
        latency_ms=attempt.latency_ms,
        error=None if attempt.ok else clip_error(attempt.reason),
        request_headers=json.dumps([list(h) for h in attempt.request_headers]),
        request_body=attempt.request_body,
        response_excerpt=attempt.response_excerpt,
        resend_of_id=resend_of_id,
    )
    s.add(d)
    s.flush()
    return d.id or 0


def _log(
    store: Store,
    account_id: int,
    webhook_id: int,
    attempt: AttemptResult,
    resend_of_id: int | None = None,
) -> AttemptResult:
    # The program logs what it sent: no permission check, no audit entry.
    with change(store, None, "log deliveries", check=anyone, account_id=account_id) as c:
        if c.s.get(Webhook, webhook_id) is None:
            return attempt  # deleted while the request was in flight: nothing to attach to
        return replace(attempt, delivery_id=log_attempt(c.s, webhook_id, attempt, resend_of_id))


def attempt_matches(attempt: AttemptResult, url: str, key: str | None) -> bool:
    """Whether a form's test was for this URL and this key (so it may be logged
    as the new webhook's first delivery and count as its verification)."""
    if attempt.url != url or attempt.event_type != TEST_EVENT:
        return False
    try:
        sent = json.loads(attempt.request_body).get("signature")
    except (ValueError, AttributeError):
        return False
    expected = legacy_signature(attempt.callback_id, key) if key else None
    return sent == expected


def _info_fields(d: Delivery) -> dict[str, Any]:
    return dict(
        id=d.id or 0,
        webhook_id=d.webhook_id or 0,
        attempted_at=d.attempted_at,
        event_type=d.event_type,
        callback_id=d.callback_id,
        url=d.url,
        success=d.success,
        status_code=d.status_code,
        latency_ms=d.latency_ms,
        error=d.error,
        resend_of_id=d.resend_of_id,
    )


# What the log lists: every column but the request and response themselves.
_INFO_COLUMNS = tuple(getattr(Delivery, name) for name in DeliveryInfo.__dataclass_fields__)


def deliveries(
    store: Store, webhook_id: int, limit: int = 200, text_filter: str = ""
) -> list[DeliveryInfo]:
    """A webhook's delivery log, newest first; ``text_filter`` matches event type,
    callback id, status code, error or result (``ok``, ``failed``), ignoring
    case, in SQL: the whole log, however long."""
    if "\x00" in text_filter or validate.not_unicode(text_filter):
        return []  # no stored text holds these (PostgreSQL cannot even compare them)
    q = select(*_INFO_COLUMNS).where(Delivery.webhook_id == webhook_id)
    needle = text_filter.strip().lower()
    if needle:
        like = like_pattern(needle)

        def has(text) -> Any:
            # As the audit log's filter: no lower() per row on SQLite, whose
            # LIKE ignores ASCII case by itself; ESCAPE only when needed.
            return contains(text, like, store.is_sqlite)

        matches = [
            has(Delivery.event_type),
            has(Delivery.callback_id),
            has(Delivery.error),  # NULL (a success) matches nothing
        ]
        # Only digits can be in a status code, and only "ok" or "failed" in a
        # result: the other conditions are left out rather than computed per row.
        if needle.isdigit():
            matches.append(cast(Delivery.status_code, String).like(like))
        if needle in "ok":
            matches.append(col(Delivery.success).is_(True))
        if needle in "failed":
            matches.append(col(Delivery.success).is_(False))
        q = q.where(or_(*matches))
    q = q.order_by(col(Delivery.attempted_at).desc(), col(Delivery.id).desc()).limit(limit)
    with store.read() as s:
        return [DeliveryInfo(**row._mapping) for row in s.execute(q)]


def delivery(store: Store, delivery_id: int) -> DeliveryDetail:
    """One logged attempt in full."""
    with store.read() as s:
        d = s.get(Delivery, delivery_id)
        if d is None:
            raise NotFound("That delivery is no longer in the log.")
        try:
            headers = tuple((str(k), str(v)) for k, v in json.loads(d.request_headers or "[]"))
        except ValueError:
            headers = ()

        def place(delivery_id: int):
            return (
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.webhook_id == d.webhook_id, col(Delivery.id) <= delivery_id)
                .scalar_subquery()
            )

        # One round trip for both (no resend: a count of nothing, 0).
        number, resend_of = s.exec(select(place(d.id or 0), place(d.resend_of_id or 0))).one()
        return DeliveryDetail(
            **_info_fields(d),
            request_headers=headers,
            request_body=d.request_body,
            response_excerpt=d.response_excerpt,
            number=int(number or 0),
            resend_of_number=int(resend_of) if d.resend_of_id and resend_of else None,
        )


# -- what screens call ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    account_id: int
    webhook_id: int
    url: str
    key: str | None
    timeout_s: int
    allow_private: bool


def _load_target(store: Store, actor: Actor, webhook_id: int, doing: str) -> _Target:
    with store.read() as s:
        may_manage(s, actor, doing)
        w = s.get(Webhook, webhook_id)
        integ = s.get(Integration, w.integration_id) if w else None
        if w is None or integ is None or integ.account_id != actor.account_id:
            raise NotFound("That webhook no longer exists.")
        name = catalog.extension(integ.extension_key).name
        refusal = managed_webhook_refusal(name, w.managed, sending=True)
        if refusal:
            raise Conflict(refusal)
        if not integ.enabled:
            raise Conflict(
                f"{name} is disabled: its webhooks do not send while it is paused. "
                "Enable it in the Marketplace first."
            )
        integrations.refuse_if_suspended(s, integ)  # its webhooks do not send either
        account = s.get(Account, actor.account_id)
        assert account is not None
        return _Target(
            actor.account_id,
            webhook_id,
            w.url,
            w.sign_key,
            account.webhook_timeout_s,
            account.allow_private_webhooks,
        )


async def _attempt_and_log(
    store: Store, target: _Target, prep: _Prepared, resend_of_id: int | None = None
) -> AttemptResult:
    try:
        validate_url(target.url, allow_private=target.allow_private)
    except ValidationError as exc:  # e.g. an http URL after private networks were turned off
        attempt = _refused(prep, exc.message)
    else:
        try:
            attempt = await _send(
                prep, timeout_s=target.timeout_s, allow_private=target.allow_private
            )
        except asyncio.CancelledError:
            # Logged synchronously: the task is being cancelled and must not await again.
            _log(
                store,
                target.account_id,
                target.webhook_id,
                _refused(
                    prep,
                    "Cancelled before an answer came; the receiver may still have received it.",
                ),
                resend_of_id,
            )
            raise
    return await asyncio.to_thread(
        _log, store, target.account_id, target.webhook_id, attempt, resend_of_id
    )


async def test_url(
    store: Store, actor: Actor, integration_id: int, url: str, sign_key: str | None
) -> AttemptResult:
    """Send a ``webhook:test`` delivery to a URL typed in the create form.

    Bad input raises ValidationError (with the form field); a failed delivery is
    a result with ``ok`` false and the reason. Not logged (see the module notes).
    """
    from .webhooks import _custom_integration

    key = validate_sign_key(sign_key)

    def check() -> tuple[str, int, bool]:
        with store.read() as s:
            may_manage(s, actor, "test webhooks")
            _custom_integration(s, actor, integration_id)
            account = s.get(Account, actor.account_id)
            assert account is not None
            checked = validate_url(url, allow_private=account.allow_private_webhooks)
            return checked, account.webhook_timeout_s, account.allow_private_webhooks

    checked_url, timeout_s, allow_private = await asyncio.to_thread(check)
    prep = _prepare(checked_url, key, _test_events())
    return await _send(prep, timeout_s=timeout_s, allow_private=allow_private)


async def send_test(store: Store, actor: Actor, webhook_id: int) -> AttemptResult:
    """Send a ``webhook:test`` delivery to a saved webhook; the attempt is logged."""
    target = await asyncio.to_thread(_load_target, store, actor, webhook_id, "test webhooks")
    prep = _prepare(target.url, target.key, _test_events())
    return await _attempt_and_log(store, target, prep)


async def resend(store: Store, actor: Actor, delivery_id: int) -> AttemptResult:
    """Send a logged delivery again: same callback id and events (receivers can
    deduplicate), fresh timestamp and signatures, to the webhook's current URL
    and key. The new attempt is logged with ``resend_of_id``."""

    def load() -> tuple[_Target, Delivery]:
        with store.read() as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                raise NotFound("That delivery is no longer in the log.")
        return _load_target(store, actor, d.webhook_id or 0, "resend deliveries"), d

    target, original = await asyncio.to_thread(load)
    try:
        sent = json.loads(original.request_body)
        events = [
            Event(
                id=int(e["id"]),
                type=str(e["type"]),
                created_at=datetime.strptime(e["created_time"], "%Y-%m-%dT%H:%M:%S%z"),
            )
            for e in sent["events"]
        ]
        contract_id = (sent.get("contract") or {}).get("id")
    except (ValueError, KeyError, TypeError):
        raise Conflict(
            "This delivery's logged body cannot be read, so it cannot be resent."
        ) from None
    if not events:
        raise Conflict("This delivery has no events to resend.")
    prep = _prepare(
        target.url,
        target.key,
        events,
        callback_id=original.callback_id,
        contract_id=contract_id,
    )
    return await _attempt_and_log(store, target, prep, resend_of_id=original.id)


async def deliver_event(
    store: Store,
    account_id: int,
    event_type: str,
    *,
    contract_id: int,
    event_id: int | None = None,
) -> list[AttemptResult]:
    """Deliver one platform event to every webhook of the account that receives it:
    custom webhooks of running integrations only (paused or suspended ones do not send; managed
    ones are the platform's). Each attempt is logged. Retries are not scheduled here."""

    def targets() -> list[_Target]:
        with store.read() as s:
            account = s.get(Account, account_id)
            if account is None:
                raise NotFound("The account no longer exists.")
            rows = s.exec(
                select(Webhook, Integration.extension_key)
                .join(Integration, Integration.id == Webhook.integration_id)
                .where(
                    Integration.account_id == account_id,
                    col(Integration.enabled).is_(True),
                    col(Webhook.managed).is_(False),
                )
                .order_by(col(Webhook.id))
            ).all()
            return [
                _Target(
                    account_id,
                    w.id or 0,
                    w.url,
                    w.sign_key,
                    account.webhook_timeout_s,
                    account.allow_private_webhooks,
                )
                for w, key in rows
                # A suspended integration (its plan does not include it) sends nothing.
                if catalog.suspended_by_plan(key, account.plan) is None
                and (not _events_of(w.event_types) or event_type in _events_of(w.event_types))
            ]

    found = await asyncio.to_thread(targets)
    event = Event(
        id=event_id if event_id is not None else secrets.randbelow(2**31 - 1) + 1,
        type=event_type,
        created_at=clock.now(),
    )
    return list(
        await asyncio.gather(
            *(
                _attempt_and_log(store, t, _prepare(t.url, t.key, [event], contract_id=contract_id))
                for t in found
            )
        )
    )


test_url.__test__ = False  # type: ignore[attr-defined]  # a store function, not a pytest test


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
