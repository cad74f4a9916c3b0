"""Two administrators at once: two real processes (spawned, nothing shared) on
one SQLite file and on one PostgreSQL database.

Limits hold exactly when both hit them at the same moment; when both edit the
same field from what they read, the second is told the object changed
(Conflict) and nothing is silently lost; a busy database never shows the
driver's "database is locked".
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from store import accounts, audit, blueprints, clock, marketplace, playbooks, users
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.errors import StoreUnavailable
from store.models import Blueprint, BlueprintField, DataField

from . import (
    ProcessPair,
    load_v1,
    open_together,
    race_blueprints,
    race_data_fields,
    race_same_field,
)


@pytest.fixture(scope="module")
def pair():
    procs = ProcessPair()
    yield procs
    procs.close()


@pytest.fixture
def carol(store, owner):
    """A second administrator with the permission."""
    users.add(store, owner, "carol", can_manage=True)
    return accounts.sign_in(store, "carol")


def _no_crash(*outcomes: list[str]) -> None:
    for out in outcomes:
        assert not [o for o in out if o.startswith("CRASH")], out
        assert not [o for o in out if "locked" in o], out


def _actions(store, account_id: int, action: str) -> int:
    return sum(1 for e in audit.entries(store, account_id, limit=10_000) if e.action == action)


def test_both_create_blueprints_up_to_the_limit(pair, store, owner, carol):
    limit = 24
    accounts.set_plan_and_limits(
        store, owner.account_id, operator="test", limits={"custom_blueprints": limit}
    )
    iid = marketplace.enable(store, owner, CUSTOM_KEY)

    a, b = pair.run(
        race_blueprints, (store.url, owner, iid, "Alice"), (store.url, carol, iid, "Carol")
    )

    _no_crash(a, b)
    for out in (a, b):
        assert all(o == "ok" for o in out[:-1])
        assert out[-1] == (
            f"LimitReached: This account already has {limit} of {limit} custom blueprints: "
            "delete one or ask your operator to raise the limit."
        )
    assert a.count("ok") + b.count("ok") == limit
    assert accounts.account_info(store, owner.account_id).custom_blueprints == limit
    with store.read() as s:
        assert s.exec(select(func.count()).select_from(Blueprint)).one() == limit
    assert _actions(store, owner.account_id, "blueprint.create") == limit


def test_both_add_data_fields_up_to_300(pair, store, owner, carol):
    pb = playbooks.create(store, owner, name="Shared playbook")
    # Most of the 300 are there already (written directly: the race is what is tested).
    with store.write(owner.account_id) as s:
        for n in range(270):
            s.add(
                DataField(
                    playbook_id=pb.id, name=f"Existing {n}", position=n, created_at=clock.now()
                )
            )

    a, b = pair.run(
        race_data_fields, (store.url, owner, pb.id, "Alice"), (store.url, carol, pb.id, "Carol")
    )

    _no_crash(a, b)
    for out in (a, b):
        assert all(o == "ok" for o in out[:-1])
        assert out[-1].startswith("LimitReached: 'Shared playbook' already has 300 of 300 data")
    assert a.count("ok") + b.count("ok") == 30
    assert playbooks.get(store, owner.account_id, pb.id).data_field_count == 300
    with store.read() as s:
        assert s.exec(select(func.count()).select_from(DataField)).one() == 300


def test_both_edit_the_same_field_second_is_told_it_changed(pair, store, owner, carol):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Orders")
    field = blueprints.add_field(store, owner, bp.id, name="Order number")
    rounds = 4

    a, b = pair.run(
        race_same_field,
        (store.url, owner, field.id, "Alice", rounds),
        (store.url, carol, field.id, "Carol", rounds),
    )

    _no_crash(a, b)
    conflict = (
        "Conflict: The field '{}' was changed by someone else meanwhile; reopen it to see the "
        "latest version."
    )
    last_winner = None
    for r, (x, y) in enumerate(zip(a, b, strict=True)):
        assert sorted([x, y])[0].startswith("Conflict:") and sorted([x, y])[1] == "ok", (r, x, y)
        last_winner = "Alice" if x == "ok" else "Carol"
        loser = y if x == "ok" else x
        assert loser == conflict.format(f"{last_winner} round {r}")
    with store.read() as s:
        f = s.get(BlueprintField, field.id)
        assert f is not None
        # Every accepted edit is there, none overwritten unseen: one per round.
        assert (f.name, f.version) == (f"{last_winner} round {rounds - 1}", 1 + rounds)
        assert f.description == f"edited by {last_winner}"
    assert _actions(store, owner.account_id, "field.update") == rounds


def test_two_programs_upgrade_a_v1_database_at_once(pair, db_url):
    load_v1(db_url)
    results = pair.run(open_together, (db_url,), (db_url,))
    assert sorted(results, key=repr) == [(False, 1), (False, None)]
    st = Store(db_url)
    st.prepare()
    assert (st.created, st.upgraded_from) == (False, None)
    alice = accounts.sign_in(st, "alice")
    assert len(blueprints.all_for_account(st, alice.account_id)) == 4
    st.dispose()


def test_two_programs_create_a_new_database_at_once(pair, db_url):
    results = pair.run(open_together, (db_url,), (db_url,))
    assert sorted(results, key=repr) == [(False, None), (True, None)]


def test_a_long_write_elsewhere_says_busy_never_locked(store, owner):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    impatient = Store(store.url, lock_timeout_s=0.3)
    impatient.prepare()
    # Another program holds the write lock (an open transaction that wrote).
    if store.is_sqlite:
        other = sqlite3.connect(store.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
    else:
        info = make_url(store.url).set(drivername="postgresql")
        other = psycopg.connect(info.render_as_string(hide_password=False))
        other.execute("SELECT id FROM account WHERE id = %s FOR UPDATE", (owner.account_id,))
    try:
        with pytest.raises(StoreUnavailable) as err:
            blueprints.create(impatient, owner, iid, name="Waiting")
        assert str(err.value) == (
            "The database is busy with another administrator's change; try again."
        )
        assert blueprints.all_for_account(impatient, owner.account_id) == []  # reads still work
    finally:
        other.rollback()
        other.close()
    blueprints.create(impatient, owner, iid, name="Waiting")  # and it works once free
    assert [b.name for b in blueprints.all_for_account(store, owner.account_id)] == ["Waiting"]
    impatient.dispose()
