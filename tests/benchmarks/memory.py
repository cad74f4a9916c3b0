"""Memory over many openings of the largest playbook, headless, in a fresh
process (``python -m tests.benchmarks.memory [--textual-as-is] [--openings N]``);
prints one JSON object.

The largest playbook of the large account (300 data fields mapped from 5
blueprints of 60 fields, ``large_account.largest_playbook_only``) is opened from
the Playbooks list, its Mappings tab shown, and the list shown again, N times.
After openings 1, 5, 20, 60 and 100 a full ``gc.collect()`` runs and the
process's RSS (VmRSS) is read, with the number of live ``StylesCache`` objects
(one per widget drawn: those of closed screens should be gone).

``--textual-as-is``: without the program's workaround for Textualize/textual#6665
(``tui.textual_compat.unpin_render_caches``), for the before/after figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

CHECKPOINTS = (1, 5, 20, 60, 100)


def rss_kb() -> int:
    return status()["VmRSS"]


def status() -> dict[str, int]:
    """This process's memory and thread counts from /proc/self/status (KiB)."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[key] = int(value.split()[0])
    return out


def sqlite_memory_kb() -> int:
    """What SQLite itself holds (page caches, prepared statements), outside Python's
    allocator: ``sqlite3_memory_used`` of the library the sqlite3 module uses."""
    import ctypes

    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return -1
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return lib.sqlite3_memory_used() // 1024


def pymalloc() -> dict[str, int]:
    """Python's small-object allocator: arenas held, and bytes in used and in free
    blocks (``sys._debugmallocstats``, which writes to the C stderr)."""
    import os
    import re

    read, write = os.pipe()
    saved = os.dup(2)
    os.dup2(write, 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write)
    chunks = []
    while chunk := os.read(read, 1 << 16):
        chunks.append(chunk)
    os.close(read)
    text = b"".join(chunks).decode("ascii", "replace")
    out = {}
    for key, pattern in (
        ("arenas", r"# arenas allocated current\s*=\s*([\d,]+)"),
        ("used_kb", r"# bytes in allocated blocks\s*=\s*([\d,]+)"),
        ("free_kb", r"# bytes in available blocks\s*=\s*([\d,]+)"),
    ):
        m = re.search(pattern, text)
        value = int(m.group(1).replace(",", "")) if m else -1
        out[key] = value if key == "arenas" else value // 1024
    return out


def traced_kb() -> int:
    """Memory allocated by Python since tracing started and still alive (KiB)."""
    import tracemalloc

    return tracemalloc.get_traced_memory()[0] // 1024 if tracemalloc.is_tracing() else -1


def tracing_kb() -> int:
    """What tracemalloc holds for its own traces (KiB), part of RSS while it traces."""
    import tracemalloc

    return tracemalloc.get_tracemalloc_memory() // 1024 if tracemalloc.is_tracing() else 0


def live(type_name: str) -> int:
    return sum(1 for o in gc.get_objects() if type(o).__name__ == type_name)


async def open_and_close(app, pilot, playbook_id: int) -> None:
    """One opening: from the Playbooks list to the playbook, its Mappings tab,
    back to the list (the keys a person presses)."""
    from tests.ui import settle, wait_until
    from tui.screens.playbook import MappingsTab, PlaybookScreen
    from tui.widgets.filter_table import FilterTable

    lst = app.screen.query_one(FilterTable)
    lst.set_rows(lst._rows, select=str(playbook_id))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, PlaybookScreen), tries=2000)
    await app.workers.wait_for_complete()
    await pilot.press("3")

    def mapped() -> bool:
        tabs = app.screen.query(MappingsTab)
        return bool(tabs) and tabs.first().shown is not None

    await wait_until(pilot, mapped, tries=2000)
    await app.workers.wait_for_complete()
    await settle(pilot)
    await pilot.press("p")
    await wait_until(pilot, lambda: not isinstance(app.screen, PlaybookScreen), tries=2000)
    await app.workers.wait_for_complete()
    await settle(pilot)


async def measure(
    url: str,
    login: str,
    playbook_id: int,
    openings: int,
    as_is: bool,
    trace: bool = False,
    trim: bool = False,
    traced_from: int = 0,
) -> dict:
    from store import accounts
    from store.db import Store
    from tui import textual_compat
    from tui.app import IntegrationsAdmin, tune_gc

    tune_gc()  # as the program does (tui/cli.py)
    store = Store(url)
    store.prepare()
    actor = accounts.sign_in(store, login)
    app = IntegrationsAdmin(store, actor)
    if as_is:
        textual_compat.repin_render_caches()
    points: dict[int, dict] = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("p")
        await app.workers.wait_for_complete()
        for n in range(1, openings + 1):
            await open_and_close(app, pilot, playbook_id)
            if n == traced_from:
                import tracemalloc

                gc.collect()
                tracemalloc.start(1)  # from here: what is allocated and still alive
            if n in CHECKPOINTS or n == openings:
                gc.collect()
                before_trim = rss_kb()
                if trim:
                    import ctypes

                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                if trace and n == 5:
                    import tracemalloc

                    snapshot = tracemalloc.take_snapshot()
                if trace:
                    kinds = Counter(type(o).__qualname__ for o in gc.get_objects())
                    if n == 5:
                        kinds_at_5 = kinds
                points[n] = {
                    "rss_kb": rss_kb(),
                    "rss_before_trim_kb": before_trim,
                    "allocated_blocks": sys.getallocatedblocks(),
                    "sqlite_kb": sqlite_memory_kb(),
                    "pool": store.engine.pool.status(),
                    **status(),
                    "pymalloc": pymalloc(),
                    "traced_kb": traced_kb() if traced_from and n >= traced_from else None,
                    "tracing_kb": tracing_kb(),
                    "styles_caches": live("StylesCache"),
                    "widgets_alive": sum(
                        1 for o in gc.get_objects() if o.__class__.__name__ == "MappingsTab"
                    ),
                }
    store.dispose()
    grown = []
    if trace:
        grown.append(sorted((kinds - kinds_at_5).items(), key=lambda kv: -kv[1])[:40])
        import tracemalloc

        diff = tracemalloc.take_snapshot().compare_to(snapshot, "traceback")
        for stat in diff[:25]:
            grown.append([stat.size_diff, stat.count_diff, stat.traceback.format()[-6:]])
    return {
        "grown_since_5": grown,
        "textual_as_is": as_is,
        "openings": openings,
        "seconds": time.perf_counter() - t0,
        "points": points,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--textual-as-is", action="store_true")
    parser.add_argument("--openings", type=int, default=100)
    parser.add_argument("--db", help="a file made by an earlier run (kept)")
    parser.add_argument("--trace", action="store_true", help="what grew (tracemalloc), slow")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) before each reading")
    parser.add_argument(
        "--traced-from",
        type=int,
        default=0,
        metavar="N",
        help="trace allocations from opening N on: traced_kb is what they left alive",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.benchmarks.large_account import largest_playbook_only

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "largest.db"
        meta = path.with_suffix(".json")
        url = f"sqlite:///{path}"
        if meta.exists():
            login, pid = json.loads(meta.read_text())
        else:
            login, pid = largest_playbook_only(url)
            meta.write_text(json.dumps([login, pid]))
        if args.trace:
            import tracemalloc

            tracemalloc.start(1)
        result = asyncio.run(
            measure(
                url,
                login,
                pid,
                args.openings,
                args.textual_as_is,
                args.trace,
                args.trim,
                args.traced_from,
            )
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
