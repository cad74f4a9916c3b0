"""API tokens of custom integrations: generated once, kept only as a hash.

``generate`` returns the token string exactly once, to be shown on the one-time
screen; the database keeps its SHA-256 hash and a display hint (prefix and last
4 characters). ``verify`` is what an API server would call for every request:
a checksum test that needs no database, one indexed lookup by hash, a
constant-time comparison, and one small update recording the last use.

Native integrations have one managed token, created on enable (see
marketplace.py). It is never displayed: ``list_for_integration`` leaves it out,
and it cannot be generated or revoked from here.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from . import catalog, clock, driver, integrations, tokens_format, validate
from .accounts import Actor
from .change import anyone, change
from .db import Store
from .errors import Conflict, NotFound, TokenRefused, ValidationError
from .models import Account, ApiToken, Integration
from .refusals import (
    NATIVE_TOKENS,
    managed_token_refusal,
    revoked_token_refusal,
    token_rotation_refusal,
)

EXPIRY_CHOICES: tuple[int | None, ...] = (None, 30, 90, 365)
"""Allowed values of ``expires_in_days``: never, or 30, 90, 365 days."""

STATUSES = ("active", "expired", "revoked", "paused", "suspended")

GRACE_DEFAULT_H = 24  # how long a rotated-out token keeps verifying, by default
GRACE_MAX_H = 7 * 24


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the token itself."""

    id: int
    integration_id: int
    name: str
    hint: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    status: str  # active | expired | revoked | paused | suspended (by the account's plan)
    managed: bool = False
    # A rotation: the replaced token's hint, and until when it verifies (then "rotated").
    previous_hint: str | None = None
    previous_until: datetime | None = None

    def in_grace(self, now: datetime) -> bool:
        """The token a rotation replaced still verifies."""
        return self.previous_until is not None and self.previous_until > now


@dataclass(frozen=True)
class VerifiedToken:
    """The result of a successful ``verify``."""

    integration_id: int
    integration_name: str
    token_name: str
    account_id: int


def _status(
    *,
    revoked_at: datetime | None,
    expires_at: datetime | None,
    enabled: bool,
    now: datetime,
    suspended: bool = False,
) -> str:
    # Permanent states first: a revoked token stays revoked whatever else holds.
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    if not enabled:
        return "paused"
    if suspended:  # the plan does not include its integration: works again on upgrade
        return "suspended"
    return "active"


def _suspended(integ: Integration, plan: str) -> bool:
    return catalog.suspended_by_plan(integ.extension_key, plan) is not None


def _info(t: ApiToken, enabled: bool, now: datetime, suspended: bool = False) -> TokenInfo:
    return TokenInfo(
        id=t.id or 0,
        integration_id=t.integration_id or 0,
        name=t.name,
        hint=t.hint,
        created_at=t.created_at,
        created_by=t.created_by,
        expires_at=t.expires_at,
        last_used_at=t.last_used_at,
        revoked_at=t.revoked_at,
        managed=t.managed,
        previous_hint=t.previous_hint,
        previous_until=t.previous_until,
        status=_status(
            revoked_at=t.revoked_at,
            expires_at=t.expires_at,
            enabled=enabled,
            now=now,
            suspended=suspended,
        ),
    )


def _expiry_days(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in EXPIRY_CHOICES:
        raise ValidationError("expiry", "Expiry must be never, 30, 90 or 365 days.")
    return value


def _token_integration(s: Session, actor: Actor, integration_id: int) -> Integration:
    return integrations.custom_for_change(
        s,
        actor.account_id,
        integration_id,
        NATIVE_TOKENS,
    )


def generate(
    store: Store,
    actor: Actor,
    integration_id: int,
    *,
    name: str,
    expires_in_days: int | None = None,
) -> tuple[TokenInfo, str]:
    """Generate a token for a custom integration; returns (info, token).

    The token string is returned this once and never stored: show it, let the
    administrator copy it, then drop it. ``name`` is required and unique within
    the integration (case-insensitive); ``expires_in_days`` is None (never),
    30, 90 or 365.
    """
    name = validate.name(name)
    days = _expiry_days(expires_in_days)
    with change(store, actor, "generate API tokens") as c:
        s = c.s
        _token_integration(s, actor, integration_id)
        c.unique_name(
            ApiToken,
            ApiToken.integration_id == integration_id,
            name,
            f"This integration already has a token named {name!r}.",
        )
        now = clock.now()
        token = tokens_format.new_token()
        row = ApiToken(
            integration_id=integration_id,
            name=name,
            token_hash=tokens_format.token_hash(token),
            hint=tokens_format.hint(token),
            managed=False,
            created_at=now,
            created_by=actor.login,
            expires_at=now + timedelta(days=days) if days is not None else None,
        )
        s.add(row)
        s.flush()
        c.log(
            "token.generate",
            "api_token",
            row.id,
            name,
            f"hint {row.hint}; "
            + (f"expires in {days} days" if days is not None else "never expires"),
        )
        info = _info(row, True, now)
    return info, token


def list_for_integration(store: Store, account_id: int, integration_id: int) -> list[TokenInfo]:
    """The tokens of an integration, newest first (one query).

    Managed tokens (native integrations) are never displayed, so they are left
    out: a native integration's list is empty.
    """
    now = clock.now()
    with store.read() as s:
        row = s.exec(
            select(Integration, Account.plan)
            .join(Account, Account.id == Integration.account_id)
            .where(Integration.id == integration_id, Integration.account_id == account_id)
        ).first()
        if row is None:
            raise NotFound("That integration does not exist.")
        integ, plan = row
        suspended = _suspended(integ, plan)
        rows = s.exec(
            select(ApiToken)
            .where(ApiToken.integration_id == integration_id, col(ApiToken.managed).is_(False))
            .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
        ).all()
        return [_info(t, integ.enabled, now, suspended) for t in rows]


def get(store: Store, account_id: int, token_id: int) -> TokenInfo:
    """One (non-managed) token of the account."""
    now = clock.now()
    with store.read() as s:
        row = s.exec(
            select(ApiToken, Integration, Account.plan)
            .join(Integration, Integration.id == ApiToken.integration_id)
            .join(Account, Account.id == Integration.account_id)
            .where(ApiToken.id == token_id, Integration.account_id == account_id)
        ).first()
        if row is None or row[0].managed:
            raise NotFound("That API token no longer exists.")
        return _info(row[0], row[1].enabled, now, _suspended(row[1], row[2]))


def revoke(store: Store, actor: Actor, token_id: int) -> TokenInfo:
    """Revoke a token, permanently. Works on a paused or suspended integration
    too (a leaked token can always be revoked, before an upgrade would make it
    verify again). Managed tokens cannot be revoked here."""
    with change(store, actor, "revoke API tokens") as c:
        s = c.s
        row = s.exec(
            select(ApiToken, Integration)
            .join(Integration, Integration.id == ApiToken.integration_id)
            .where(ApiToken.id == token_id, Integration.account_id == actor.account_id)
        ).first()
        if row is None:
            raise NotFound("That API token no longer exists.")
        tok, integ = row
        refusal = managed_token_refusal(tok.name, tok.managed)
        if refusal:
            raise Conflict(refusal)
        refusal = revoked_token_refusal(tok.name, tok.revoked_at)
        if refusal:
            raise Conflict(refusal)
        now = clock.now()
        tok.revoked_at = now
        s.add(tok)
        c.log(
            "token.revoke",
            "api_token",
            tok.id,
            tok.name,
            f"hint {tok.hint}; integration {catalog.extension(integ.extension_key).name}",
        )
        s.flush()
        return _info(tok, integ.enabled, now, _suspended(integ, c.account.plan))


def _grace_hours(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("grace", "The grace period is a whole number of hours.")
    if not 0 <= value <= GRACE_MAX_H:
        raise ValidationError(
            "grace",
            f"The grace period is 0 to {GRACE_MAX_H} hours (7 days); {value} is outside that.",
        )
    return value


def _owned_token(s: Session, actor: Actor, token_id: int) -> tuple[ApiToken, Integration]:
    row = s.exec(
        select(ApiToken, Integration)
        .join(Integration, Integration.id == ApiToken.integration_id)
        .where(ApiToken.id == token_id, Integration.account_id == actor.account_id)
    ).first()
    if row is None:
        raise NotFound("That API token no longer exists.")
    return row[0], row[1]


def rotate(
    store: Store, actor: Actor, token_id: int, *, grace_hours: int = GRACE_DEFAULT_H
) -> tuple[TokenInfo, str]:
    """Rotate a token without downtime; returns (info, the new token).

    The new token is returned this once (the one-time screen) and kept as a
    hash; the old one keeps verifying for ``grace_hours`` (0 to 168), then is
    refused as "rotated". Name, expiry and request log stay the token's.
    Refused (``refusals.token_rotation_refusal``) for managed, revoked or expired
    tokens and while a previous rotation's grace runs. Audited (hints only)."""
    hours = _grace_hours(grace_hours)
    with change(store, actor, "rotate API tokens") as c:
        s = c.s
        tok, integ = _owned_token(s, actor, token_id)
        _token_integration(s, actor, integ.id or 0)  # enabled, custom, not suspended
        now = clock.now()
        status = _status(
            revoked_at=tok.revoked_at, expires_at=tok.expires_at, enabled=integ.enabled, now=now
        )
        refusal = token_rotation_refusal(
            tok.name,
            managed=tok.managed,
            status=status,
            previous_until=tok.previous_until,
            now=now,
        )
        if refusal:
            raise Conflict(refusal)
        token = tokens_format.new_token()
        old_hint = tok.hint
        tok.previous_hash = tok.token_hash
        tok.previous_hint = tok.hint
        tok.previous_until = now + timedelta(hours=hours)
        tok.token_hash = tokens_format.token_hash(token)
        tok.hint = tokens_format.hint(token)
        s.add(tok)
        s.flush()
        c.log(
            "token.rotate",
            "api_token",
            tok.id,
            tok.name,
            f"hint {old_hint} -> {tok.hint}; "
            + (
                f"the old token verifies until {tok.previous_until:%Y-%m-%d %H:%M} UTC"
                if hours
                else "the old token is refused from now on"
            ),
        )
        info = _info(tok, integ.enabled, now)
    return info, token


def end_grace(store: Store, actor: Actor, token_id: int) -> TokenInfo:
    """End a rotation's grace now: the old token is refused as "rotated" from here
    on. Audited. Conflict when no grace runs."""
    with change(store, actor, "rotate API tokens") as c:
        s = c.s
        tok, integ = _owned_token(s, actor, token_id)
        refusal = managed_token_refusal(tok.name, tok.managed)
        if refusal:
            raise Conflict(refusal)
        now = clock.now()
        if tok.previous_until is None or tok.previous_until <= now:
            raise Conflict(
                f"The token {tok.name!r} has no previous token still verifying: no grace to end."
            )
        tok.previous_until = now
        s.add(tok)
        c.log(
            "token.end_grace",
            "api_token",
            tok.id,
            tok.name,
            f"hint {tok.previous_hint}: the old token is refused from now on",
        )
        s.flush()
        return _info(tok, integ.enabled, now, _suspended(integ, c.account.plan))


_REFUSALS = {
    "unknown": "This API token is not known: it was never issued here, or its "
    "integration's data was deleted.",
    "revoked": "This API token {name!r} was revoked on {when:%Y-%m-%d %H:%M} UTC.",
    "expired": "This API token {name!r} expired on {when:%Y-%m-%d %H:%M} UTC.",
    "rotated": "This API token {name!r} was rotated: it was replaced by a new token and "
    "its grace period ended on {when:%Y-%m-%d %H:%M} UTC. Use the new token.",
    "paused": "This API token {name!r} belongs to {integration}, which is disabled; "
    "it works again when the integration is enabled.",
    "suspended": "This API token {name!r} belongs to {integration}, which is suspended: "
    "it needs the {needs} plan or higher and this account is on {plan}. It works "
    "again when the plan is upgraded.",
}


# verify() runs for every API request: its two statements are built once, in
# Core, so each call costs one indexed lookup and one single-row update.
_tok = ApiToken.__table__  # type: ignore[attr-defined]
_integ = Integration.__table__  # type: ignore[attr-defined]
_acct = Account.__table__  # type: ignore[attr-defined]


def _lookup(previous: bool):
    """The lookup of a token by its hash: the current token's, or (``previous``)
    the one a rotation replaced, read under the same column names."""
    digest_col = _tok.c.previous_hash if previous else _tok.c.token_hash
    hint_col = _tok.c.previous_hint if previous else _tok.c.hint
    return (
        select(
            _tok.c.id,
            digest_col.label("token_hash"),
            _tok.c.name,
            _tok.c.revoked_at,
            _tok.c.expires_at,
            hint_col.label("hint"),
            _tok.c.last_used_at,
            _tok.c.previous_until,
            _integ.c.id.label("integration_id"),
            _integ.c.account_id,
            _integ.c.extension_key,
            _integ.c.enabled,
            _acct.c.plan,
        )
        .join(_integ, _integ.c.id == _tok.c.integration_id)
        .join(_acct, _acct.c.id == _integ.c.account_id)
        .where(digest_col == bindparam("digest"))
    )


_LOOKUP = _lookup(False)
# Asked only when no current token has the hash: an unknown token costs two
# indexed lookups, a current one still one.
_LOOKUP_PREVIOUS = _lookup(True)
_TOUCH = driver.Prepared(
    update(_tok).where(_tok.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))
)


@dataclass(frozen=True)
class ApiCaller:
    """Who calls the integration API: a token of an integration, by its id and
    display hint (never the token). It is the ``who`` of the changes an API call
    makes (``store.change``): audit entries name it by ``label``."""

    token_id: int
    token_hint: str
    token_name: str
    integration_id: int
    integration_name: str
    account_id: int

    @property
    def label(self) -> str:
        """How the audit log names the caller: "API token iadm_…x9Kq (Custom integration)"."""
        return f"API token {self.token_hint} ({self.integration_name})"[:100]

    @property
    def login(self) -> str:
        return self.label


LAST_USED_EVERY_S = 60
"""The API records a token's last use at most once a minute (``verify_on``)."""


def _digest_of(token: str) -> str:
    """The hash a well-formed token is stored under; a malformed one is refused
    here, before any database is asked."""
    if isinstance(token, str):
        token = token.strip()
    problem = tokens_format.malformation(token)
    if problem is not None:
        raise TokenRefused("malformed", f"This is not a valid API token: {problem}.")
    return tokens_format.token_hash(token)


def check_on(s: Session, token: str) -> tuple[ApiCaller, datetime | None]:
    """``verify``'s checks, reading only: (the caller, its token's last use).
    A refusal (TokenRefused) carries, as ``caller``, the token it was for when
    the token is known (revoked, expired, paused, suspended), so the request
    can be logged under its integration."""
    digest = _digest_of(token)
    conn = s.connection()
    row = conn.execute(_LOOKUP, {"digest": digest}).first()
    if row is not None:
        return _judge(row, digest)
    return _judge(conn.execute(_LOOKUP_PREVIOUS, {"digest": digest}).first(), digest, previous=True)


def _judge(row, digest: str, *, previous: bool = False) -> tuple[ApiCaller, datetime | None]:
    """The caller of a looked-up token row (None: unknown), or its refusal."""
    if row is None or not secrets.compare_digest(row.token_hash, digest):
        raise TokenRefused("unknown", _REFUSALS["unknown"])
    ext = catalog.extension(row.extension_key)
    caller = ApiCaller(
        token_id=row.id,
        token_hint=row.hint,
        token_name=row.name,
        integration_id=row.integration_id,
        integration_name=ext.name,
        account_id=row.account_id,
    )
    now = clock.now()
    status = _status(
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        enabled=row.enabled,
        now=now,
        suspended=catalog.suspended_by_plan(row.extension_key, row.plan) is not None,
    )
    if (
        status == "active"
        and previous
        and (row.previous_until is None or row.previous_until <= now)
    ):
        status = "rotated"  # a rotation replaced it and its grace has ended
    if status != "active":
        when = {"revoked": row.revoked_at, "rotated": row.previous_until}.get(
            status, row.expires_at
        )
        refused = TokenRefused(
            status,
            _REFUSALS[status].format(
                name=row.name, when=when, integration=ext.name, needs=ext.plan, plan=row.plan
            ),
        )
        refused.caller = caller
        raise refused
    return caller, row.last_used_at


# The columns of _LOOKUP, in its order.
_COLUMNS = (
    "id",
    "token_hash",
    "name",
    "revoked_at",
    "expires_at",
    "hint",
    "last_used_at",
    "previous_until",
    "integration_id",
    "account_id",
    "extension_key",
    "enabled",
    "plan",
)


class _Row:
    """A lookup row read through the driver itself (``check_quick``)."""

    __slots__ = _COLUMNS

    def __init__(self, values: tuple, sqlite: bool) -> None:
        # One unpacking, in _COLUMNS' order (a loop of setattr costs the API's
        # every request several µs).
        (
            self.id,
            self.token_hash,
            self.name,
            revoked_at,
            expires_at,
            self.hint,
            last_used_at,
            previous_until,
            self.integration_id,
            self.account_id,
            self.extension_key,
            enabled,
            self.plan,
        ) = values
        if sqlite:  # SQLite hands back the text it stores
            revoked_at = revoked_at and _utc(revoked_at)
            expires_at = expires_at and _utc(expires_at)
            last_used_at = last_used_at and _utc(last_used_at)
            previous_until = previous_until and _utc(previous_until)
        self.revoked_at = revoked_at
        self.expires_at = expires_at
        self.last_used_at = last_used_at
        self.previous_until = previous_until
        self.enabled = bool(enabled)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


_QUICK: dict[tuple[str, bool], tuple[str, list[str] | None]] = {}


def check_quick(store: Store, token: str) -> tuple[ApiCaller, datetime | None]:
    """``check_on`` in one statement through the pooled driver connection, with
    no SQLAlchemy session or transaction around it: what the API runs for every
    request (about 25 µs on SQLite, against 160 through a session). A single
    SELECT needs no transaction to be consistent.

    On a SQLite file, a token judged active is kept, as presented, with its
    caller until the database next changes (``_seen_since_last_commit``) or
    until the time its judgment ends by itself (its expiry, or a rotation's
    grace): a request of a token seen since the last commit anywhere costs one
    pragma and a dict lookup, not the format check, the hash and the lookup."""
    sqlite_file = store.is_sqlite and store.path is not None
    with store.quick_read() as raw:
        seen = _seen_since_last_commit(raw) if sqlite_file else None
        if seen is not None and isinstance(token, str):
            judged = seen.judged.get(token)
            if judged is not None:
                caller, last_used, until = judged
                if until is None or clock.now() < until:
                    return caller, last_used
        digest = _digest_of(token)
        if seen is not None and digest in seen.rows:
            row, previous = seen.rows[digest]
        else:
            row, previous = _lookup_quick(store, raw, digest)
            if seen is not None:
                if len(seen.rows) >= _SEEN_MAX:  # many tokens (or forged ones): start again
                    seen.rows.clear()
                seen.rows[digest] = (row, previous)
    # Judged again every time: an expiry or a grace's end needs no commit.
    if row is None:
        return _judge(None, digest)
    caller, last_used = _judge(row, digest, previous=previous)
    if seen is not None:
        if len(seen.judged) >= _SEEN_MAX:
            seen.judged.clear()
        ends = [t for t in (row.expires_at, row.previous_until if previous else None) if t]
        seen.judged[token] = (caller, last_used, min(ends) if ends else None)
    return caller, last_used


def _lookup_quick(store: Store, raw: Any, digest: str) -> tuple[_Row | None, bool]:
    """The token's row by its hash (then among the keys a rotation replaced),
    through the driver: (the row or None, whether it is a replaced one)."""
    dialect = store.engine.dialect
    for previous in (False, True):  # the token itself, then one a rotation replaced
        compiled = _QUICK.get((dialect.name, previous))
        if compiled is None:
            c = (_LOOKUP_PREVIOUS if previous else _LOOKUP).compile(dialect=dialect)
            compiled = _QUICK[(dialect.name, previous)] = (str(c), c.positiontup)
        sql, positions = compiled
        params: tuple | dict = (digest,) if positions else {"digest": digest}
        cur = raw.cursor()
        try:
            cur.execute(sql, params)
            values = cur.fetchone()
        finally:
            cur.close()
        if values is not None:
            return _Row(values, store.is_sqlite), previous
    return None, True


_SEEN_MAX = 1024
_seen = threading.local()


class _Seen:
    """What one thread looked up on its quick_read connection since the database
    last changed: rows by token hash (unknown ones too), and the judgments of
    the tokens found active, by the token as presented."""

    __slots__ = ("conn", "judged", "rows", "version")

    def __init__(self, conn: Any, version: int) -> None:
        self.conn, self.version = conn, version
        self.rows: dict[str, tuple[_Row | None, bool]] = {}
        self.judged: dict[str, tuple[ApiCaller, datetime | None, datetime | None]] = {}


def _seen_since_last_commit(raw: Any) -> _Seen:
    """The lookups this thread made on ``raw`` (a SQLite file's quick_read
    connection, which never writes) since the database last changed: SQLite's
    ``PRAGMA data_version`` moves whenever any other connection, of this process
    or another, commits, so a revoke, a rotation, a pause, a plan change or a
    last-use write anywhere empties it before the next request is judged. A
    pragma costs a few µs; the lookup it saves, with its row's decoding, several
    times that."""
    version = raw.execute("PRAGMA data_version").fetchone()[0]
    seen: _Seen | None = getattr(_seen, "current", None)
    if seen is None or seen.conn is not raw or seen.version != version:
        seen = _seen.current = _Seen(raw, version)
    return seen


def touch_on(s: Session, token_id: int) -> None:
    """Record the token's use now (inside the caller's write transaction; on
    PostgreSQL sent with its COMMIT: nothing in the change reads it)."""
    _TOUCH.run_later(s, {"token_id": token_id, "now": clock.now()})


def verify_on(s: Session, token: str, *, last_used_every_s: int = 0) -> ApiCaller:
    """``check_on`` inside the caller's write transaction, then the last use
    written when the one recorded is ``last_used_every_s`` seconds old or more
    (0: always)."""
    caller, last = check_on(s, token)
    if last is None or (clock.now() - last).total_seconds() >= last_used_every_s:
        touch_on(s, caller.token_id)
    return caller


def verify(store: Store, token: str) -> VerifiedToken:
    """Check a token presented by an external system and record its use.

    Refuses with TokenRefused, whose ``reason`` is ``malformed`` (wrong shape
    or checksum, decided without the database), ``unknown``, ``revoked``,
    ``expired``, ``paused`` (integration disabled) or ``suspended`` (the
    account's plan does not include its integration: catalog.suspended_by_plan).
    The lookup is by SHA-256
    hash (an indexed unique column), then a constant-time comparison.
    """
    if isinstance(token, str):
        token = token.strip()
    problem = tokens_format.malformation(token)
    if problem is not None:  # decided without the database
        raise TokenRefused("malformed", f"This is not a valid API token: {problem}.")
    # The program itself records the use: no permission, no audit entry, no lock.
    with change(store, None, "verify API tokens", check=anyone) as c:
        caller = verify_on(c.s, token)
    return VerifiedToken(
        integration_id=caller.integration_id,
        integration_name=caller.integration_name,
        token_name=caller.token_name,
        account_id=caller.account_id,
    )


# Every public function above refuses wrong-typed arguments before it runs
# (generate checks expires_in_days itself, naming the form's field; verify refuses
# any token that is not one, whatever its type, as TokenRefused).
validate.check_public(
    globals(),
    own={
        "generate": ["expires_in_days"],
        "rotate": ["grace_hours"],
        "verify": ["token"],
        "verify_on": ["token"],
        "check_on": ["token"],
        "check_quick": ["token"],
    },
)
