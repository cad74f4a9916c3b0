"""The API's token check keeps a token judged active until the database next
changes or its judgment ends by itself (``tokens.check_quick``): a kept
judgment must never let through a token that a commit anywhere, or the clock
alone, has since refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import clock, marketplace, tokens
from store.db import Store
from store.errors import TokenRefused


@pytest.fixture(autouse=True)
def _unfix():
    yield
    clock.fix(None)


def _judged(store: Store, token: str) -> bool:
    """Whether this thread holds a kept judgment of ``token`` (SQLite files only)."""
    seen = getattr(tokens._seen, "current", None)
    return seen is not None and token in seen.judged


def _reason(store: Store, token: str) -> str:
    try:
        tokens.check_quick(store, token)
        return "ok"
    except TokenRefused as exc:
        return exc.reason


def test_a_kept_judgment_ends_at_the_tokens_expiry_without_any_commit(store, owner, custom):
    t0 = clock.now()
    clock.fix(t0)
    _, token = tokens.generate(store, owner, custom, name="ERP", expires_in_days=30)
    assert _reason(store, token) == "ok"
    if store.is_sqlite:
        assert _judged(store, token)  # the second check is answered from it
    assert _reason(store, token) == "ok"
    clock.fix(t0 + timedelta(days=30))  # nothing committed meanwhile
    assert _reason(store, token) == "expired"


def test_a_kept_judgment_of_a_replaced_token_ends_with_its_grace(store, owner, custom):
    t0 = clock.now()
    clock.fix(t0)
    info, old = tokens.generate(store, owner, custom, name="ERP")
    _, new = tokens.rotate(store, owner, info.id)
    assert _reason(store, old) == "ok" and _reason(store, new) == "ok"
    assert _reason(store, old) == "ok"
    clock.fix(t0 + timedelta(hours=24))
    assert _reason(store, old) == "rotated"
    assert _reason(store, new) == "ok"


def test_a_commit_by_another_connection_ends_every_kept_judgment(store, owner, custom):
    info, token = tokens.generate(store, owner, custom, name="ERP")
    assert _reason(store, token) == "ok" and _reason(store, token) == "ok"
    other = Store(store.url)  # another process's connections, in effect
    try:
        other.prepare()
        tokens.revoke(other, owner, info.id)
    finally:
        other.dispose()
    assert _reason(store, token) == "revoked"


def test_pausing_the_integration_ends_the_kept_judgment(store, owner, custom):
    _, token = tokens.generate(store, owner, custom, name="ERP")
    assert _reason(store, token) == "ok" and _reason(store, token) == "ok"
    marketplace.disable(store, owner, "custom")
    assert _reason(store, token) == "paused"


def test_a_token_is_kept_as_presented_and_a_malformed_one_never(store, owner, custom):
    _, token = tokens.generate(store, owner, custom, name="ERP")
    assert _reason(store, token) == "ok"
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert _reason(store, broken) == "malformed"
    assert not _judged(store, broken)
    assert _reason(store, f" {token} ") == "ok"  # trimmed, as before
