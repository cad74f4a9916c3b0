"""The ASGI layer in front of every ``/v1/`` request, before FastAPI sees it.

In this order: the token (``Authorization: Bearer <token>`` or the platform's
``X-Oneflow-API-Token: <token>``), checked and counted against the token's rate
limit by one store call (``apiaccess.authenticate``: one transaction); then the
body, read whole up to 1 MiB (a larger one is a 413 without reading further);
then the endpoint. Every request of a known token, whatever its answer
(refused tokens included), is queued for the request log with its status and
latency; a token that names nothing cannot be logged under an integration.
Refusals are ``{"status", "title", "detail"}``; none repeats the token.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread

from store import apiaccess, clock
from store.errors import RateLimited, StoreUnavailable, TokenRefused
from store.tokens import ApiCaller

from .requestlog import RequestLog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

BODY_MAX = 1024 * 1024  # 1 MiB
PREFIX = "/v1/"

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

NO_TOKEN = (
    "No API token: send it as 'Authorization: Bearer <token>' or as 'X-Oneflow-API-Token: <token>'."
)
NOT_BEARER = "The Authorization header must be 'Bearer <token>'."


def problem_body(status: int, detail: str, **extra: Any) -> bytes:
    return json.dumps(
        {"status": status, "title": TITLES.get(status, "Error"), "detail": detail, **extra},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


async def _answer(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()
) -> None:  # type: ignore[assignment]
    body = problem_body(status, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def token_of(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    """(the token, None) or (None, why there is none) from the request headers."""
    auth = other = None
    for key, value in headers:
        if key == b"authorization":
            auth = value
        elif key == b"x-oneflow-api-token":
            other = value
    if auth is not None:
        scheme, _, rest = auth.decode("latin-1").strip().partition(" ")
        if scheme.lower() != "bearer" or not rest.strip():
            return None, NOT_BEARER
        return rest.strip(), None
    if other is not None:
        return other.decode("latin-1").strip(), None
    return None, NO_TOKEN


class Gate:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: Any, *, store: Any, request_log: RequestLog, rate_limit: int) -> None:
        self.app = app
        self.store = store
        self.log = request_log
        self.rate_limit = rate_limit
        self.slices = apiaccess.RateSlices()  # this process's slices of the counts
        self._refilling: dict[str, asyncio.Future[None]] = {}  # by token: a refill in flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        caller: ApiCaller | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            token, missing = token_of(scope["headers"])
            if token is None:
                await _answer(sending, 401, missing or NO_TOKEN, [(b"www-authenticate", b"Bearer")])
                return
            try:
                # SQLite: the read that most requests need runs here, on the loop
                # (tens of µs; a thread hop and its GIL hand-offs cost more).
                if self.store.is_sqlite:
                    caller = self._held(token) or await self._refilled(token)
                else:
                    caller = await to_thread.run_sync(self._authenticate, token)
            except TokenRefused as exc:
                caller = exc.caller  # type: ignore[assignment]
                await _answer(sending, 401, exc.message, [(b"www-authenticate", b"Bearer")])
                return
            except RateLimited as exc:
                caller = exc.caller  # type: ignore[assignment]
                await _answer(
                    sending, 429, exc.message, [(b"retry-after", str(exc.retry_after).encode())]
                )
                return
            except StoreUnavailable as exc:
                await _answer(sending, 503, exc.message, [(b"retry-after", b"5")])
                return
            body = await self._body(scope, receive, sending)
            if body is None:
                return
            if body:
                # Bodies are JSON whatever Content-Type says (curl -d sends a form's).
                scope["headers"] = [
                    *(h for h in scope["headers"] if h[0] != b"content-type"),
                    (b"content-type", b"application/json"),
                ]
            scope.setdefault("state", {})["caller"] = caller
            await self.app(scope, _replay(body, receive), sending)
        finally:
            if caller is not None:
                self.log.add(
                    apiaccess.LoggedRequest(
                        account_id=caller.account_id,
                        integration_id=caller.integration_id,
                        token_id=caller.token_id,
                        token_hint=caller.token_hint,
                        at=clock.now(),
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        latency_ms=(time.perf_counter() - started) * 1000,
                    )
                )

    async def _refilled(self, token: str) -> ApiCaller:
        """``authenticate`` in a thread, once at a time per token: the requests
        that find the slice empty while one refills it wait for that one, then
        take from the new slice (SQLite). Without this, each of them took a
        thread and a write transaction of its own, one after the other behind
        the write lock, to find the slice already refilled."""
        while True:
            pending = self._refilling.get(token)
            if pending is None:
                break
            await asyncio.shield(pending)  # its outcome is its own request's
            caller = self._held(token)
            if caller is not None:
                return caller
        done = self._refilling[token] = asyncio.get_running_loop().create_future()
        try:
            return await to_thread.run_sync(self._authenticate, token)
        finally:
            del self._refilling[token]
            done.set_result(None)

    def _held(self, token: str) -> ApiCaller | None:
        return apiaccess.authenticate_held(self.store, token, slices=self.slices)

    def _authenticate(self, token: str) -> ApiCaller:
        return apiaccess.authenticate(
            self.store, token, rate_limit=self.rate_limit, slices=self.slices
        )

    async def _body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None once a 413 was sent (over 1 MiB)."""
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _answer(send, 400, "The Content-Length header is not a number.")
                    return None
                if declared > BODY_MAX:
                    await _answer(send, 413, _too_large(declared))
                    return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > BODY_MAX:
                await _answer(send, 413, _too_large(None))
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _too_large(declared: int | None) -> str:
    said = f" ({declared:,} bytes)" if declared is not None else ""
    return f"The body{said} is larger than the limit of 1 MiB ({BODY_MAX:,} bytes)."


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
