"""What the API keeps in the store (SQLite and PostgreSQL): authentication with
the rate-limit count in the database, last use at most once a minute, the
request log and its pruning, per-token usage, and what a token can read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from store import apiaccess, clock, tokens
from store.errors import RateLimited, TokenRefused
from store.models import ApiRateWindow, ApiRequest

from ..contracts_world import World, another_account, build
from ..reliability import dump

T0 = datetime(2026, 11, 28, 9, 30, 10, tzinfo=UTC)  # 10 s into a 5-minute window


@pytest.fixture
def world(store, owner) -> World:
    return build(store, owner)


def _rows(store, model) -> list:
    from sqlmodel import select

    with store.read() as s:
        return list(s.exec(select(model)).all())


def test_authenticate_names_the_token_never_the_token_itself(store, world):
    caller = apiaccess.authenticate(store, world.token)
    assert (caller.integration_id, caller.token_id, caller.account_id) == (
        world.integration_id,
        world.token_id,
        world.actor.account_id,
    )
    assert caller.token_hint.startswith("iadm_…") and world.token not in caller.label
    assert caller.label == f"API token {caller.token_hint} (Custom integration)"


@pytest.mark.parametrize("how", ["revoked", "expired", "paused"])
def test_refused_tokens_carry_their_caller_and_count_nothing(store, world, how):
    from store import marketplace
    from store.catalog import CUSTOM_KEY

    if how == "revoked":
        tokens.revoke(store, world.actor, world.token_id)
    elif how == "paused":
        marketplace.disable(store, world.actor, CUSTOM_KEY)
    else:
        _, token = tokens.generate(
            store, world.actor, world.integration_id, name="Short", expires_in_days=30
        )
        clock.fix(clock.now() + timedelta(days=31))
        world = World(**{**world.__dict__, "token": token})
    with pytest.raises(TokenRefused) as refused:
        apiaccess.authenticate(store, world.token)
    assert refused.value.reason == how
    assert refused.value.caller is not None
    assert refused.value.caller.integration_id == world.integration_id
    assert world.token not in str(refused.value)
    assert _rows(store, ApiRateWindow) == []


def test_unknown_and_malformed_tokens_are_refused_without_a_caller(store, world):
    for bad in ("nonsense", world.token[:-1] + ("A" if world.token[-1] != "A" else "B")):
        with pytest.raises(TokenRefused) as refused:
            apiaccess.authenticate(store, bad)
        assert refused.value.caller is None


def test_the_rate_limit_counts_in_the_database_and_refuses_past_it(store, world):
    clock.fix(T0)
    for _ in range(5):
        apiaccess.authenticate(store, world.token, rate_limit=5)
    with pytest.raises(RateLimited) as refused:
        apiaccess.authenticate(store, world.token, rate_limit=5)
    assert refused.value.retry_after == 290  # the window ends at 09:35:00
    assert "5 requests in the current 5-minute window" in str(refused.value)
    assert refused.value.caller.token_id == world.token_id
    [window] = _rows(store, ApiRateWindow)
    assert window.count == 5, "a refused request is not counted"
    assert window.window_start == apiaccess.window_start(T0) == int(T0.timestamp()) - 10
    # The next window starts afresh.
    clock.fix(T0 + timedelta(seconds=290))
    apiaccess.authenticate(store, world.token, rate_limit=5)
    assert sorted(w.count for w in _rows(store, ApiRateWindow)) == [1, 5]


def test_the_default_rate_limit_is_2000_per_5_minutes():
    assert (apiaccess.RATE_LIMIT, apiaccess.RATE_WINDOW_S) == (2000, 300)


def test_last_used_is_written_at_most_once_a_minute(store, world):
    clock.fix(T0)
    apiaccess.authenticate(store, world.token)
    assert tokens.get(store, world.actor.account_id, world.token_id).last_used_at == T0
    clock.fix(T0 + timedelta(seconds=59))
    apiaccess.authenticate(store, world.token)
    assert tokens.get(store, world.actor.account_id, world.token_id).last_used_at == T0
    clock.fix(T0 + timedelta(seconds=60))
    apiaccess.authenticate(store, world.token)
    later = T0 + timedelta(seconds=60)
    assert tokens.get(store, world.actor.account_id, world.token_id).last_used_at == later


def _log(store, caller, n: int, at: datetime, **kw) -> None:
    apiaccess.record_requests(
        store,
        [
            apiaccess.LoggedRequest(
                account_id=caller.account_id,
                integration_id=caller.integration_id,
                token_id=caller.token_id,
                token_hint=caller.token_hint,
                at=at + timedelta(seconds=i),
                method=kw.get("method", "GET"),
                path=kw.get("path", f"/v1/contracts/{i}"),
                status=kw.get("status", 200),
                latency_ms=1.25,
            )
            for i in range(n)
        ],
    )


def test_request_log_newest_first_filtered_and_usage_per_token(store, world):
    clock.fix(T0)
    caller = apiaccess.authenticate(store, world.token)
    other_info, other_token = tokens.generate(
        store, world.actor, world.integration_id, name="Second"
    )
    other = apiaccess.authenticate(store, other_token)
    _log(store, caller, 3, T0 - timedelta(hours=30))  # older than 24 h
    _log(store, caller, 2, T0 - timedelta(minutes=5), method="POST", path="/v1/contracts")
    _log(store, other, 1, T0 - timedelta(minutes=1), status=429, path="/v1/ping")
    apiaccess.record_request(
        store, caller, method="GET", path="/v1/\x1b[2Jping" + "x" * 600, status=404, latency_ms=2
    )
    listed = apiaccess.requests_for_integration(store, world.actor.account_id, world.integration_id)
    assert [r.at for r in listed] == sorted((r.at for r in listed), reverse=True)
    assert len(listed) == 7
    newest = listed[0]
    assert newest.path.startswith("/v1/␛[2Jping") and len(newest.path) == 500
    assert newest.path.endswith("…") and newest.status == 404
    aid, iid = world.actor.account_id, world.integration_id
    assert [
        r.status for r in apiaccess.requests_for_integration(store, aid, iid, text_filter="429")
    ] == [429]
    posts = apiaccess.requests_for_integration(store, aid, iid, text_filter="post")
    assert [r.method for r in posts] == ["POST", "POST"]
    assert {r.token_name for r in posts} == {"Orders sync"}
    by_name = apiaccess.requests_for_integration(store, aid, iid, text_filter="second")
    assert [r.token_id for r in by_name] == [other_info.id]
    assert len(apiaccess.requests_for_integration(store, aid, iid, limit=2)) == 2
    usage = apiaccess.token_usage(store, aid, iid)
    assert usage[world.token_id].requests_24h == 3
    assert usage[other_info.id].requests_24h == 1
    assert usage[world.token_id].last_used_at == T0
    # Another account sees none of it.
    eve = another_account(store)
    assert apiaccess.requests_for_integration(store, eve.account_id, iid) == []
    assert apiaccess.token_usage(store, eve.account_id, iid) == {}


def test_a_batch_of_logged_requests_is_written_whole_and_indexed_whole(store, world):
    """record_requests writes SQLite's rows many to an INSERT (chunks of
    _LOG_ROWS_PER_INSERT): every row of a batch of several chunks is there, in
    order, and in the search index (its trigger runs for each row)."""
    from sqlalchemy import text

    clock.fix(T0)
    caller = apiaccess.authenticate(store, world.token)
    n = apiaccess._LOG_ROWS_PER_INSERT * 2 + 37
    _log(store, caller, n, T0 - timedelta(hours=1))
    with store.read() as s:
        paths = s.execute(text("SELECT id, path FROM api_request ORDER BY id")).all()
        assert [p for _, p in paths] == [f"/v1/contracts/{i}" for i in range(n)]
        if store.is_sqlite:
            found = s.execute(
                text("SELECT rowid FROM api_request_search WHERE api_request_search MATCH :q"),
                {"q": '"contracts/"'},
            ).all()
            assert sorted(r for (r,) in found) == [i for i, _ in paths]
            last = s.execute(
                text("SELECT rowid FROM api_request_search WHERE api_request_search MATCH :q"),
                {"q": f'"contracts/{n - 1}"'},
            ).all()
            assert [r for (r,) in last] == [paths[-1][0]]


def test_prune_keeps_the_accounts_retention(store, world):
    clock.fix(T0)
    caller = apiaccess.authenticate(store, world.token)
    _log(store, caller, 2, T0 - timedelta(days=31))
    _log(store, caller, 3, T0 - timedelta(days=29))
    clock.fix(T0 + timedelta(minutes=5))  # the first window has ended
    assert apiaccess.prune(store) == 2
    assert len(_rows(store, ApiRequest)) == 3
    assert _rows(store, ApiRateWindow) == []
    with store.write() as s:
        from store.models import Account

        acct = s.get(Account, world.actor.account_id)
        acct.retention_days = 7
        s.add(acct)
    assert apiaccess.prune(store) == 3


def test_reads_show_the_tokens_own_integration(store, world):
    caller = apiaccess.authenticate(store, world.token)
    [bp] = apiaccess.blueprints_for(store, caller)
    assert (bp.id, bp.name) == (world.blueprint_id, "Orders")
    assert [(f.name, f.mapping_required) for f in bp.fields] == [
        ("Amount", True),
        ("Customer", False),
        ("Notes", False),
    ]
    assert apiaccess.blueprint_for(store, caller, world.blueprint_id) == bp
    [pb] = apiaccess.playbooks_for(store, caller)
    assert (pb.id, pb.name, pb.blueprint_ids) == (world.playbook_id, "Sales", (bp.id,))
    assert [(d.name, d.default_value) for d in pb.data_fields] == [
        ("Amount", ""),
        ("Customer name", ""),
        ("Currency", "EUR"),
    ]
    assert [(m.blueprint_field_name, m.data_field_id) for m in pb.mappings] == [
        ("Amount", world.df_amount),
        ("Customer", world.df_customer),
    ]
    eve = another_account(store)
    theirs = build(store, eve, blueprint="Theirs", playbook="Their playbook")
    from store.errors import NotFound

    before = dump(store)
    with pytest.raises(NotFound):
        apiaccess.blueprint_for(store, caller, theirs.blueprint_id)
    assert [p.name for p in apiaccess.playbooks_for(store, caller)] == ["Sales"]
    assert dump(store) == before


def test_slices_of_several_processes_hold_the_limit_exactly(store, world):
    """Two processes' slices (two RateSlices) taking from one count: exactly the
    limit is accepted in all, whichever answers, and slices stay small near it."""
    clock.fix(T0)
    a, b = apiaccess.RateSlices(), apiaccess.RateSlices()
    accepted = refused = 0
    for i in range(260):
        try:
            apiaccess.authenticate(store, world.token, rate_limit=200, slices=(a, b)[i % 3 == 0])
            accepted += 1
        except RateLimited as exc:
            refused += 1
            assert exc.retry_after == 290
    assert (accepted, refused) == (200, 60)
    [window] = _rows(store, ApiRateWindow)
    assert window.count == 200
    # Slices doubled while far from the limit: far fewer writes than requests.
    assert max(h[2] for h in (a._held[world.token_id], b._held[world.token_id])) == 1


def test_a_held_slice_never_outlives_a_revocation(store, world):
    slices = apiaccess.RateSlices()
    for _ in range(10):
        apiaccess.authenticate(store, world.token, slices=slices)
    assert slices._held[world.token_id][1] > 0  # requests left in the slice
    tokens.revoke(store, world.actor, world.token_id)
    with pytest.raises(TokenRefused) as refused:
        apiaccess.authenticate(store, world.token, slices=slices)
    assert refused.value.reason == "revoked"


def test_sliced_authentication_writes_last_use_once_a_minute(store, world):
    clock.fix(T0)
    slices = apiaccess.RateSlices()
    apiaccess.authenticate(store, world.token, slices=slices)
    clock.fix(T0 + timedelta(seconds=30))
    apiaccess.authenticate(store, world.token, slices=slices)
    assert tokens.get(store, world.actor.account_id, world.token_id).last_used_at == T0
    clock.fix(T0 + timedelta(seconds=61))
    apiaccess.authenticate(store, world.token, slices=slices)
    assert tokens.get(store, world.actor.account_id, world.token_id).last_used_at == T0 + timedelta(
        seconds=61
    )


def test_slices_hold_the_limit_with_threads_racing(store, world):
    """Threads of two processes (two RateSlices) at once: the limit exactly."""
    from concurrent.futures import ThreadPoolExecutor

    clock.fix(T0)
    both = (apiaccess.RateSlices(), apiaccess.RateSlices())

    def one(i: int) -> bool:
        try:
            apiaccess.authenticate(store, world.token, rate_limit=300, slices=both[i % 2])
            return True
        except RateLimited:
            return False

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(400)))
    assert results.count(True) == 300


def test_logged_requests_are_stored_as_the_models_own_rows(store, world):
    """record_requests writes through the driver: every column as SQLAlchemy
    itself stores it (SQLite keeps times as text, whose form ordering and the
    retention's cutoff compare), so the two kinds of rows cannot be told apart."""
    from sqlalchemy import text

    clock.fix(T0)
    caller = apiaccess.authenticate(store, world.token)
    _log(store, caller, 1, T0, path="/v1/ping")
    with store.write() as s:
        s.add(
            ApiRequest(
                account_id=caller.account_id,
                integration_id=caller.integration_id,
                token_id=caller.token_id,
                token_hint=caller.token_hint,
                at=T0,
                method="GET",
                path="/v1/ping",
                status=200,
                latency_ms=1.25,
            )
        )
    with store.read() as s:
        raw = s.execute(
            text(
                "SELECT account_id, integration_id, token_id, token_hint, at, method, path,"
                " status, latency_ms FROM api_request ORDER BY id"
            )
        ).all()
    assert len(raw) == 2 and raw[0] == raw[1]
