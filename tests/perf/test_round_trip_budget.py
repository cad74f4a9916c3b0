"""Round trips as a budget (issue 15): the statements the database is sent for
what a person does, counted by SQLAlchemy's ``before_cursor_execute``, on
SQLite and PostgreSQL. Counts are deterministic: no timing here (the latency
figures are in tests/benchmarks/round_trips.py).

- open an integration: at most 4 statements;
- a tab switch: at most 2;
- create a blueprint, the list's refresh included: 1 transaction and 4
  statements (the change: its lock and counter with who acts, the integration
  with the limit's count and the name's check, the two INSERTs; on PostgreSQL
  that is 4 round trips, BEGIN and COMMIT riding with the first and the last:
  tests/perf/test_pg_round_trips.py counts them on the wire). The change left the
  account's counter one above what the screen shows, so no one else changed
  anything meanwhile: the tab shows the blueprint the change returned, with no
  read (tests/tui/test_own_change.py). 16 statements in 3 transactions before
  (the tab read twice, the list, the counts, the integration and the header
  after the change, the count and the name's check apart);
- a palette keystroke: 0 (the palette reads once per opening);
- open the audit log: 3 (its first page, its count, the header; 6 before: the
  first open of a section brings two resumes, and the second read it again).

The change counter's poll (``accounts.changes``, every 2 s) runs on
``quick_read``'s own connection, outside SQLAlchemy: it is not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import event

from store import marketplace
from store.catalog import CUSTOM_KEY
from tui.app import IntegrationsAdmin
from tui.dialogs.form import FormDialog

from ..ui import loaded, screen_text, type_text

BUDGET_OPEN = 4
BUDGET_TAB = 2
BUDGET_CREATE_TRANSACTIONS = 1
BUDGET_CREATE_STATEMENTS = 4
BUDGET_PALETTE_KEY = 0
BUDGET_AUDIT = 3


@dataclass
class Count:
    statements: int = 0
    transactions: int = 0
    sql: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements = self.transactions = 0
        self.sql.clear()


def watch(store) -> Count:
    count = Count()

    def on_execute(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("BEGIN"):
            return  # SQLite's BEGIN is a statement; PostgreSQL's is not: counted as a transaction
        count.statements += 1
        count.sql.append(" ".join(statement.split())[:90])

    def on_begin(_conn) -> None:
        count.transactions += 1

    event.listen(store.engine, "before_cursor_execute", on_execute)
    event.listen(store.engine, "begin", on_begin)
    return count


async def test_round_trips_stay_within_budget(store, owner):
    marketplace.enable(store, owner, CUSTOM_KEY)
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600  # the poll is not counted anyway; keep it out of the way
    count = watch(store)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)

        count.reset()
        await pilot.press("enter")
        assert "Integrations › Custom integration" in screen_text(app)
        assert count.statements <= BUDGET_OPEN, count.sql

        count.reset()
        await pilot.press("2")
        assert "Custom blueprints 0/" in screen_text(app)
        assert count.statements <= BUDGET_TAB, count.sql

        count.reset()
        await pilot.press("n")
        assert isinstance(app.screen, FormDialog)
        await type_text(pilot, "Orders")
        await pilot.press("ctrl+s")
        await loaded(pilot)
        assert "Custom blueprints 1/" in screen_text(app)
        assert count.transactions <= BUDGET_CREATE_TRANSACTIONS, count.sql
        assert count.statements <= BUDGET_CREATE_STATEMENTS, count.sql
        print(
            f"create a blueprint: {count.statements} statements, {count.transactions} transactions"
        )

        await pilot.press("ctrl+p")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await type_text(pilot, "O")
        await pilot.pause()
        count.reset()
        await type_text(pilot, "r")
        await pilot.pause()
        await type_text(pilot, "d")
        await pilot.pause()
        assert count.statements <= BUDGET_PALETTE_KEY, count.sql
        assert "Blueprint: Orders" in screen_text(app)

        await pilot.press("escape")
        await loaded(pilot)
        count.reset()
        await pilot.press("a")
        await loaded(pilot)
        assert "blueprint.create" in screen_text(app)
        assert count.statements <= BUDGET_AUDIT, count.sql


BUDGET_DELIVERY_KEY = 3  # the queue's rows; the log's boundary (when not kept) and its rows


async def test_a_delivery_log_keystroke_reads_only_its_rows(store, owner):
    """A filter keystroke in a webhook's delivery log reads the queue and the log
    matching the filter, not the webhook's settings nor the dispatcher's status
    again (the poll and a reload do): 2 store reads, at most 3 statements."""
    from tui.screens.webhook import WebhookScreen

    from .test_filters import hook_with_log

    hook, _ = hook_with_log(store, owner, 300)
    app = IntegrationsAdmin(store, owner)
    app.CHANGES_POLL_S = 3600
    count = watch(store)
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(WebhookScreen(hook))
        await loaded(pilot)
        await pilot.press("slash")
        await loaded(pilot)
        count.reset()
        await type_text(pilot, "c")
        await loaded(pilot)
        await app.workers.wait_for_complete()
        assert "Delivery log matching 'c'" in screen_text(app)
        print(f"a delivery log keystroke: {count.statements} statements: {count.sql}")
        assert count.statements <= BUDGET_DELIVERY_KEY, count.sql
