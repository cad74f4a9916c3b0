"""The audit log: filtered in SQL, paged by key, counted, exported as JSON Lines.
Both backends, with 100,000 entries where size matters."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from store import audit
from store.errors import NotFound, ValidationError

from ..helpers import T0, bulk_insert

BIG = 100_000


@pytest.fixture
def big(store, owner):
    """The owner's account with its own entry (account.create) and 100,000 more."""
    bulk_insert(store, owner.account_id, BIG)
    return owner


def test_filter_and_keyset_pages_among_100000(store, big):
    aid = big.account_id
    assert audit.count(store, aid) == BIG + 1
    # By actor: every 1000th entry is carol's, newest first.
    page = audit.entries(store, aid, text="CAROL", limit=50)
    assert [e.object_id for e in page] == list(range(100_000, 50_000, -1000))
    assert all(e.actor == "carol" for e in page)
    assert audit.count(store, aid, text="carol") == 100
    # By action.
    assert audit.count(store, aid, text="webhook.delete") == 200
    # By object name: "object 9999" matches Object 9999 and Object 99990..99999.
    got = audit.entries(store, aid, text="object 9999", limit=100)
    assert sorted(e.object_id for e in got) == sorted([9_999, *range(99_990, 100_000)])
    assert [e.object_id for e in got] == sorted((e.object_id for e in got), reverse=True)
    # Nothing matches.
    assert audit.entries(store, aid, text="no such thing") == []
    assert audit.count(store, aid, text="no such thing") == 0

    # Keyset pages cover a filtered log exactly once (the same 100,000: building
    # them is most of this test's time, so the two checks share them).
    seen: list[int] = []
    before = None
    while True:
        page = audit.entries(store, aid, text="webhook.delete", limit=30, before_id=before)
        if not page:
            break
        seen.extend(e.object_id or 0 for e in page)
        before = page[-1].id
    assert seen == list(range(100_000, 0, -500))


def test_filter_text_is_literal(store, owner):
    aid = owner.account_id
    for name in ("100% done", "a_b", "axb", "back\\slash"):
        with store.write(aid) as s:
            audit.record(
                s, account_id=aid, actor="alice", action="t.x", object_type="t", object_name=name
            )
    assert [e.object_name for e in audit.entries(store, aid, text="100%")] == ["100% done"]
    assert [e.object_name for e in audit.entries(store, aid, text="a_b")] == ["a_b"]
    assert [e.object_name for e in audit.entries(store, aid, text="k\\s")] == ["back\\slash"]
    assert audit.count(store, aid, text="  ") == audit.count(store, aid)


def test_entries_are_per_account(store, owner):
    from store.models import Account

    with store.write() as s:
        other = Account(name="Other", plan="Free", created_at=T0)
        s.add(other)
        s.flush()
        other_id = other.id or 0
        audit.record(s, account_id=other_id, actor="zed", action="x.y", object_type="x")
    assert [e.actor for e in audit.entries(store, owner.account_id)] == ["alice"]
    [theirs] = audit.entries(store, other_id)
    with pytest.raises(NotFound):
        audit.get(store, owner.account_id, theirs.id)
    assert audit.get(store, other_id, theirs.id) == theirs


def test_export_json_lines_with_time_bounds(store, owner):
    aid = owner.account_id
    bulk_insert(store, aid, 2500)
    out = io.StringIO()
    n = audit.export_jsonl(
        store,
        aid,
        out,
        since=T0 + timedelta(minutes=1000),
        until=T0 + timedelta(minutes=2200),
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert n == len(lines) == 1200
    assert [x["object_id"] for x in lines] == list(range(1000, 2200))
    first = lines[0]
    assert first == {
        "id": first["id"],
        "at": "2026-01-01T16:40:00+00:00",
        "actor": "carol",
        "action": "webhook.delete",
        "object_type": "webhook",
        "object_id": 1000,
        "object_name": "Object 1000",
        "detail": "entry 1000",
    }
    # Without bounds: everything, oldest first (the account's creation comes first).
    out = io.StringIO()
    assert audit.export_jsonl(store, aid, out) == 2501
    assert json.loads(out.getvalue().splitlines()[0])["action"] == "account.create"


def test_export_refuses_naive_bounds(store, owner):
    with pytest.raises(ValidationError) as err:
        audit.export_jsonl(store, owner.account_id, io.StringIO(), since=datetime(2026, 1, 1))
    assert err.value.field == "since"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T14:00", datetime(2026, 1, 31, 14, tzinfo=UTC)),
        ("2026-01-31T14:00:00+02:00", datetime(2026, 1, 31, 12, tzinfo=UTC)),
    ],
)
def test_parse_time(text, expected):
    assert audit.parse_time(text, field="since") == expected


def test_parse_time_refuses_nonsense():
    with pytest.raises(ValidationError) as err:
        audit.parse_time("yesterday", field="until")
    assert err.value.field == "until"
    assert "--until 'yesterday' is not a date or time" in str(err.value)
