"""A local webhook receiver for integrators (``integrations-admin listen``) and
the demo: it checks both signatures of every delivery with the webhook's key,
says in one line what came and whether it verified, and answers.

- ``check``: pure; the legacy ``signature`` (hex ``sha1(callback_id + key)``
  in the body) and the Standard Webhooks headers (``webhook-id``,
  ``webhook-timestamp`` within the tolerance, one of the space-separated
  ``v1,`` signatures in ``webhook-signature``), with each key given (during a
  rotation's overlap, the new one and the previous one).
- ``Receiver``: a threaded HTTP server on loopback (``port`` 0: any free one).
  It answers 200, or 500 to the first ``fail`` deliveries (to watch the
  dispatcher retry), or forwards the delivery to ``forward_to`` and returns
  that service's answer.

Keys never appear in a line, an answer or an error.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from . import validate
from .errors import ValidationError
from .payload import hmac_key

TOLERANCE_S = 5 * 60  # the Standard Webhooks libraries' default
BODY_MAX = 1 << 20  # bytes of a delivery read; the rest is refused as too large
NOT_CHECKED = "not checked (no key given)"


@dataclass(frozen=True)
class Verdict:
    """What ``check`` found: ``verified``, or ``reason`` says why not."""

    verified: bool
    reason: str  # "verified", "verified (previous key)", "not checked ...", or why not
    event_type: str
    callback_id: str


def _header(headers: dict[str, str], name: str) -> str | None:
    for k, v in headers.items():
        if k.lower() == name:
            return v
    return None


def _body_facts(body: bytes) -> tuple[dict | None, str, str]:
    try:
        data = json.loads(body)
    except ValueError:
        return None, "?", ""
    if not isinstance(data, dict):
        return None, "?", ""
    events = data.get("events")
    first = events[0] if isinstance(events, list) and events else {}
    event = first.get("type") if isinstance(first, dict) else None
    cid = data.get("callback_id")
    return data, str(event) if event else "?", str(cid) if isinstance(cid, str) else ""


def _standard_ok(key: str, wid: str, ts: str, body: bytes, signatures: list[str]) -> bool:
    try:
        secret = hmac_key(key)
    except ValidationError:  # a whsec_ key that is not base64 verifies nothing
        return False
    mac = hmac.new(secret, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()
    import base64

    expected = base64.b64encode(mac).decode("ascii")
    return any(
        sig.startswith("v1,") and hmac.compare_digest(sig[3:], expected) for sig in signatures
    )


def check(
    headers: dict[str, str],
    raw: bytes,
    keys: Sequence[str],
    *,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> Verdict:
    """Both signatures of one delivery, with any of ``keys`` (the current key
    first; none: the delivery is "not checked")."""
    if not isinstance(raw, bytes):
        raise ValidationError("raw", "The delivery's body must be bytes.")
    if not isinstance(keys, list | tuple) or not all(isinstance(k, str) for k in keys):
        raise ValidationError("keys", "The keys must be a list of text.")
    if now is not None and (
        isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now)
    ):
        raise ValidationError("now", "The time must be a number of seconds.")
    if isinstance(tolerance_s, bool) or not isinstance(tolerance_s, int) or tolerance_s < 0:
        raise ValidationError("tolerance_s", "The tolerance is a whole number of seconds.")
    body = raw
    data, event, cid = _body_facts(body)
    wid = _header(headers, "webhook-id")
    cid = cid or wid or ""

    def no(reason: str) -> Verdict:
        return Verdict(False, reason, event, cid)

    if not keys:
        return Verdict(False, NOT_CHECKED, event, cid)
    if data is None:
        return no("not verified: the body is not a JSON object")
    ts = _header(headers, "webhook-timestamp")
    sig = _header(headers, "webhook-signature")
    if not wid or not ts or not sig:
        return no("not verified: no Standard Webhooks headers (webhook-id, -timestamp, -signature)")
    if wid != cid:
        return no("not verified: webhook-id is not the body's callback_id")
    try:
        sent = int(ts)
    except ValueError:
        return no("not verified: webhook-timestamp is not a number of seconds")
    age = int((time.time() if now is None else now) - sent)
    if age > tolerance_s:
        return no(f"not verified: timestamp too old ({age} s; tolerance {tolerance_s} s)")
    if age < -tolerance_s:
        return no(f"not verified: timestamp in the future ({-age} s; tolerance {tolerance_s} s)")
    signatures = sig.split()
    matched = [i for i, k in enumerate(keys) if _standard_ok(k, wid, ts, body, signatures)]
    if not matched:
        return no("not verified: webhook-signature does not match (wrong key or altered body)")
    legacy = data.get("signature")
    if not isinstance(legacy, str):
        return no("not verified: no legacy signature in the body")
    key = keys[matched[0]]
    want = hashlib.sha1((cid + key).encode("utf-8")).hexdigest()
    if not hmac.compare_digest(legacy, want):
        return no(
            "not verified: the legacy signature does not match (during a key rotation it "
            "uses the new key)"
        )
    return Verdict(True, "verified" if matched[0] == 0 else "verified (previous key)", event, cid)


def line(verdict: Verdict, size: int, status: int, at: datetime | None = None) -> str:
    """One delivery in one line: time, event, callback id, verdict, size, answer."""
    at = at or datetime.now(UTC)
    return validate.printable(
        f"{at:%H:%M:%S}  {verdict.event_type:<24} {verdict.callback_id or '-':<40}  "
        f"{verdict.reason}  {size} B  -> {status}"
    )


# -- the server ---------------------------------------------------------------------------

ANSWER_OK = b'{"received": true}\n'
ANSWER_FAIL = b'{"failed": "on purpose: listen --fail"}\n'
_FORWARDED = ("content-type", "user-agent", "webhook-id", "webhook-timestamp", "webhook-signature")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        r = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, BODY_MAX))
        headers = dict(self.headers.items())
        status, answer, ctype = r.answer(self.path, headers, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def version_string(self) -> str:
        return self.server.receiver.server_name

    def date_time_string(self, timestamp: float | None = None) -> str:
        fixed = self.server.receiver.fixed_date
        return fixed or super().date_time_string(timestamp)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per delivery is the receiver's own (``on_line``)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class Receiver:
    """A webhook receiver on ``host``:``port`` (0: any free port).

    ``keys``: verify with these (current first, then a rotation's previous);
    none: every delivery is "not checked". ``fail``: answer 500 to the first
    that many deliveries. ``forward_to``: send each delivery there (same body
    and signature headers) and return its answer. ``on_line``: called with
    each delivery's line. ``received`` keeps (path, headers, body) of each.
    """

    server_name = "integrations-admin-listen"
    fixed_date: str | None = None  # the Date header, fixed (the demo's screenshots)

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        keys: Sequence[str] = (),
        fail: int = 0,
        forward_to: str | None = None,
        on_line: Callable[[str], None] | None = None,
        tolerance_s: int = TOLERANCE_S,
        fallback: bool = False,
        refresh_keys: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        try:
            server = _Server((host, port), _Handler)
        except OSError:
            if not fallback:
                raise
            server = _Server((host, 0), _Handler)
        server.receiver = self
        self._server = server
        self.host = host
        self.port: int = server.server_address[1]
        self.keys = tuple(k for k in keys if k)
        self.fail_left = max(0, fail)
        self.forward_to = forward_to
        self.on_line = on_line
        self.tolerance_s = tolerance_s
        # Reads the keys again (``listen --webhook``: a rotation since the start).
        self.refresh_keys = refresh_keys
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=server.serve_forever, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        """The status, body and content type to answer one delivery with."""
        with self._lock:
            self.received.append((path, headers, body))
            failing = self.fail_left > 0
            if failing:
                self.fail_left -= 1
        verdict = check(headers, body, self.keys, tolerance_s=self.tolerance_s)
        if not verdict.verified and self.keys and self.refresh_keys is not None:
            # A signature that does not match may be a rotation made since the start.
            try:
                keys = tuple(k for k in self.refresh_keys() if k)
            except Exception:  # the database is away: keep the keys known
                keys = self.keys
            if keys != self.keys:
                self.keys = keys
                verdict = check(headers, body, keys, tolerance_s=self.tolerance_s)
        if failing:
            status, answer, ctype = 500, ANSWER_FAIL, "application/json"
        elif self.forward_to:
            status, answer, ctype = self._forward(headers, body)
        else:
            status, answer, ctype = self.fixed_answer(path)
        if self.on_line is not None:
            self.on_line(line(verdict, len(body), status))
        return status, answer, ctype

    def fixed_answer(self, path: str) -> tuple[int, bytes, str]:
        """The answer when neither failing nor forwarding."""
        return 200, ANSWER_OK, "application/json"

    def _forward(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        import httpx

        sent = {k: v for k, v in headers.items() if k.lower() in _FORWARDED}
        try:
            resp = httpx.post(
                self.forward_to or "", content=body, headers=sent, timeout=10, trust_env=False
            )
        except httpx.HTTPError as exc:
            why = f"forwarding to {self.forward_to} failed: {type(exc).__name__}"
            return 502, (json.dumps({"error": why}) + "\n").encode(), "application/json"
        return (
            resp.status_code,
            resp.content[: 64 * 1024],
            resp.headers.get("content-type", "application/octet-stream"),
        )

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (``listen``)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# Every public function above refuses wrong-typed arguments before it runs
# (check checks its body, keys and times itself).
validate.check_public(globals(), own={"check": ["raw", "keys", "now", "tolerance_s"]})
