"""Round trips of a change on PostgreSQL, counted where they happen: on the wire.

A proxy on loopback (tests/latency_proxy.py, no delay) counts every time the
program sends after the server answered: a round trip, whatever carried it
(BEGIN, COMMIT and pipelined statements included, which SQLAlchemy's statement
events do not all see). Counts are deterministic: no timing here.

Creating a blueprint is 4 (issue 15's budget, the list's refresh included: the
tab shows what the change returned, tests/tui/test_own_change.py):

1. BEGIN with the account's lock and counter, and who acts (store.pgpipe);
2. the integration, the limit's count and the name's check;
3. the blueprint's INSERT (its id is read);
4. the audit entry with the COMMIT (store.pgpipe).

7 before (BEGIN, the counter, the user, the integration, the two INSERTs and
COMMIT each its own).
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from store import audit, blueprints
from store.change import anyone, change
from store.errors import ValidationError
from store.models import AuditEntry, Blueprint

from ..conftest import PG_URL, pg_behind_proxy
from ..latency_proxy import Proxy

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")

BUDGET_CREATE_BLUEPRINT = 4


@pytest.fixture
def on_the_wire(tmp_path):
    """(a store through the counting proxy, the proxy, the owner, the custom integration)."""
    yield from pg_behind_proxy(tmp_path)


def trips(proxy: Proxy, action) -> int:
    before = proxy.round_trips
    action()
    return proxy.round_trips - before


def test_creating_a_blueprint_is_four_round_trips(on_the_wire):
    st, proxy, owner, custom = on_the_wire
    blueprints.create(st, owner, custom, name="Warm")  # the pool's connection made
    # The fewest of three: the proxy counts a chunk sent after an answer as a new
    # round trip, and on a loaded machine (CI, 4 workers on 2 cores) the client can
    # be descheduled between two writes of one pipeline, so that its Sync goes after
    # the server answered what came before it: 5 counted once where 4 were needed.
    made = min(
        trips(proxy, lambda name=name: blueprints.create(st, owner, custom, name=name))
        for name in ("Orders", "Orders 2", "Orders 3")
    )
    print(f"create a blueprint: {made} round trips")
    assert made <= BUDGET_CREATE_BLUEPRINT
    with st.read() as s:
        names = s.exec(select(Blueprint.name).where(Blueprint.account_id == owner.account_id))
        assert sorted(names.all()) == ["Orders", "Orders 2", "Orders 3", "Warm"]
    logged = audit.entries(st, owner.account_id, text="Orders")
    assert [(e.action, e.object_name) for e in logged] == [
        ("blueprint.create", "Orders 3"),
        ("blueprint.create", "Orders 2"),
        ("blueprint.create", "Orders"),
    ]


def test_a_refusal_is_said_and_nothing_is_sent_after_it(on_the_wire):
    st, proxy, owner, custom = on_the_wire
    blueprints.create(st, owner, custom, name="Orders")
    before = proxy.round_trips
    with pytest.raises(ValidationError, match="already exists"):
        blueprints.create(st, owner, custom, name="orders")
    # BEGIN with the counter, then the check that refuses; the ROLLBACK. No INSERT.
    assert proxy.round_trips - before <= 3
    assert len(audit.entries(st, owner.account_id, text="blueprint.create")) == 1


def test_a_statement_that_fails_with_the_commit_commits_nothing(on_the_wire):
    st, _proxy, owner, custom = on_the_wire
    # The audit entry goes with the COMMIT; one for an account that does not
    # exist (a foreign key) aborts the pipeline: the blueprint is not kept either.
    with pytest.raises(IntegrityError, match="foreign key"), change(st, owner, "test") as c:
        c.s.add(
            Blueprint(
                account_id=owner.account_id,
                integration_id=custom,
                name="Half",
                created_at=c.account.created_at,
                created_by="test",
            )
        )
        audit.record(c.s, account_id=10**9, actor="test", action="test.orphan", object_type="test")
    with st.read() as s:
        assert s.exec(select(Blueprint.id).where(Blueprint.name == "Half")).all() == []
        assert s.exec(select(AuditEntry.id).where(AuditEntry.action == "test.orphan")).all() == []
    # The connection is back in the pool, usable: the next change commits.
    created = blueprints.create(st, owner, custom, name="After")
    assert created.name == "After"


def test_a_change_that_sends_nothing_costs_nothing(on_the_wire):
    st, proxy, owner, _custom = on_the_wire
    blueprints.create(st, owner, _custom, name="Warm")

    def nothing() -> None:
        with change(st, None, "nothing", check=anyone, account_id=None):
            pass

    assert trips(proxy, nothing) == 0
    # And the next change's BEGIN is its own: a change after it still commits.
    with change(st, None, "log", check=anyone, account_id=owner.account_id) as c:
        c.log("test.after", "account", owner.account_id)
    assert [e.action for e in audit.entries(st, owner.account_id, text="test.after")] == [
        "test.after"
    ]
