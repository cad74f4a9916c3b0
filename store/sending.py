"""Sending one prepared webhook request over the network, and what came of it in
words. No database here: the delivery log is ``store.delivery_log``.

A delivery succeeds on any 2xx within the account's timeout (default 10 s).
Redirects are not followed; at most 64 KiB of the response is read; the
destination guard (``store.guard``) checks the address actually connected to.
Every failure becomes an ``AttemptResult`` whose ``reason`` says what happened
(DNS, refused, TLS, timeout, the receiver's status).

httpx and the guard are imported on the first send, not at start-up.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from . import validate
from .payload import TEST_EVENT, Prepared, legacy_signature

# httpx logs every request's full URL at INFO, and a webhook URL may carry a secret
# in its query string; the delivery log is the record of what was sent.
logging.getLogger("httpx").setLevel(logging.WARNING)

RESPONSE_READ_MAX = 64 * 1024  # bytes of a response ever read
EXCERPT_MAX = 4096  # characters of the response body kept in the log
# The platform's schedule for retrying real events after the first failure (public docs).
RETRY_SCHEDULE_S = (1, 5, 10, 30, 60, 300, 600, 1800, 3600)
# An error is stored and listed in one line: a receiver's long redirect address or
# an exception's text is cut to this (PostgreSQL also refuses index entries over
# ~2,700 bytes, and the delivery log's listing index holds the error).
ERROR_MAX = 500


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
    # The receiver's Retry-After, in seconds from now (seconds or an HTTP date), if any.
    retry_after_s: float | None = None


# -- failures in words --------------------------------------------------------------------


def status_phrase(code: int | None) -> str:
    """The standard phrase of an HTTP status ("Service Unavailable"), "" if none."""
    try:
        return HTTPStatus(code).phrase if code is not None else ""
    except ValueError:
        return ""


_FAILURE_KINDS = (  # the start of a failure reason -> its kind, in a word or two
    ("Refused by the destination guard", "guard"),
    ("DNS", "DNS"),
    ("Refused", "refused"),
    ("TLS", "TLS"),
    ("Timeout", "timeout"),
    ("Cancelled", "cancelled"),
    ("Cannot connect", "unreachable"),
    ("Connection to", "broken"),
    ("The URL", "URL"),
)


def failure_kind(error: str | None) -> str:
    """What kind of failure a delivery's reason describes, in a word or two."""
    for start, kind in _FAILURE_KINDS:
        if (error or "").startswith(start):
            return kind
    return "error"


def clip_error(reason: str) -> str:
    """``reason``, cut to ERROR_MAX characters (the last one "…") if longer."""
    return reason if len(reason) <= ERROR_MAX else reason[: ERROR_MAX - 1] + "…"


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


async def send(prep: Prepared, *, timeout_s: int, allow_private: bool) -> AttemptResult:
    """Send one prepared request; every failure becomes an AttemptResult with a reason
    (``allow_private``: the account lets webhooks reach private networks)."""
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
            return refused(prep, f"The URL cannot be used: {exc}.")
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
    phrase = status_phrase(status) or response.reason_phrase
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
        retry_after_s=retry_after_seconds(response.headers.get("retry-after")),
        **result,
    )


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds from now: delta-seconds or an HTTP date
    (RFC 9110); None when absent or unreadable; never negative."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 10**9))
    from email.utils import parsedate_to_datetime

    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return max(0.0, (at - datetime.now(at.tzinfo)).total_seconds())


def refused(prep: Prepared, reason: str) -> AttemptResult:
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


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
