"""The benchmark: builds the large account once, then measures and prints a
table of medians. Not a test (pytest ignores this folder): timings never gate
anything, they are read by people.

    .venv/bin/python -m tests.benchmarks              # everything, medians of 7 runs
    .venv/bin/python -m tests.benchmarks --runs 15    # steadier medians
    .venv/bin/python -m tests.benchmarks --keep DIR   # keep (or reuse) the large account in DIR
    .venv/bin/python -m tests.benchmarks --scale 1m   # a million rows in each log (slow to build)
    .venv/bin/python -m tests.benchmarks --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres
                                                      # store operations on PostgreSQL too

What it measures (see README, Performance):

- the demo's first paint (``demo``: copying its template, building at start;
  ``--demo-only`` for this alone, ``--base DIR`` for a checkout from before);
- first paint with data: from launching the process in an 80x24 pseudo-terminal
  to the Integrations list's first row being written, for the program on the
  large account and, alternately in the same run, for a bare Textual app
  painting a Header, a DataTable with the same rows and a Footer (the floor);
- ``python -X importtime`` of that start, up to the first paint;
- the largest playbook (300 data fields, 5 connected blueprints of 60 fields):
  opening it from the list, then its Mappings tab (headless, tests/benchmarks/ui_tour.py);
- one filter keystroke in the audit log (100,000 entries) and in the busy
  webhook's delivery log (100,000 deliveries);
- peak RSS of the program with the large account open;
- the store's queries behind those screens, alone;
- store operations per second: create a blueprint field, generate an API token,
  verify an API token (SQLite; PostgreSQL too with --pg).

It replaces the former bench_tokens_verify.py and bench_playbook_page.py.
The whole run takes a few minutes, most of it building the account (about
10 s) and starting programs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
APP = [PY, "-m", "tui.cli"]
FLOOR = [PY, str(Path(__file__).with_name("floor_app.py"))]
MARKER = "Salesforce"  # the first row of the Integrations list (and of the floor's table)
# Modules that the first paint must not wait for.
NOT_BEFORE_PAINT = (
    "httpx",
    "pyperclip",
    "alembic",
    "psycopg",
    "tui.screens.marketplace",
    "tui.screens.playbooks",
    "tui.screens.playbook",
    "tui.screens.audit",
    "tui.screens.integration",
    "tui.screens.webhook",
    "tui.commands",
    "tui.dialogs.form",
)

sys.path.insert(0, str(ROOT))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def mb(kib: float) -> str:
    return f"{kib / 1024:7.0f} MB"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {date.today()}, load average {load:.1f}"
    )


# -- first paint --------------------------------------------------------------------


def paint_once(argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> tuple[float, int]:
    from tests.benchmarks.terminal import Terminal

    term = Terminal(argv, env=env, cwd=str(cwd))
    try:
        seconds = term.wait_for(MARKER)
        return seconds, term.peak_rss_kb()
    finally:
        term.close()


def first_paint(db: str, runs: int) -> dict:
    env = {"INTEGRATIONS_ADMIN_DB": db}
    app_argv = APP
    floor, app, rss = [], [], []
    paint_once(FLOOR, env)  # warm the page cache for both programs
    paint_once(app_argv, env)
    for _ in range(runs):  # alternate, so both see the same machine
        floor.append(paint_once(FLOOR, env)[0])
        seconds, kb = paint_once(app_argv, env)
        app.append(seconds)
        rss.append(kb)
    return {
        "floor": statistics.median(floor),
        "app": statistics.median(app),
        "ratio": statistics.median(app) / statistics.median(floor),
        "pair_ratios": [a / f for a, f in zip(app, floor, strict=True)],
        "rss_at_paint_kb": statistics.median(rss),
    }


def demo_first_paint(runs: int, base: Path | None = None) -> dict:
    """``integrations-admin demo`` from its launch to its first row on screen,
    alternating with the floor: copying the account's template (made by a first
    start); building the account at every start, as before (a cache folder that
    cannot be written makes the demo build in place); and, with ``base`` (a
    checkout of the program before the template, e.g. ``git archive main``),
    that program itself."""
    with tempfile.TemporaryDirectory(prefix="ia-bench-demo-") as tmp:
        blocked = Path(tmp) / "not-a-folder"
        blocked.write_text("")
        env = {"TMPDIR": tmp, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        env_built = {**env, "XDG_CACHE_HOME": str(blocked)}
        demo = [*APP, "demo"]
        runs_of: dict[str, list[float]] = {"floor": [], "template": [], "built": [], "base": []}
        paint_once(FLOOR, env)  # warm the page cache; the first demo makes the template
        paint_once(demo, env)
        if base is not None:
            paint_once([PY, "-m", "tui.cli", "demo"], env_built, base)
        for _ in range(runs):  # alternate, so all see the same machine
            runs_of["floor"].append(paint_once(FLOOR, env)[0])
            runs_of["template"].append(paint_once(demo, env)[0])
            runs_of["built"].append(paint_once(demo, env_built)[0])
            if base is not None:
                argv = [PY, "-m", "tui.cli", "demo"]
                runs_of["base"].append(paint_once(argv, env_built, base)[0])
    out = {k: statistics.median(v) for k, v in runs_of.items() if v}
    floor = out["floor"]
    out["ratios"] = {k: v / floor for k, v in out.items() if k != "floor"}
    out["pair_ratios"] = [t / f for t, f in zip(runs_of["template"], runs_of["floor"], strict=True)]
    return out


def demo_rows(dp: dict) -> list[tuple[str, str, str]]:
    r = dp["ratios"]
    rows = [
        ("Demo first paint, floor (bare Textual app)", ms(dp["floor"]), ""),
        ("Demo first paint, copying its template", ms(dp["template"]), ""),
        ("  ratio to the floor", f"{r['template']:7.2f} x", "<= 2 x"),
        ("Demo first paint, building its account at start", ms(dp["built"]), ""),
        ("  ratio to the floor", f"{r['built']:7.2f} x", ""),
    ]
    if "base" in dp:
        rows += [
            ("Demo first paint, the program before (--base)", ms(dp["base"]), ""),
            ("  ratio to the floor", f"{r['base']:7.2f} x", ""),
        ]
    return rows


def print_table(rows: list[tuple[str, str, str]], runs: int) -> None:
    print(f"\nMedians of {runs} runs. Machine: {machine()}\n")
    print(f"| {'measure':<50} | {'median':>11} | {'target':<11} |")
    print(f"|{'-' * 52}|{'-' * 13}:|{'-' * 13}|")
    for label, value, target in rows:
        print(f"| {label:<50} | {value:>11} | {target:<11} |")


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


def import_times(db: str) -> dict:
    """One start under ``-X importtime`` in the terminal, up to the first paint
    (its report goes to stderr, which is the terminal, like Textual's frames)."""
    from tests.benchmarks.terminal import Terminal, visible

    argv = [PY, "-X", "importtime", "-m", "tui.cli"]
    term = Terminal(argv, env={"INTEGRATIONS_ADMIN_DB": db}, cwd=str(ROOT))
    try:
        term.wait_for(MARKER)
        text = visible(bytes(term.raw))
    finally:
        term.close()
    text = text[: text.find(MARKER)]
    modules = []
    for m in _IMPORT_LINE.finditer(text):
        self_us, cumulative_us, indent, name = m.groups()
        modules.append((name, int(self_us), int(cumulative_us), len(indent) // 2))
    by_package: dict[str, int] = {}
    for name, self_us, _, _ in modules:
        top = name.split(".")[0]
        by_package[top] = by_package.get(top, 0) + self_us
    loaded = {name for name, *_ in modules}
    return {
        "total_ms": sum(s for _, s, _, _ in modules) / 1000,
        "count": len(modules),
        "packages": sorted(by_package.items(), key=lambda kv: -kv[1])[:10],
        "modules": sorted(((n, s) for n, s, _, _ in modules), key=lambda kv: -kv[1])[:10],
        "too_early": [
            name
            for name in NOT_BEFORE_PAINT
            if any(m == name or m.startswith(name + ".") for m in loaded)
        ],
        "sqlalchemy_before_paint": "sqlalchemy" in loaded,
    }


# -- screens ------------------------------------------------------------------------------


def screens(url: str, ids: dict, runs: int) -> dict:
    out = subprocess.run(
        [PY, "-m", "tests.benchmarks.ui_tour", url, json.dumps(ids), str(runs)],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the screen tour failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- store operations ----------------------------------------------------------------------


def rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t0)


def timed(fn, runs: int) -> float:
    fn()  # warm statement caches
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def store_reads(url: str, la, runs: int) -> dict:
    """The store's share of the screens' timings: the queries alone."""
    from store import audit, deliveries, playbooks
    from store.db import Store

    st = Store(url)
    aid, hook = la.account_id, la.busy_webhook_id
    try:
        return {
            "playbook_detail": timed(
                lambda: playbooks.detail(st, aid, la.largest_playbook_id), runs
            ),
            "playbook_list": timed(lambda: playbooks.all_for_account(st, aid), runs),
            "audit_page_m": timed(lambda: audit.entries(st, aid, text="m"), runs),
            "audit_count_m": timed(lambda: audit.count(st, aid, text="m"), runs),
            "audit_page_q": timed(lambda: audit.entries(st, aid, text="q"), runs),
            "deliveries_f": timed(lambda: deliveries.deliveries(st, hook, text_filter="f"), runs),
            "deliveries_q": timed(lambda: deliveries.deliveries(st, hook, text_filter="q"), runs),
        }
    finally:
        st.dispose()


def store_ops(url: str, la, runs: int) -> dict:
    from store import accounts, blueprints, tokens
    from store.db import Store

    st = Store(url)
    st.prepare()
    try:
        owner = accounts.sign_in(st, la.login)
        tag = uuid.uuid4().hex[:6]
        _, tok = tokens.generate(st, owner, la.custom_integration_id, name=f"verify {tag}")
        for _ in range(200):  # warm pools and statement caches
            tokens.verify(st, tok)
        field, gen, ver = [], [], []
        for r in range(runs):
            field.append(
                rate(
                    lambda i, r=r: blueprints.add_field(
                        st, owner, la.field_blueprint_id, name=f"Bench {tag} {r}.{i}"
                    ),
                    100,
                )
            )
            gen.append(
                rate(
                    lambda i, r=r: tokens.generate(
                        st, owner, la.custom_integration_id, name=f"Bench {tag} {r}.{i}"
                    ),
                    100,
                )
            )
            ver.append(rate(lambda i: tokens.verify(st, tok), 2000))
        return {
            "create_field": statistics.median(field),
            "generate_token": statistics.median(gen),
            "verify_token": statistics.median(ver),
        }
    finally:
        st.dispose()


def pg_store_ops(admin_url: str, runs: int) -> dict:
    """The same store operations on a throwaway PostgreSQL database (small account)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from store import accounts, blueprints, marketplace
    from tests.benchmarks.large_account import LargeAccount

    admin = make_url(admin_url)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        from store.db import Store

        st = Store(url)
        owner = accounts.sign_in(st, "bench")
        custom = marketplace.enable(st, owner, "custom")
        bp = blueprints.create(st, owner, custom, name="Bench").id
        st.dispose()
        la = LargeAccount(url, "bench", owner.account_id, 0, 0, custom, bp, {})
        return store_ops(url, la, runs)
    finally:
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


# -- the report -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m tests.benchmarks", description=(__doc__ or "").split("\n")[0]
    )
    p.add_argument("--runs", type=int, default=7, help="runs per measurement (default 7)")
    p.add_argument("--keep", metavar="DIR", help="build the large account in DIR, or reuse it")
    p.add_argument("--pg", metavar="URL", help="also run the store operations on PostgreSQL")
    p.add_argument(
        "--demo-only", action="store_true", help="only the demo's first paint (no large account)"
    )
    p.add_argument(
        "--base",
        metavar="DIR",
        help="a checkout of the program before (git archive main | tar -x -C DIR): "
        "its demo's first paint too",
    )
    p.add_argument(
        "--scale",
        default="100k",
        choices=("100k", "1m"),
        help="rows of each log: audit entries, deliveries, API requests (default 100k)",
    )
    args = p.parse_args(argv)
    scale = {"100k": 100_000, "1m": 1_000_000}[args.scale]
    base = Path(args.base) if args.base else None
    from tests.benchmarks.terminal import compiled

    compiled(ROOT, *([base] if base else []))  # as an installation would
    if args.demo_only:
        print(f"Machine: {machine()}")
        print(f"\nDemo first paint ({args.runs} runs each, alternating) ...", flush=True)
        dp = demo_first_paint(args.runs, base)
        print_table(demo_rows(dp), args.runs)
        print("\nDemo first paint, template/floor per run: ")
        print("  " + ", ".join(f"{r:.2f}" for r in dp["pair_ratios"]))
        return

    from tests.benchmarks import large_account

    print(f"Machine: {machine()}")
    tmp = None
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="ia-bench-")
        folder = Path(tmp.name)
    db = folder / "large.db"
    meta = folder / "large.json"
    url = f"sqlite:///{db}"
    if db.exists() and meta.exists():
        la = large_account.LargeAccount(**json.loads(meta.read_text()))
        print(f"Reusing the large account in {db}")
    else:
        print(f"Building the large account in {db} ...")
        t0 = time.perf_counter()
        la = large_account.build(url, scale=scale)
        meta.write_text(json.dumps(asdict(la)))
        print(f"  built in {time.perf_counter() - t0:.1f} s")
    print("  " + ", ".join(f"{v:,} {k}" for k, v in la.counts.items()))
    print(f"  database file {db.stat().st_size / 1e6:.0f} MB")

    try:
        print(f"\nFirst paint ({args.runs} runs each, alternating) ...", flush=True)
        fp = first_paint(str(db), args.runs)
        print("Demo first paint ...", flush=True)
        dp = demo_first_paint(args.runs, base)
        print("Import times of the start ...", flush=True)
        imp = import_times(str(db))
        print("Screens (headless tour) ...", flush=True)
        ids = {
            "login": la.login,
            "largest_playbook_id": la.largest_playbook_id,
            "busy_webhook_id": la.busy_webhook_id,
        }
        sc = screens(url, ids, args.runs)
        print("Store operations ...", flush=True)
        reads = store_reads(url, la, args.runs)
        ops = store_ops(url, la, args.runs)
        pg = pg_store_ops(args.pg, args.runs) if args.pg else None
    finally:
        if tmp is not None:
            tmp.cleanup()

    rows = [
        ("First paint with data, floor (bare Textual app)", ms(fp["floor"]), ""),
        ("First paint with data, integrations-admin", ms(fp["app"]), ""),
        ("  ratio to the floor", f"{fp['ratio']:7.2f} x", "<= 2 x"),
        *demo_rows(dp),
        ("Open the largest playbook (enter in the list)", ms(sc["playbook_open"]), ""),
        ("  then its Mappings tab (3)", ms(sc["mappings_tab"]), ""),
        (
            "  together",
            ms(sc["playbook_open"] + sc["mappings_tab"]),
            "<= 150 ms",
        ),
        ("Audit log filter keystroke (100,000 entries)", ms(sc["audit_filter"]), "<= 50 ms"),
        ("  of which the rows on screen (count still coming)", ms(sc["audit_filter_rows"]), ""),
        ("  a keystroke that matches nothing", ms(sc["audit_filter_nomatch"]), "<= 50 ms"),
        ("Delivery log filter keystroke (100,000)", ms(sc["deliveries_filter"]), "<= 50 ms"),
        ("  a keystroke that matches nothing", ms(sc["deliveries_filter_nomatch"]), "<= 50 ms"),
        ("  (harness: a key that does nothing)", ms(sc["noop"]), ""),
        ("Peak RSS, after the tour of large screens", mb(sc["peak_rss_kb"]), "<= 200 MB"),
        ("  RSS at first paint", mb(fp["rss_at_paint_kb"]), ""),
        ("Store: the largest playbook (playbooks.detail)", ms(reads["playbook_detail"]), ""),
        ("Store: the list of 100 playbooks", ms(reads["playbook_list"]), ""),
        ("Store: audit page filtered by 'm'", ms(reads["audit_page_m"]), ""),
        ("Store: audit count filtered by 'm'", ms(reads["audit_count_m"]), ""),
        ("Store: audit page filtered by 'q' (no match)", ms(reads["audit_page_q"]), ""),
        ("Store: deliveries filtered by 'f'", ms(reads["deliveries_f"]), ""),
        ("Store: deliveries filtered by 'q' (no match)", ms(reads["deliveries_q"]), ""),
        ("Create a blueprint field (SQLite)", f"{ops['create_field']:7,.0f} /s", ""),
        ("Generate an API token (SQLite)", f"{ops['generate_token']:7,.0f} /s", ""),
        ("Verify an API token (SQLite)", f"{ops['verify_token']:7,.0f} /s", ">= 5,000 /s"),
    ]
    if pg:
        rows += [
            ("Create a blueprint field (PostgreSQL)", f"{pg['create_field']:7,.0f} /s", ""),
            ("Generate an API token (PostgreSQL)", f"{pg['generate_token']:7,.0f} /s", ""),
            ("Verify an API token (PostgreSQL)", f"{pg['verify_token']:7,.0f} /s", ""),
        ]
    print_table(rows, args.runs)
    print("\nFirst paint, app/floor per run: " + ", ".join(f"{r:.2f}" for r in fp["pair_ratios"]))
    print(
        f"\npython -X importtime, up to the first paint: {imp['count']} modules, "
        f"{imp['total_ms']:.0f} ms of imports (self times summed; importtime itself slows them)"
    )
    print("  by package: " + ", ".join(f"{n} {us / 1000:.0f} ms" for n, us in imp["packages"]))
    print("  top modules: " + ", ".join(f"{n} {us / 1000:.1f} ms" for n, us in imp["modules"]))
    print(
        "  loaded before the first paint, and should not be: "
        + (", ".join(imp["too_early"]) if imp["too_early"] else "none")
    )
    early = "yes" if imp["sqlalchemy_before_paint"] else "no"
    print(f"  SQLAlchemy loaded before the first paint: {early}")


if __name__ == "__main__":
    main()
