"""store.driver: a quick change's statements run through the driver on SQLite,
with the same values written and read back as SQLAlchemy's own execution, in
the change's one transaction; everywhere else they are SQLAlchemy's. Both
backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, event, select
from sqlalchemy.exc import IntegrityError

from store import driver, trace
from store.change import change
from store.models import AuditEntry, Integration

_t = AuditEntry.__table__  # type: ignore[attr-defined]
_i = Integration.__table__  # type: ignore[attr-defined]
INSERT = driver.Prepared(_t.insert().returning(_t.c.id))
INSERT_MANY = driver.Prepared(_t.insert())
READ = driver.Prepared(
    select(_t.c.id, _t.c.at, _t.c.object_id, _t.c.detail.label("said")).where(
        _t.c.account_id == bindparam("account_id"), _t.c.action == bindparam("action")
    )
)
ENABLED = driver.Prepared(select(_i.c.id, _i.c.enabled).where(_i.c.account_id == bindparam("a")))
AT = datetime(2026, 12, 3, 10, 30, 15, 123456, tzinfo=UTC)


def _entry(account_id: int, action: str, object_id: int | None) -> dict:
    return {
        "account_id": account_id,
        "at": AT,
        "actor": "test",
        "action": action,
        "object_type": "test",
        "object_id": object_id,
        "object_name": "",
        "detail": "said <b>[red]",
    }


@pytest.fixture
def statements(store):
    """Every statement SQLAlchemy itself sends, while the test runs."""
    seen: list[str] = []

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(store.engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(store.engine, "before_cursor_execute", on_execute)


@pytest.mark.parametrize("quick", [True, False])
def test_what_a_prepared_statement_writes_and_reads_is_what_sqlalchemy_would(
    store, owner, custom, quick, statements
):
    aid = owner.account_id
    with change(store, owner, "test", quick=quick) as c:
        first = INSERT.run(c.s, _entry(aid, "test.one", 7))[0].id
        INSERT_MANY.run(c.s, [_entry(aid, "test.many", n) for n in (1, None, 3)])
        assert INSERT_MANY.run(c.s, []) == []
        rows = READ.run(c.s, {"account_id": aid, "action": "test.one"})
        many = READ.run(c.s, {"account_id": aid, "action": "test.many"})
        flags = ENABLED.run(c.s, {"a": aid})
        during = [s for s in statements if s in ("INSERT", "SELECT")]
    # Read back inside the change, by name and by position, as SQLAlchemy's rows are.
    assert [(r.id, r.at, r.object_id, r.said) for r in rows] == [(first, AT, 7, "said <b>[red]")]
    assert [tuple(r)[2] for r in many] == [1, None, 3]
    assert [(r.id, r.enabled) for r in flags] == [(custom, True)]
    assert type(flags[0].enabled) is bool
    # And as SQLAlchemy reads what was committed.
    with store.read() as s:
        got = s.exec(select(AuditEntry).where(AuditEntry.id == first)).one()[0]
        assert (got.at, got.object_id, got.detail) == (AT, 7, "said <b>[red]")
        assert got.at.tzinfo is not None
    # The change's own check (may_manage: the user, through the ORM) is SQLAlchemy's;
    # a change that is not quick read it with the account's counter (the UPDATE).
    # (A RETURNING of many rows is SQLAlchemy's too: the driver's executemany returns none.)
    checked = ["SELECT"] if quick else []
    if quick and store.is_sqlite:
        assert during == checked  # the driver ran every prepared one
    else:
        assert during == checked + ["INSERT"] * 2 + ["SELECT"] * 3


def test_a_driver_error_is_sqlalchemys_and_the_change_writes_nothing(store, owner):
    aid = owner.account_id
    with pytest.raises(IntegrityError), change(store, owner, "test", quick=True) as c:
        INSERT.run(c.s, _entry(aid, "test.kept?", 1))
        INSERT.run(c.s, _entry(10**9, "test.orphan", 1))  # no such account: a foreign key
    with store.read() as s:
        assert s.exec(select(AuditEntry.id).where(AuditEntry.action == "test.kept?")).all() == []


def test_the_driver_path_counts_its_round_trips(store, owner):
    if not store.is_sqlite:
        pytest.skip("PostgreSQL's statements are SQLAlchemy's, counted by trace.instrument")
    was = trace.enabled()
    trace.enable()
    try:
        with change(store, owner, "test", quick=True) as c:
            before = trace.round_trips()
            READ.run(c.s, {"account_id": owner.account_id, "action": "none"})
            INSERT_MANY.run(c.s, [_entry(owner.account_id, "test.n", n) for n in range(3)])
            assert trace.round_trips() - before >= 2
    finally:
        trace.enable(was)


def test_a_returning_of_many_rows_is_sqlalchemys_and_returns_them(store, owner):
    with change(store, owner, "test", quick=True) as c:
        rows = INSERT.run(c.s, [_entry(owner.account_id, "test.r", n) for n in range(3)])
    assert len(rows) == 3 and len({r.id for r in rows}) == 3
