"""Round trips behind what a person does: statements, transactions and pool
checkouts per action, on the demo account, through the real App driven by Pilot.

Not a test and not a timing: counts are deterministic, so this prints them for
people (and for the issue that budgets them). Run:

    .venv/bin/python -m tests.benchmarks.round_trips
    .venv/bin/python -m tests.benchmarks.round_trips --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres

On PostgreSQL each statement is a round trip, and so is every BEGIN/COMMIT
and every pool checkout (pool_pre_ping); on SQLite they are function calls, so
the same counts show what a team's remote database would pay.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, text

from store import demo
from store.db import Store


@dataclass
class Counter:
    statements: int = 0
    begins: int = 0
    checkouts: int = 0
    sql: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.statements = self.begins = self.checkouts = 0
        self.sql.clear()

    def snapshot(self) -> Counter:
        return Counter(self.statements, self.begins, self.checkouts, list(self.sql))

    @property
    def round_trips(self) -> int:
        # BEGIN and its COMMIT/ROLLBACK are one round trip each on PostgreSQL.
        return self.statements + 2 * self.begins + self.checkouts


def watch(store: Store) -> Counter:
    counter = Counter()

    def on_execute(_conn, _cursor, statement, _params, _context, _many) -> None:
        counter.statements += 1
        counter.sql.append(" ".join(statement.split())[:100])

    def on_begin(_conn) -> None:
        counter.begins += 1

    def on_checkout(*_args) -> None:
        counter.checkouts += 1

    event.listen(store.engine, "before_cursor_execute", on_execute)
    event.listen(store.engine, "begin", on_begin)
    event.listen(store.engine.pool, "checkout", on_checkout)
    return counter


async def tour(store: Store, actor, counter: Counter) -> list[tuple[str, Counter]]:
    from tui.app import IntegrationsAdmin

    from ..ui import type_text

    results: list[tuple[str, Counter]] = []

    async def measure(label: str, act: Callable[[], object]) -> None:
        await pilot.pause()
        await asyncio.sleep(0.2)
        counter.reset()
        await act()
        for _ in range(20):
            await pilot.pause(0.02)
        await asyncio.sleep(0.2)
        await pilot.pause()
        results.append((label, counter.snapshot()))

    app = IntegrationsAdmin(store, actor)
    counter.reset()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        results.append(("start: first screen (Integrations)", counter.snapshot()))
        await measure("open an integration (enter)", lambda: pilot.press("enter"))
        await measure("tab switch (2 Integration blueprints)", lambda: pilot.press("2"))
        await measure("tab switch (3 API tokens)", lambda: pilot.press("3"))
        await measure("tab switch (4 Webhooks)", lambda: pilot.press("4"))
        await measure("back (escape)", lambda: pilot.press("escape"))
        await measure("Playbooks (p)", lambda: pilot.press("p"))
        await measure("Audit log (a)", lambda: pilot.press("a"))
        await measure("palette open (ctrl+p)", lambda: pilot.press("ctrl+p"))
        await measure("palette keystroke", lambda: type_text(pilot, "s"))
        await measure("palette keystroke (2nd)", lambda: type_text(pilot, "a"))
        await pilot.press("escape")
    return results


def run(url: str, label: str) -> None:
    store = Store(url)
    store.prepare()
    built = demo.build(store)
    counter = watch(store)
    results = asyncio.run(tour(store, built.owner, counter))
    print(f"\n{label}")
    row = "  {:<40} {:>10} {:>12} {:>9} {:>11}"
    print(row.format("action", "statements", "transactions", "checkouts", "round trips"))
    for name, c in results:
        print(row.format(name, c.statements, c.begins, c.checkouts, c.round_trips))
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL server URL (a throwaway database is made there)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'rt.db'}", "SQLite (demo account)")
    if args.pg:
        name = f"rt_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(args.pg.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL (demo account)")
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
