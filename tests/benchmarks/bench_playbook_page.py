"""The largest playbook (300 data fields, 5 blueprints of 60 fields each):
how long the store takes to load it, and how long the page takes to react to
keys, headless at 80x24.

    .venv/bin/python tests/benchmarks/bench_playbook_page.py            # SQLite
    .venv/bin/python tests/benchmarks/bench_playbook_page.py PG_ADMIN_URL

With a PostgreSQL URL a throwaway database is created and dropped afterwards.
The UI timings include Pilot's own wait for the screen to settle; compare them
with the "no-op key" line, which is that overhead alone. Not a test: timings
never gate CI.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store import accounts, playbooks
from store.db import Store
from tests.test_store_playbooks import bulk_blueprint


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:6.1f} ms, max {max(samples) * 1000:6.1f} ms"


def timed(fn, n: int = 20) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def build(st: Store):
    owner = accounts.sign_in(st, "bench")
    pb = playbooks.create(st, owner, name="Largest")
    for i in range(5):
        bp = bulk_blueprint(st, owner, f"Blueprint {i}", 60, f"B{i} field")
        playbooks.connect(st, owner, pb.id, bp)
        playbooks.create_data_fields_from_blueprint(st, owner, pb.id, bp)
    for i in range(99):
        playbooks.create(st, owner, name=f"Playbook {i:02d}")
    return owner, pb


async def ui(st: Store, owner) -> None:
    from tui.app import IntegrationsAdmin

    app = IntegrationsAdmin(st, owner)
    async with app.run_test(size=(80, 24)) as pilot:

        async def keys(label: str, *pressed: str, n: int = 5, after: tuple[str, ...] = ()):
            samples = []
            for _ in range(n):
                t0 = time.perf_counter()
                await pilot.press(*pressed)
                await pilot.pause()
                samples.append(time.perf_counter() - t0)
                if after:
                    await pilot.press(*after)
                    await pilot.pause()
            print(f"  {label:<38} {ms(samples)}")

        await keys("no-op key (Pilot overhead)", "x")
        await keys("p: the list of 100 playbooks", "p", n=1)
        await keys("enter: open the largest playbook", "enter", after=("escape",))
        await pilot.press("enter")
        await pilot.pause()
        await keys("3: Mappings tab (300 rows)", "3", after=("1",))
        await keys("1: Data fields tab (300 rows)", "1", after=("3",))
        await pilot.press("3", "slash")
        await pilot.pause()
        await keys("a filter keystroke over 300 rows", "b", after=("backspace",))
        await pilot.press("escape")
        await pilot.pause()
        await keys("enter: data field picker (301 rows)", "enter", after=("escape",))


def run(url: str) -> None:
    st = Store(url)
    st.prepare()
    try:
        owner, pb = build(st)
        aid = owner.account_id
        playbooks.detail(st, aid, pb.id)  # warm up pools and statement caches
        for label, fn in (
            ("store: detail (300 + 5 + 300 rows)", lambda: playbooks.detail(st, aid, pb.id)),
            ("store: list of 100 playbooks", lambda: playbooks.all_for_account(st, aid)),
            ("store: completeness", lambda: playbooks.completeness(st, aid, pb.id)),
        ):
            print(f"  {label:<38} {ms(timed(fn))}")
        asyncio.run(ui(st, owner))
    finally:
        st.dispose()


def main() -> None:
    if len(sys.argv) < 2:
        with tempfile.TemporaryDirectory() as d:
            print("sqlite:")
            run(f"sqlite:///{d}/bench.db")
        return
    admin = make_url(sys.argv[1])
    name = f"bench_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        print("postgresql:")
        run(admin.set(database=name).render_as_string(hide_password=False))
    finally:
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


if __name__ == "__main__":
    main()
