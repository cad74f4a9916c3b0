"""Webhooks of an integration: where the platform sends event notifications.

Custom integrations' webhooks are managed by the administrator; native
integrations' webhooks are managed (created on enable) and read-only here.
A webhook sends only while its integration is enabled.

The signing key is a shared secret the program must be able to sign with, so
it is stored as given; it never appears in audit entries, error messages or
logs, and screens show ``WebhookInfo.key_masked`` until an explicit reveal.
Sending (tests, resends) lives in ``store.deliveries``, the delivery log in
``store.delivery_log``; the key's use in signatures in ``store.payload``.
"""

from __future__ import annotations

import base64
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import delete as sql_delete
from sqlalchemy import func
from sqlmodel import Session, col, select

from . import catalog, clock, integrations, validate
from .accounts import Actor
from .change import change
from .db import Store
from .delivery_log import log_attempt
from .errors import Conflict, NotFound, ValidationError
from .models import Account, Delivery, Integration, Webhook
from .payload import GENERATED_PREFIX, TEST_EVENT, hmac_key, is_generated_form
from .refusals import NATIVE_WEBHOOKS, managed_webhook_refusal
from .sending import AttemptResult, attempt_matches, failure_kind

URL_MAX = 1000
KEY_MIN = 16  # bytes of a whsec_ key's secret
TYPED_KEY_MIN_BYTES = 24  # a typed key, in UTF-8 (issue 13: 16 characters were too few)
KEY_MAX = 500
ALL_EVENTS = "*"
OVERLAP_DEFAULT_H = 24  # how long a rotated-out signing key keeps signing, by default
OVERLAP_MAX_H = 7 * 24

# The platform's event types (public docs); ``webhook:test`` is sent by tests only.
EVENT_TYPES: Final[tuple[str, ...]] = (
    "contract:publish",
    "contract:sign",
    "contract:decline",
    "contract:delete",
    "contract:signing_period_expire",
    "contract:signing_period_revive",
    "contract:signature_reset",
    "participant:create",
    "participant:sign",
    "participant:decline",
    "participant:delete",
    "participant:first_visit",
    "data_field:update",
)


@dataclass(frozen=True)
class WebhookInfo:
    """A webhook as screens see it: never the key itself, only its masked form."""

    id: int
    integration_id: int
    integration_name: str
    url: str
    event_types: tuple[str, ...]  # empty: all event types
    signed: bool
    key_masked: str  # "" when there is no key
    key_generated: bool
    # A typed key's Standard Webhooks secret (``receiver_secret``), masked; "" otherwise.
    receiver_secret_masked: str
    managed: bool
    verified: bool
    active: bool  # its integration runs (a paused or suspended integration's webhooks do not send)
    created_at: datetime
    created_by: str
    delivery_count: int  # at most DELIVERY_COUNT_CAP + 1 (more than the cap)
    last_attempt_at: datetime | None
    last_success: bool | None
    last_status: int | None
    last_error: str | None
    version: int = 1  # edits pass the version they opened (optimistic concurrency)
    # Its integration is suspended by the account's plan: catalog.suspended_by_plan's words.
    suspended: str = ""
    # Schema 5 (issue 17): paused by an administrator (queues nothing), disabled
    # automatically by the dispatcher (why, in words), and its health.
    paused: bool = False
    disabled_reason: str = ""
    disabled_at: datetime | None = None
    consecutive_failures: int = 0
    exhausted_in_row: int = 0
    last_success_at: datetime | None = None
    first_failure_at: datetime | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def _reason(self) -> str:
        return self.disabled_reason.strip().rstrip(".")  # the sentence it goes in ends it

    @property
    def health_label(self) -> str:
        """Its health in a few words: 'ok', '3 failing', 'paused' or
        'disabled: 5 exhausted in a row' (the dispatcher's reason)."""
        if self.disabled:
            return f"disabled: {self._reason or 'automatically'}"
        if self.paused:
            return "paused"
        if self.consecutive_failures:
            return f"{self.consecutive_failures} failing"
        return "ok"

    @property
    def disabled_banner(self) -> str:
        """What every screen that shows the webhook says while it is disabled
        automatically (never silently); '' otherwise."""
        if not self.disabled:
            return ""
        return (
            f"Disabled automatically: {self._reason or 'its deliveries kept failing'}. "
            "It queues nothing until enabled again; enabling offers to replay what failed "
            "meanwhile."
        )

    # A key rotation's overlap: the replaced key (masked) still signs until this time.
    previous_key_masked: str = ""
    previous_key_until: datetime | None = None

    @property
    def in_overlap(self) -> bool:
        """A rotation's old key still signs beside the new one."""
        return self.previous_key_until is not None

    @property
    def events_label(self) -> str:
        return "all" if not self.event_types else ", ".join(self.event_types)

    @property
    def signed_label(self) -> str:
        return "yes" if self.signed else "no"

    @property
    def last_result_label(self) -> str:
        """The last delivery in a few words: 'never', '200 OK' style, or 'failed: ...'."""
        if self.last_attempt_at is None:
            return "never"
        if self.last_success:
            return f"ok ({self.last_status})"
        if self.last_status is not None:
            return f"failed ({self.last_status})"
        return f"failed ({failure_kind(self.last_error)})"

    def receives(self, event_type: str) -> bool:
        return event_type == TEST_EVENT or not self.event_types or event_type in self.event_types


# -- keys, URLs, event types -----------------------------------------------------


def generate_signing_key() -> str:
    """A new signing key: ``whsec_`` and the base64 of 32 random bytes (Standard Webhooks)."""
    return GENERATED_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def mask_key(key: str | None) -> str:
    """What a screen may show of a key: its kind and, for long keys, the last 4 characters."""
    if not key:
        return ""
    prefix = GENERATED_PREFIX if is_generated_form(key) else ""
    tail = key[-4:] if len(key) >= 24 else ""
    return f"{prefix}{'•' * 8}{tail}"


def receiver_secret(key: str) -> str:
    """The secret a receiver gives a Standard Webhooks library to verify this key's
    ``webhook-signature``: a ``whsec_`` key as it is; a typed key as ``whsec_`` +
    base64 of its UTF-8 bytes (the libraries accept only that form, and the
    HMAC key it decodes to is exactly the bytes the typed key signs with)."""
    if is_generated_form(key):
        return key
    return GENERATED_PREFIX + base64.b64encode(key.encode("utf-8")).decode("ascii")


def previous_key_at(
    sign_key: str | None, previous_key: str | None, until: datetime | None, now: datetime
) -> str | None:
    """The key a rotation replaced (a webhook's ``previous_key``, signing ``until``)
    if it still signs at ``now`` beside ``sign_key``, else None: what every sender
    (tests, resends, events, the dispatcher) passes to ``payload.prepare(previous_key=...)``."""
    if not sign_key or not previous_key or until is None:
        return None
    return previous_key if until > now else None


def _previous_key(w: Webhook, now: datetime | None = None) -> str | None:
    return previous_key_at(w.sign_key, w.previous_key, w.previous_key_until, now or clock.now())


def validate_sign_key(key: str | None, *, check_strength: bool = True) -> str | None:
    """A typed key of at least 24 bytes that is not guessable (``store.keycheck``),
    or a ``whsec_`` key; None or blank: no key. ``check_strength=False`` checks
    only the form (a key already saved keeps working as it is).

    Error messages never repeat the key.
    """
    if key is None:
        return None
    if not isinstance(key, str):
        raise ValidationError("sign_key", "The signing key must be text.")
    if validate.not_unicode(key):
        raise ValidationError("sign_key", "The signing key contains bytes that are not valid text.")
    key = key.strip()
    if not key:
        return None
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in key):
        raise ValidationError(
            "sign_key", "The signing key cannot contain control characters or line breaks."
        )
    if len(key) > KEY_MAX:
        raise ValidationError(
            "sign_key", f"The signing key is {len(key)} characters long; at most {KEY_MAX}."
        )
    if is_generated_form(key):
        try:
            raw = hmac_key(key)
        except ValidationError:  # not base64: said below, with what to do
            raw = b""
        if len(raw) < KEY_MIN:
            raise ValidationError(
                "sign_key",
                f"A key starting with {GENERATED_PREFIX} must be base64 of at least "
                f"{KEY_MIN} bytes after the prefix (press ctrl+g to generate one), "
                "or type a key without that prefix.",
            )
        return key
    if check_strength:
        check_typed_key(key)
    return key


def check_typed_key(key: str) -> None:
    """Refuse a typed key under 24 bytes, or one a guesser would try early."""
    from . import keycheck

    size = len(key.encode("utf-8"))
    if size < TYPED_KEY_MIN_BYTES:
        raise ValidationError(
            "sign_key",
            f"A typed signing key needs at least {TYPED_KEY_MIN_BYTES} bytes (plain letters "
            f"and digits are one byte each); this one has {size}. Type a longer one, or "
            "press ctrl+g to generate one.",
        )
    found = keycheck.guessability(key)
    if found.guessable:
        raise ValidationError(
            "sign_key",
            f"This signing key is too easy to guess: only {found.own} of its {found.length} "
            "characters are not common words, years, sequences (abc, 123, qwerty) or "
            f"repeats; a typed key needs {keycheck.OWN_MIN}, because anyone who can read the "
            "delivery log can test guesses offline. Press ctrl+g to generate one.",
        )


def validate_url(url: object, *, allow_private: bool) -> str:
    """An ``https`` URL of at most 1000 characters (``http`` and IP literals of
    internal networks only when the account allows private networks)."""
    if not isinstance(url, str):
        raise ValidationError("url", "The URL must be text.")
    if validate.not_unicode(url):
        raise ValidationError("url", "The URL contains bytes that are not valid text.")
    url = url.strip()
    if not url:
        raise ValidationError("url", "The URL is required.")
    if len(url) > URL_MAX:
        raise ValidationError("url", f"The URL is {len(url)} characters long; at most {URL_MAX}.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise ValidationError("url", "The URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:
        raise ValidationError("url", f"The URL is not valid: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme == "http":
        if not allow_private:
            raise ValidationError(
                "url",
                "The URL must start with https://. Plain http is accepted only when the "
                "account allows webhooks to private networks: an administrator can turn on "
                "'Allow webhooks to private networks' (Webhooks tab, s; or ctrl+p \"private\").",
            )
    elif scheme != "https":
        raise ValidationError("url", "The URL must start with https://.")
    if not host:
        raise ValidationError("url", "The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "url",
            "The URL cannot carry a user name or password (they would be shown and logged); "
            "use a signing key to authenticate deliveries.",
        )
    if port == 0:
        raise ValidationError("url", "The URL's port must be 1-65535.")
    if not allow_private:
        from . import guard  # names are checked when sending, on the address connected to

        if guard.literal_address(host) is not None:
            why = guard.refusal(host, str(guard.literal_address(host)))
            if why:
                raise ValidationError("url", why)
    return url


def private_reason(url: str) -> str | None:
    """Why ``url`` needs *Allow webhooks to private networks*, as far as is known
    without looking the host name up: plain ``http``, an IP literal the guard
    refuses, or ``localhost``. None when nothing is known (a host name may still
    resolve to a private address: that is checked when sending)."""
    from . import guard

    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    reasons = []
    if parts.scheme.lower() == "http":
        reasons.append("plain http")
    literal = guard.literal_address(host)
    if literal is not None:
        why = guard.classify(literal)
        if why:
            reasons.append(f"{host} is {why}")
    elif host == "localhost" or host.endswith(".localhost"):
        reasons.append(f"{host} is a loopback name")
    return "; ".join(reasons) or None


def validate_event_types(event_types: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The chosen event types in the platform's order; empty (or None) means all."""
    if not event_types:
        return ()
    if isinstance(event_types, str):
        raise ValidationError("event_types", "Event types must be a list.")
    unknown = [e for e in event_types if e not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            "event_types",
            f"Unknown event type{'s' if len(unknown) > 1 else ''}: {', '.join(map(str, unknown))}.",
        )
    chosen = set(event_types)
    if chosen == set(EVENT_TYPES):
        return ()
    return tuple(e for e in EVENT_TYPES if e in chosen)


def _events_column(events: tuple[str, ...]) -> str:
    return ",".join(events) if events else ALL_EVENTS


def events_of(column: str) -> tuple[str, ...]:
    """The event types a webhook's stored ``event_types`` column names; empty: all."""
    if not column or column == ALL_EVENTS:
        return ()
    return tuple(e for e in column.split(",") if e)


def audit_url(url: str) -> str:
    """The URL as the audit log shows it: without query string (it may hold a secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200]


_audit_url = audit_url


# -- reading -----------------------------------------------------------------------


DELIVERY_COUNT_CAP = 10_000  # a webhook's logged deliveries are counted up to this


def _infos(s: Session, account_id: int, *where) -> list[WebhookInfo]:
    """Webhooks with their last delivery and delivery count (up to
    ``DELIVERY_COUNT_CAP + 1``), in one query. Both look at one webhook's rows by
    the log's listing index: a busy webhook's million attempts are not counted
    (that took 250 ms at a million, on every opening of its page)."""
    d = Delivery.__table__.alias("logged")  # type: ignore[attr-defined]
    own = d.c.webhook_id == Webhook.id
    capped = select(d.c.id).where(own).limit(DELIVERY_COUNT_CAP + 1).correlate(Webhook).subquery()
    n = select(func.count()).select_from(capped).scalar_subquery()
    last_id = (
        select(d.c.id)
        .where(own)
        .order_by(d.c.attempted_at.desc(), d.c.id.desc())
        .limit(1)
        .correlate(Webhook)
        .scalar_subquery()
    )
    q = (
        select(
            Webhook,
            Integration.extension_key,
            Integration.enabled,
            Account.plan,
            n,
            Delivery,
        )
        .join(Integration, Integration.id == Webhook.integration_id)
        .join(Account, Account.id == Integration.account_id)
        .outerjoin(Delivery, Delivery.id == last_id)
        .where(Integration.account_id == account_id, *where)
        .order_by(col(Webhook.managed).desc(), col(Webhook.id))
    )
    out = []
    now = clock.now()
    for w, key, enabled, plan, n, d in s.exec(q).all():
        suspended = (catalog.suspended_by_plan(key, plan) or "") if enabled else ""
        previous = _previous_key(w, now)
        out.append(
            WebhookInfo(
                id=w.id or 0,
                integration_id=w.integration_id or 0,
                integration_name=catalog.extension(key).name,
                url=w.url,
                event_types=events_of(w.event_types),
                signed=bool(w.sign_key),
                key_masked=mask_key(w.sign_key),
                key_generated=bool(w.sign_key) and is_generated_form(w.sign_key or ""),
                receiver_secret_masked=(
                    mask_key(receiver_secret(w.sign_key))
                    if w.sign_key and not is_generated_form(w.sign_key)
                    else ""
                ),
                managed=w.managed,
                verified=w.verified,
                active=bool(enabled) and not suspended,
                created_at=w.created_at,
                created_by=w.created_by,
                delivery_count=int(n or 0),
                last_attempt_at=d.attempted_at if d else None,
                last_success=d.success if d else None,
                last_status=d.status_code if d else None,
                last_error=d.error if d else None,
                version=w.version,
                suspended=suspended,
                paused=bool(w.paused),
                disabled_reason=w.disabled_reason or "",
                disabled_at=w.disabled_at,
                consecutive_failures=int(w.consecutive_failures or 0),
                exhausted_in_row=int(w.exhausted_in_row or 0),
                last_success_at=w.last_success_at,
                first_failure_at=w.first_failure_at,
                previous_key_masked=mask_key(previous),
                previous_key_until=w.previous_key_until if previous else None,
            )
        )
    return out


def list_for_integration(store: Store, account_id: int, integration_id: int) -> list[WebhookInfo]:
    """The integration's webhooks (managed first), each with its last delivery: one query."""
    with store.read() as s:
        return _infos(s, account_id, Webhook.integration_id == integration_id)


def get(store: Store, account_id: int, webhook_id: int) -> WebhookInfo:
    with store.read() as s:
        found = _infos(s, account_id, Webhook.id == webhook_id)
    if not found:
        raise NotFound("That webhook no longer exists.")
    return found[0]


def reveal_key(store: Store, actor: Actor, webhook_id: int) -> str | None:
    """The signing key itself, for an explicit reveal on screen (permission needed;
    the audit log records that it was revealed, never the key)."""
    with change(store, actor, "reveal signing keys") as c:
        w = _owned(c.s, actor, webhook_id)
        if w.sign_key:
            c.log("webhook.reveal_key", "webhook", w.id, _audit_url(w.url))
        return w.sign_key


def reveal_keys(store: Store, actor: Actor, webhook_id: int) -> tuple[str | None, str | None]:
    """The signing key and, during a rotation's overlap, the previous one: what a
    local receiver (``listen --webhook``) verifies with. Audited as a reveal."""
    with change(store, actor, "reveal signing keys") as c:
        w = _owned(c.s, actor, webhook_id)
        if w.sign_key:
            c.log("webhook.reveal_key", "webhook", w.id, _audit_url(w.url))
        return w.sign_key, _previous_key(w)


# -- changes -------------------------------------------------------------------------


def _owned(s: Session, actor: Actor, webhook_id: int) -> Webhook:
    w = s.get(Webhook, webhook_id)
    integ = s.get(Integration, w.integration_id) if w else None
    if w is None or integ is None or integ.account_id != actor.account_id:
        raise NotFound("That webhook no longer exists.")
    return w


def _changeable(s: Session, actor: Actor, webhook_id: int) -> tuple[Webhook, Integration]:
    w = _owned(s, actor, webhook_id)
    integ = s.get(Integration, w.integration_id)
    assert integ is not None
    name = catalog.extension(integ.extension_key).name
    refusal = managed_webhook_refusal(name, w.managed)
    if refusal:
        raise Conflict(refusal)
    if not integ.enabled:
        raise Conflict(f"{name} is disabled: enable it in the Marketplace first.")
    integrations.refuse_if_suspended(s, integ)
    return w, integ


def custom_integration(s: Session, actor: Actor, integration_id: int) -> Integration:
    """The enabled Custom integration ``integration_id`` of the actor's account, whose
    webhooks the administrator manages (Conflict or NotFound otherwise)."""
    return integrations.custom_for_change(
        s,
        actor.account_id,
        integration_id,
        NATIVE_WEBHOOKS,
    )


def _url_taken(s: Session, integration_id: int, url: str, except_id: int | None = None) -> bool:
    q = select(Webhook.id).where(Webhook.integration_id == integration_id, Webhook.url == url)
    if except_id is not None:
        q = q.where(Webhook.id != except_id)
    return s.exec(q).first() is not None


def _describe(events: tuple[str, ...], key: str | None, verified: bool) -> str:
    if key is None:
        signed = "not signed"
    else:
        signed = "signed (generated key)" if is_generated_form(key) else "signed (typed key)"
    return (
        f"events: {'all' if not events else ', '.join(events)}; {signed}; "
        f"{'verified by a test' if verified else 'not verified'}"
    )


def create(
    store: Store,
    actor: Actor,
    integration_id: int,
    *,
    url: str,
    sign_key: str | None = None,
    event_types: list[str] | None = None,
    verified: bool = False,
    test: AttemptResult | None = None,
) -> WebhookInfo:
    """Create a webhook on the (enabled) Custom integration.

    ``verified`` records that the administrator's test passed. When the test
    itself is passed as ``test`` (the result of ``deliveries.test_url``), it
    becomes the webhook's first logged delivery, and ``verified`` is true only
    if that test passed for this very URL and key.
    """
    key = validate_sign_key(sign_key)
    events = validate_event_types(event_types)
    with change(store, actor, "create webhooks") as c:
        s = c.s
        url = validate_url(url, allow_private=c.account.allow_private_webhooks)
        custom_integration(s, actor, integration_id)
        c.unique(_url_taken(s, integration_id, url), "url", _URL_TAKEN)
        if test is not None:
            verified = attempt_matches(test, url, key) and test.ok
        w = Webhook(
            integration_id=integration_id,
            url=url,
            sign_key=key,
            event_types=_events_column(events),
            managed=False,
            created_at=clock.now(),
            created_by=actor.login,
            verified=bool(verified),
        )
        s.add(w)
        s.flush()
        if test is not None and attempt_matches(test, url, key):
            log_attempt(s, w.id or 0, test)
        c.log(
            "webhook.create", "webhook", w.id, _audit_url(url), _describe(events, key, w.verified)
        )
        s.flush()
        return _infos(s, actor.account_id, Webhook.id == w.id)[0]


_KEEP: Final = object()
KEEP_KEY: Final = _KEEP  # ``update(sign_key=KEEP_KEY)``: the key stays as it is
_URL_TAKEN = "This integration already has a webhook for this URL."


def update(
    store: Store,
    actor: Actor,
    webhook_id: int,
    *,
    url: str | None = None,
    sign_key: object = _KEEP,
    event_types: object = _KEEP,
    verified: bool | None = None,
    version: int | None = None,
    test: AttemptResult | None = None,
) -> WebhookInfo:
    """Change a custom webhook. Omitted arguments stay as they are; ``sign_key=None``
    removes the key. A new URL or key is unverified unless ``verified`` says otherwise.
    Managed webhooks are read-only (Conflict). With ``version`` (the one the edit
    opened), a change made meanwhile by someone else is refused (Conflict) instead
    of overwritten. ``test`` (a test sent from the edit form, ``deliveries.test_edit``)
    verifies the result, and is logged, when it was sent to the URL and key saved."""
    # The key's form now; its strength below, only if it is a new key (a key
    # saved before the rules were raised keeps working, unchanged).
    key = (
        validate_sign_key(sign_key, check_strength=False)  # type: ignore[arg-type]
        if sign_key is not _KEEP
        else None
    )
    events = validate_event_types(event_types) if event_types is not _KEEP else ()  # type: ignore[arg-type]
    with change(store, actor, "change webhooks") as c:
        s, account = c.s, c.account
        w, _integ = _changeable(s, actor, webhook_id)
        c.unchanged_since(w, version, f"The webhook {_audit_url(w.url)}", bump=False)
        changes: list[str] = []
        if url is not None:
            url = validate_url(url, allow_private=account.allow_private_webhooks)
            if url != w.url:
                c.unique(
                    _url_taken(s, w.integration_id or 0, url, except_id=w.id), "url", _URL_TAKEN
                )
                changes.append(f"URL {_audit_url(w.url)} -> {_audit_url(url)}")
                w.url = url
                w.verified = False
        if sign_key is not _KEEP and key != w.sign_key:
            if key is not None and not is_generated_form(key):
                check_typed_key(key)
            changes.append("signing key removed" if key is None else "signing key changed")
            if _previous_key(w):
                changes.append("the rotated-out key stopped signing")
            w.sign_key = key
            # An edit replaces the key at once: a rotation's old key stops with it.
            w.previous_key = None
            w.previous_key_until = None
            w.verified = False
        if event_types is not _KEEP and _events_column(events) != w.event_types:
            changes.append(f"events: {'all' if not events else ', '.join(events)}")
            w.event_types = _events_column(events)
        if verified is not None:
            w.verified = verified
        if test is not None and attempt_matches(test, w.url, w.sign_key):
            if w.verified != test.ok:
                changes.append("verified by a test" if test.ok else "its test failed")
            w.verified = test.ok
            log_attempt(s, w.id or 0, test)
        if changes:
            w.version += 1
            s.add(w)
            c.log("webhook.update", "webhook", w.id, _audit_url(w.url), "; ".join(changes))
        s.flush()
        return _infos(s, actor.account_id, Webhook.id == w.id)[0]


def set_paused(
    store: Store, actor: Actor, webhook_id: int, paused: bool, version: int | None = None
) -> WebhookInfo:
    """Pause a custom webhook (its events queue nothing while paused: the outbox
    skips it; deliveries already queued wait, unclaimed, and go on after it is
    resumed) or resume it. Audited."""
    with change(store, actor, "pause webhooks") as c:
        s = c.s
        w, _integ = _changeable(s, actor, webhook_id)
        c.unchanged_since(w, version, f"The webhook {_audit_url(w.url)}", bump=False)
        if bool(w.paused) != paused:
            w.paused = paused
            w.version += 1
            s.add(w)
            c.log(
                "webhook.pause" if paused else "webhook.resume",
                "webhook",
                w.id,
                _audit_url(w.url),
                "queues no events until resumed" if paused else "queues events again",
            )
        s.flush()
        return _infos(s, actor.account_id, Webhook.id == w.id)[0]


def _overlap_hours(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("overlap", "The overlap is a whole number of hours.")
    if not 0 <= value <= OVERLAP_MAX_H:
        raise ValidationError(
            "overlap",
            f"The overlap is 0 to {OVERLAP_MAX_H} hours (7 days); {value} is outside that.",
        )
    return value


def rotation_refusal(hook: WebhookInfo) -> str | None:
    """Why ``hook``'s signing key cannot be rotated now: it has none (set one in its
    settings), or a rotation's overlap still runs (end it first). None otherwise."""
    if not hook.signed:
        return "This webhook has no signing key to rotate: set one in its settings."
    if hook.previous_key_until is not None:
        return (
            f"The previous key still signs until {hook.previous_key_until:%Y-%m-%d %H:%M} UTC: "
            "end its overlap first, then rotate again."
        )
    return None


def rotate_key(
    store: Store,
    actor: Actor,
    webhook_id: int,
    *,
    new_key: str | None = None,
    overlap_hours: int = OVERLAP_DEFAULT_H,
) -> WebhookInfo:
    """Replace the webhook's signing key without downtime: ``new_key`` (typed; a
    generated ``whsec_`` key when None) signs from now on, and the current key
    keeps signing beside it for ``overlap_hours`` (0 to 168; 0 ends it at once).
    Meanwhile ``webhook-signature`` carries both signatures and the legacy
    ``signature`` uses the new key. Audited (never a key)."""
    hours = _overlap_hours(overlap_hours)
    key = validate_sign_key(new_key) if new_key is not None else None
    if new_key is not None and key is None:
        raise ValidationError("sign_key", "Type the new signing key, or leave it to be generated.")
    key = key or generate_signing_key()
    with change(store, actor, "rotate signing keys") as c:
        s = c.s
        w, _integ = _changeable(s, actor, webhook_id)
        info = _infos(s, actor.account_id, Webhook.id == w.id)[0]
        refusal = rotation_refusal(info)
        if refusal:
            raise Conflict(refusal)
        if key == w.sign_key:
            raise ValidationError("sign_key", "The new signing key is the current one.")
        now = clock.now()
        if hours:
            w.previous_key = w.sign_key
            w.previous_key_until = now + timedelta(hours=hours)
        else:
            w.previous_key = None
            w.previous_key_until = None
        w.sign_key = key
        w.version += 1
        s.add(w)
        until = (
            f"the previous key signs beside it until {w.previous_key_until:%Y-%m-%d %H:%M} UTC"
            if hours
            else "the previous key stopped at once"
        )
        c.log(
            "webhook.rotate_key",
            "webhook",
            w.id,
            _audit_url(w.url),
            f"signing key rotated ({'generated' if is_generated_form(key) else 'typed'}); {until}",
        )
        s.flush()
        return _infos(s, actor.account_id, Webhook.id == w.id)[0]


@dataclass(frozen=True)
class Enabled:
    """A webhook enabled again after an automatic disable, and what failed
    meanwhile (``failed`` deliveries at or after ``failed_since``), which the
    screen offers to replay (``replay.replay_since``)."""

    webhook: WebhookInfo
    failed: int
    failed_since: datetime | None


def enable(store: Store, actor: Actor, webhook_id: int) -> Enabled:
    """Enable a webhook the dispatcher disabled automatically: it queues events
    again and its health starts over. Audited with the reason it had."""
    from .models import EventDelivery

    with change(store, actor, "enable webhooks") as c:
        s = c.s
        w, _integ = _changeable(s, actor, webhook_id)
        if w.disabled_at is None:
            raise Conflict("This webhook is not disabled.")
        since = w.first_failure_at or w.disabled_at
        reason = w.disabled_reason or "disabled automatically"
        w.disabled_at = None
        w.disabled_reason = None
        w.consecutive_failures = 0
        w.exhausted_in_row = 0
        w.first_failure_at = None
        w.version += 1
        s.add(w)
        failed = s.exec(
            select(func.count())
            .select_from(EventDelivery)
            .where(
                EventDelivery.webhook_id == w.id,
                col(EventDelivery.state).in_(("retrying", "exhausted", "cancelled")),
                func.coalesce(EventDelivery.last_attempt_at, EventDelivery.created_at) >= since,
            )
        ).one()
        c.log("webhook.enable", "webhook", w.id, _audit_url(w.url), f"was {reason}")
        s.flush()
        return Enabled(_infos(s, actor.account_id, Webhook.id == w.id)[0], int(failed), since)


def end_overlap(store: Store, actor: Actor, webhook_id: int) -> WebhookInfo:
    """End a key rotation's overlap now: only the new key signs from here on.
    Audited. Conflict when no overlap runs."""
    with change(store, actor, "rotate signing keys") as c:
        s = c.s
        w, _integ = _changeable(s, actor, webhook_id)
        if _previous_key(w) is None:
            raise Conflict("No previous signing key is in force: there is no overlap to end.")
        w.previous_key = None
        w.previous_key_until = None
        w.version += 1
        s.add(w)
        c.log(
            "webhook.end_overlap",
            "webhook",
            w.id,
            _audit_url(w.url),
            "the previous signing key stopped early; only the new key signs",
        )
        s.flush()
        return _infos(s, actor.account_id, Webhook.id == w.id)[0]


def delete(store: Store, actor: Actor, webhook_id: int) -> None:
    """Delete a custom webhook and its delivery log (confirmed by the screen first).
    Managed webhooks cannot be deleted (Conflict)."""
    with change(store, actor, "delete webhooks") as c:
        s = c.s
        w, _integ = _changeable(s, actor, webhook_id)
        n = s.exec(
            select(func.count()).select_from(Delivery).where(Delivery.webhook_id == w.id)
        ).one()
        s.exec(sql_delete(Delivery).where(col(Delivery.webhook_id) == w.id))
        label = _audit_url(w.url)
        s.delete(w)
        c.log(
            "webhook.delete",
            "webhook",
            webhook_id,
            label,
            f"{n} logged deliver{'y' if n == 1 else 'ies'} deleted with it",
        )


# Every public function above refuses wrong-typed arguments before it runs
# (rotate_key checks overlap_hours itself, naming the form's field).
validate.check_public(globals(), own={"rotate_key": ["overlap_hours"]})
