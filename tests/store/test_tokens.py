"""API tokens: format, generate, list, revoke, verify (on both backends)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, select, text

from store import audit, marketplace, tokens, tokens_format
from store.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TokenRefused,
    ValidationError,
)
from store.models import ApiToken

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


# -- format ----------------------------------------------------------------------


def test_new_token_has_the_documented_shape():
    tok = tokens_format.new_token()
    assert len(tok) == 40
    assert tok.startswith("iadm_")
    assert all(ch in tokens_format.ALPHABET for ch in tok[5:])
    assert tok[-6:] == tokens_format.checksum(tok[5:34])
    assert tokens_format.is_well_formed(tok)
    assert tokens_format.malformation(tok) is None


def test_tokens_are_random():
    many = {tokens_format.new_token() for _ in range(2000)}
    assert len(many) == 2000
    # Every base62 character turns up somewhere in the random parts.
    assert set("".join(t[5:34] for t in many)) == set(tokens_format.ALPHABET)


def test_every_single_character_change_is_malformed():
    tok = tokens_format.new_token()
    others = tokens_format.ALPHABET + "_-. é"
    for pos in range(len(tok)):
        for ch in others:
            if ch == tok[pos]:
                continue
            changed = tok[:pos] + ch + tok[pos + 1 :]
            assert not tokens_format.is_well_formed(changed), (pos, ch)


@pytest.mark.parametrize(
    ("mangle", "why"),
    [
        (lambda t: t[:-1], "39 characters long"),
        (lambda t: t + "a", "41 characters long"),
        (lambda t: "IADM_" + t[5:], "does not start with iadm_"),
        (lambda t: "ghp_" + t[4:], "does not start with iadm_"),
        (lambda t: t[:10] + "-" + t[11:], "other than letters and digits"),
        (lambda t: t[:10] + t[11] + t[10] + t[12:], "checksum does not match"),
        (lambda t: "", "no token given"),  # issue 13, item 13
    ],
)
def test_malformation_explains_without_repeating(mangle, why):
    tok = tokens_format.new_token()
    while tok[10] == tok[11]:  # the swap case needs two different characters
        tok = tokens_format.new_token()
    bad = mangle(tok)
    problem = tokens_format.malformation(bad)
    assert problem is not None and why in problem
    assert tok[5:20] not in problem


def test_hash_and_hint():
    tok = tokens_format.new_token()
    assert tokens_format.token_hash(tok) == hashlib.sha256(tok.encode()).hexdigest()
    assert tokens_format.hint(tok) == "iadm_…" + tok[-4:]


# -- helpers -----------------------------------------------------------------------


def _rows(store) -> list[ApiToken]:
    with store.read() as s:
        return list(s.exec(select(ApiToken).order_by(ApiToken.id)).scalars())


def _all_values(store) -> str:
    """Every value of every row of every table, as one string."""
    meta = MetaData()
    meta.reflect(store.engine)
    out = []
    with store.engine.connect() as c:
        for table in meta.sorted_tables:
            for row in c.execute(table.select()):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _audit(store, owner, action: str):
    return [e for e in audit.entries(store, owner.account_id) if e.action == action]


# -- generate --------------------------------------------------------------------


@pytest.mark.parametrize("days", [None, 30, 90, 365])
def test_generate_keeps_only_hash_and_hint(store, owner, custom, days):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="  ERP sync ", expires_in_days=days)
    assert tokens_format.is_well_formed(tok)
    assert info.name == "ERP sync"
    assert info.hint == "iadm_…" + tok[-4:]
    assert info.status == "active"
    assert info.created_at == T0 and info.created_by == "alice"
    assert info.expires_at == (None if days is None else T0 + timedelta(days=days))
    assert info.last_used_at is None and info.revoked_at is None
    (row,) = _rows(store)
    assert row.token_hash == hashlib.sha256(tok.encode()).hexdigest()
    assert row.hint == info.hint and not row.managed
    assert tok not in _all_values(store)
    assert tok[5:34] not in _all_values(store)  # not even the random part


def test_generate_writes_an_audit_entry_without_the_token(store, owner, custom):
    info, tok = tokens.generate(store, owner, custom, name="ERP", expires_in_days=90)
    (entry,) = _audit(store, owner, "token.generate")
    assert entry.object_type == "api_token" and entry.object_id == info.id
    assert entry.object_name == "ERP" and entry.actor == "alice"
    assert "90 days" in entry.detail
    assert tok not in repr(entry) and tok[5:34] not in repr(entry)


@pytest.mark.parametrize("days", [0, 1, 7, 31, 366, -30, "30", 30.0, True])
def test_generate_refuses_other_expiries(store, owner, custom, days):
    with pytest.raises(ValidationError) as exc:
        tokens.generate(store, owner, custom, name="ERP", expires_in_days=days)
    assert exc.value.field == "expiry"
    assert "never, 30, 90 or 365" in exc.value.message
    assert _rows(store) == []
    assert _audit(store, owner, "token.generate") == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "two\nlines"])
def test_generate_refuses_bad_names(store, owner, custom, name):
    with pytest.raises(ValidationError) as exc:
        tokens.generate(store, owner, custom, name=name)
    assert exc.value.field == "name"
    assert _rows(store) == []


def test_generate_refuses_a_duplicate_name(store, owner, custom):
    tokens.generate(store, owner, custom, name="ERP sync")
    with pytest.raises(ValidationError) as exc:
        tokens.generate(store, owner, custom, name="erp SYNC")
    assert exc.value.field == "name"
    assert "already has a token named 'erp SYNC'" in exc.value.message
    assert [r.name for r in _rows(store)] == ["ERP sync"]


def test_generate_refuses_native_integrations(store, owner):
    sf = marketplace.enable(store, owner, "salesforce")
    before = _rows(store)
    with pytest.raises(Conflict) as exc:
        tokens.generate(store, owner, sf, name="Mine")
    assert "managed automatically" in exc.value.message
    assert [r.id for r in _rows(store)] == [r.id for r in before]


def test_generate_refuses_a_disabled_integration(store, owner, custom):
    marketplace.disable(store, owner, "custom")
    with pytest.raises(Conflict) as exc:
        tokens.generate(store, owner, custom, name="ERP")
    assert "disabled" in exc.value.message
    assert _rows(store) == []


def test_generate_needs_the_permission(store, owner, member, custom):
    with pytest.raises(PermissionDenied) as exc:
        tokens.generate(store, member, custom, name="ERP")
    assert "Manage add-ons and integrations" in exc.value.message
    assert _rows(store) == []


def test_generate_unknown_integration(store, owner):
    with pytest.raises(NotFound):
        tokens.generate(store, owner, 9999, name="ERP")


# -- list -------------------------------------------------------------------------


def test_list_shows_each_status_and_hides_managed_tokens(store, owner, custom):
    clock_fix(T0)
    a, _ = tokens.generate(store, owner, custom, name="A active")
    clock_fix(T0 + timedelta(seconds=1))
    tokens.generate(store, owner, custom, name="B expires", expires_in_days=30)
    clock_fix(T0 + timedelta(seconds=2))
    c, _ = tokens.generate(store, owner, custom, name="C revoked")
    tokens.revoke(store, owner, c.id)
    sf = marketplace.enable(store, owner, "salesforce")  # brings a managed token

    listed = tokens.list_for_integration(store, owner.account_id, custom)
    assert [t.name for t in listed] == ["C revoked", "B expires", "A active"]
    assert [t.status for t in listed] == ["revoked", "active", "active"]
    assert tokens.list_for_integration(store, owner.account_id, sf) == []
    assert any(r.managed for r in _rows(store))

    clock_fix(T0 + timedelta(days=31))
    statuses = {
        t.name: t.status for t in tokens.list_for_integration(store, owner.account_id, custom)
    }
    assert statuses == {"A active": "active", "B expires": "expired", "C revoked": "revoked"}

    marketplace.disable(store, owner, "custom")
    statuses = {
        t.name: t.status for t in tokens.list_for_integration(store, owner.account_id, custom)
    }
    assert statuses == {"A active": "paused", "B expires": "expired", "C revoked": "revoked"}
    assert tokens.get(store, owner.account_id, a.id).status == "paused"


def test_list_unknown_integration(store, owner):
    with pytest.raises(NotFound):
        tokens.list_for_integration(store, owner.account_id, 9999)


# -- revoke -----------------------------------------------------------------------


def test_revoke_is_permanent_and_audited(store, owner, custom):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="ERP")
    clock_fix(T0 + timedelta(hours=1))
    revoked = tokens.revoke(store, owner, info.id)
    assert revoked.status == "revoked" and revoked.revoked_at == T0 + timedelta(hours=1)
    (entry,) = _audit(store, owner, "token.revoke")
    assert entry.object_id == info.id and entry.object_name == "ERP"
    assert tok not in repr(entry)

    with pytest.raises(Conflict) as exc:
        tokens.revoke(store, owner, info.id)
    assert "already revoked" in exc.value.message
    assert len(_audit(store, owner, "token.revoke")) == 1
    with pytest.raises(TokenRefused) as refused:
        tokens.verify(store, tok)
    assert refused.value.reason == "revoked"


def test_revoke_works_on_a_paused_integration(store, owner, custom):
    info, _ = tokens.generate(store, owner, custom, name="ERP")
    marketplace.disable(store, owner, "custom")
    assert tokens.revoke(store, owner, info.id).status == "revoked"
    marketplace.enable(store, owner, "custom")
    assert tokens.get(store, owner.account_id, info.id).status == "revoked"


def test_revoke_refusals(store, owner, member, custom):
    info, _ = tokens.generate(store, owner, custom, name="ERP")
    with pytest.raises(PermissionDenied):
        tokens.revoke(store, member, info.id)
    with pytest.raises(NotFound):
        tokens.revoke(store, owner, 9999)
    marketplace.enable(store, owner, "salesforce")
    managed = next(r for r in _rows(store) if r.managed)
    with pytest.raises(Conflict) as exc:
        tokens.revoke(store, owner, managed.id or 0)
    assert "managed automatically" in exc.value.message
    assert all(r.revoked_at is None for r in _rows(store))
    assert _audit(store, owner, "token.revoke") == []


# -- verify -----------------------------------------------------------------------


def test_verify_accepts_and_records_last_use(store, owner, custom):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="ERP")
    clock_fix(T0 + timedelta(minutes=5))
    ok = tokens.verify(store, tok)
    assert ok == tokens.VerifiedToken(
        integration_id=custom,
        integration_name="Custom integration",
        token_name="ERP",
        account_id=owner.account_id,
    )
    assert tokens.get(store, owner.account_id, info.id).last_used_at == T0 + timedelta(minutes=5)
    clock_fix(T0 + timedelta(minutes=7))
    tokens.verify(store, tok + "\n")  # surrounding whitespace (a pasted line) is ignored
    assert tokens.get(store, owner.account_id, info.id).last_used_at == T0 + timedelta(minutes=7)
    assert tok not in _all_values(store)


def _refused(store, tok) -> TokenRefused:
    with pytest.raises(TokenRefused) as exc:
        tokens.verify(store, tok)
    assert tok.strip() == "" or tok.strip() not in exc.value.message
    assert exc.value.reason in TokenRefused.REASONS
    return exc.value


@pytest.mark.parametrize(
    "bad", ["", "iadm_", "not a token", "Bearer iadm_abc", "x" * 40, "iadm_" + "A" * 35]
)
def test_verify_refuses_malformed(store, owner, custom, bad):
    assert _refused(store, bad).reason == "malformed"


def test_verify_refuses_a_one_character_change_as_malformed(store, owner, custom):
    _, tok = tokens.generate(store, owner, custom, name="ERP")
    pos = 20
    changed = tok[:pos] + ("a" if tok[pos] != "a" else "b") + tok[pos + 1 :]
    err = _refused(store, changed)
    assert err.reason == "malformed"
    assert "checksum" in err.message


def test_verify_refuses_unknown(store, owner, custom):
    tokens.generate(store, owner, custom, name="ERP")
    err = _refused(store, tokens_format.new_token())
    assert err.reason == "unknown"
    assert "not known" in err.message


def test_verify_refuses_revoked_without_recording_use(store, owner, custom):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="ERP")
    tokens.revoke(store, owner, info.id)
    clock_fix(T0 + timedelta(days=1))
    err = _refused(store, tok)
    assert err.reason == "revoked"
    assert "'ERP' was revoked on 2026-03-01 09:30 UTC" in err.message
    assert tokens.get(store, owner.account_id, info.id).last_used_at is None


def test_verify_refuses_expired(store, owner, custom):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="ERP", expires_in_days=30)
    clock_fix(T0 + timedelta(days=30) - timedelta(seconds=1))
    tokens.verify(store, tok)
    clock_fix(T0 + timedelta(days=30))
    err = _refused(store, tok)
    assert err.reason == "expired"
    assert "expired on 2026-03-31 09:30 UTC" in err.message
    assert tokens.get(store, owner.account_id, info.id).last_used_at == (
        T0 + timedelta(days=30) - timedelta(seconds=1)
    )


def test_verify_refuses_paused_then_works_again(store, owner, custom):
    _, tok = tokens.generate(store, owner, custom, name="ERP")
    marketplace.disable(store, owner, "custom")
    err = _refused(store, tok)
    assert err.reason == "paused"
    assert "Custom integration, which is disabled" in err.message
    marketplace.enable(store, owner, "custom")
    assert tokens.verify(store, tok).token_name == "ERP"


def test_revoked_wins_over_paused_and_expired(store, owner, custom):
    clock_fix(T0)
    info, tok = tokens.generate(store, owner, custom, name="ERP", expires_in_days=30)
    tokens.revoke(store, owner, info.id)
    marketplace.disable(store, owner, "custom")
    clock_fix(T0 + timedelta(days=60))
    assert _refused(store, tok).reason == "revoked"


def test_managed_token_verifies_and_pauses_with_its_integration(store, owner, monkeypatch):
    captured: list[str] = []
    real = tokens_format.new_token

    def spy() -> str:
        captured.append(real())
        return captured[-1]

    monkeypatch.setattr(tokens_format, "new_token", spy)
    sf = marketplace.enable(store, owner, "salesforce")
    (managed,) = captured
    ok = tokens.verify(store, managed)
    assert ok.integration_id == sf and ok.integration_name == "Salesforce"
    marketplace.disable(store, owner, "salesforce")
    assert _refused(store, managed).reason == "paused"


def test_sqlite_file_never_holds_the_token(store, owner, custom):
    if store.path is None:
        pytest.skip("SQLite only; PostgreSQL rows are checked by the other tests")
    _, tok = tokens.generate(store, owner, custom, name="ERP")
    tokens.verify(store, tok)
    with store.engine.connect() as c:
        c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    blobs = b"".join(
        p.read_bytes() for p in store.path.parent.glob(store.path.name + "*") if p.is_file()
    )
    assert blobs  # the file was really read
    assert tok.encode() not in blobs
    assert tok[5:34].encode() not in blobs


def clock_fix(at: datetime) -> None:
    from store import clock

    clock.fix(at)
