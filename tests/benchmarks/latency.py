"""The program behind a distant PostgreSQL: a throwaway server, a delaying
proxy in front of it, and the program in a pseudo-terminal, as a person sees it.

    .venv/bin/python -m tests.benchmarks.latency                 # delays 0, 10, 50 ms
    .venv/bin/python -m tests.benchmarks.latency --delays 0 10   # fewer
    .venv/bin/python -m tests.benchmarks.latency --code /work/main
                                    # the program of another checkout (a baseline)

The proxy (asyncio, on loopback) holds every chunk of bytes for the delay in
each direction (so a round trip costs twice the delay) and counts round trips:
a chunk the program sends after the server has answered starts a new one. The
server is made for the run (initdb, as .ci/run does) and removed after; the
demo account is built once, before the proxy is used.

Each action is timed from the key written to the terminal until the text that
the finished screen shows first appears in what the program writes (the
first row of a list, a tab's content); its round trips are those counted from
the key until a moment after that text. Not a test: nothing here gates
anything, the figures are read by people.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.latency_proxy import Proxy, free_port

ROOT = Path(__file__).resolve().parents[2]
PGBIN = Path("/usr/lib/postgresql/15/bin")
SETTLE = 0.4  # seconds after the marker during which round trips still count


# -- a throwaway PostgreSQL ----------------------------------------------------------


class Server:
    """initdb + pg_ctl start in a temporary folder (as .ci/run does); stop() removes it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ia-lat-pg-"))
        shutil.chown(self.dir, "postgres") if os.getuid() == 0 else None
        data, log = self.dir / "data", self.dir / "log"
        self._as_pg([str(PGBIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        self._as_pg(
            [str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start"]
        )

    def _as_pg(self, argv: list[str]) -> None:
        if os.getuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def url(self, port: int | None = None) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port or self.port}/postgres"

    def stop(self) -> None:
        try:
            self._as_pg(
                [str(PGBIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"]
            )
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# -- the program in a terminal -----------------------------------------------------------


def build_demo(url: str) -> str:
    """The demo account in a new database of the server; its URL."""
    from sqlalchemy import create_engine, text

    from store import demo
    from store.db import Store

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("DROP DATABASE IF EXISTS latency WITH (FORCE)"))
        c.execute(text("CREATE DATABASE latency"))
    admin.dispose()
    db = url.rsplit("/", 1)[0] + "/latency"
    store = Store(db)
    store.prepare()
    demo.build(store)
    store.dispose()
    # Each tour creates a blueprint: room for many tours (the demo's plan allows 10).
    engine = create_engine(db)
    with engine.begin() as c:
        c.execute(text("UPDATE account SET limit_custom_blueprints = 1000"))
    engine.dispose()
    return db


KEYS = {"enter": b"\r", "down": b"\x1b[B", "ctrl+p": b"\x10", "ctrl+s": b"\x13", "escape": b"\x1b"}


def tour(code: Path, url: str, proxy: Proxy, serial: int) -> dict[str, tuple[float, int]]:
    """Each action: (seconds to its finished screen, round trips)."""
    from tests.benchmarks.terminal import Terminal

    out: dict[str, tuple[float, int]] = {}
    env = {
        "INTEGRATIONS_ADMIN_DB": url,
        "LOGNAME": "maria",  # the demo's owner (getpass reads LOGNAME first)
        "USER": "maria",
        "PYTHONPATH": str(code),
        "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="ia-lat-cfg-"),
    }
    proxy.round_trips = 0
    term = Terminal([sys.executable, "-m", "tui.cli"], cols=100, rows=30, env=env, cwd=str(code))

    def act(name: str, keys: bytes, marker: str, *, timeout: float = 120) -> None:
        time.sleep(0.3)  # what the previous action started has settled
        term.drain()  # its output read: what comes after the key is the key's
        proxy.round_trips = 0
        t0 = time.perf_counter()
        mark = term.send(keys)
        reacted = term.wait_reaction(since=mark, timeout=timeout) + term.started - t0
        seconds = term.wait_for(marker, since=mark, timeout=timeout) + term.started - t0
        end = time.perf_counter() + SETTLE
        while time.perf_counter() < end:
            term._read(0.05)
        out[name] = (seconds, proxy.round_trips)
        out[f"  first reaction to {name.split(' (')[0]}"] = (reacted, -1)

    try:
        # The frame (the section's title, "Connecting to HOST..."), then its data.
        frame = term.wait_for("Integrations", timeout=60)
        out["first frame"] = (frame, proxy.round_trips)
        paint = term.wait_for("Salesforce", timeout=60)
        out["first paint"] = (paint, proxy.round_trips)
        time.sleep(1.0)
        for _ in range(3):
            term.send(KEYS["down"])
            time.sleep(0.1)
        act("open integration", KEYS["enter"], "Connect your own systems")
        act("tab switch (2)", b"2", "Customer master")
        time.sleep(0.3)
        term.send(b"n")
        term.wait_for("Create integration blueprint", since=len(term.raw) - 1, timeout=30)
        time.sleep(0.3)
        term.send(f"Latency {serial}".encode())
        time.sleep(0.3)
        # The new row in the list (a notification may come and go while the list
        # reloads): the name, then the Fields column, 17 columns from its start.
        name = f"Latency {serial}"
        act("create blueprint (ctrl+s)", KEYS["ctrl+s"], name + " " * (17 - len(name)) + "0")
        act("open audit log (a)", b"a", "newest first")
        term.send(b"p")
        term.wait_for("Framework agreement", since=len(term.raw) - 1, timeout=30)
        act("open playbook (enter)", KEYS["enter"], "Deal ID")
        term.send(KEYS["escape"])
        time.sleep(0.3)
        term.send(KEYS["ctrl+p"])
        time.sleep(0.5)
        term.send(b"or")
        time.sleep(1.0)
        act("palette keystroke", b"d", "Open the blueprint")
    except TimeoutError:
        from tests.benchmarks.terminal import visible

        dump = Path(tempfile.gettempdir()) / f"ia-latency-{serial}.txt"
        dump.write_text(visible(bytes(term.raw)))
        print(f"  what the program wrote: {dump}", flush=True)
        raise
    finally:
        term.close()
    return out


def floor_paint() -> float:
    """Seconds from launching the floor (tests/benchmarks/floor_app.py: a bare
    Textual app, no database) in the same pseudo-terminal to its first row: what
    no first paint of a Textual program can beat."""
    from tests.benchmarks.terminal import Terminal

    floor = Path(__file__).with_name("floor_app.py")
    term = Terminal([sys.executable, str(floor)], cols=100, rows=30, cwd=str(ROOT))
    try:
        return term.wait_for("Salesforce", timeout=60)
    finally:
        term.close()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--delays", type=float, nargs="+", default=[0, 10, 50], help="ms, one way")
    p.add_argument("--code", type=Path, action="append", help="checkout(s) to run (default: this)")
    p.add_argument("--runs", type=int, default=1, help="tours per code and delay (medians)")
    p.add_argument(
        "--as-source",
        action="store_true",
        help="do not compile the checkouts first (as an installation does): with "
        "PYTHONDONTWRITEBYTECODE every start then compiles the program's modules",
    )
    args = p.parse_args(argv)
    codes = args.code or [ROOT]
    sys.path.insert(0, str(ROOT))
    if not args.as_source:
        from tests.benchmarks.terminal import compiled

        compiled(*codes)
    server = Server()
    try:
        db = build_demo(server.url())
        db_port = server.port
        results: dict[tuple[str, float], dict[str, tuple[float, int]]] = {}
        floors: list[float] = []
        serial = 0
        for delay in args.delays:
            proxy = Proxy(db_port, delay / 1000)
            try:
                via = db.replace(f":{db_port}/", f":{proxy.port}/")
                for code in codes:
                    print(f"{code} at {delay:g} ms one way ...", flush=True)
                    tours = []
                    for _ in range(args.runs):
                        floors.append(floor_paint())  # alternately with the tours
                        serial += 1
                        try:
                            tours.append(tour(code, via, proxy, serial))
                        except TimeoutError as exc:
                            print(f"  failed: {exc}", flush=True)
                    if tours:
                        results[(str(code), delay)] = {
                            name: (
                                statistics.median(t[name][0] for t in tours if name in t),
                                round(statistics.median(t[name][1] for t in tours if name in t)),
                            )
                            for name in tours[0]
                        }
            finally:
                proxy.close()
        print(
            f"\nThe floor (a bare Textual app, no database), first paint: "
            f"{statistics.median(floors) * 1000:.0f} ms (median of {len(floors)}, "
            "alternately with the tours)"
        )
        for code in codes:
            print(
                f"\n{code}: time to the finished screen (round trips), by one-way delay"
                f" (median of {args.runs})\n"
            )
            head = "| action                       | " + " | ".join(
                f"{d:g} ms".rjust(16) for d in args.delays
            )
            print(head + " |")
            print("|" + "-" * 30 + "|" + "|".join("-" * 17 + ":" for _ in args.delays) + "|")
            names = next((list(r) for (c, _), r in results.items() if c == str(code)), [])
            for name in names:
                cells = []
                for d in args.delays:
                    r = results.get((str(code), d), {}).get(name)
                    if r and r[1] < 0:  # a first reaction: no round trips of its own
                        cells.append(f"{r[0] * 1000:7.0f} ms      ")
                    else:
                        cells.append(f"{r[0] * 1000:7.0f} ms ({r[1]:3d})" if r else "-".rjust(16))
                print(f"| {name:<28} | " + " | ".join(c.rjust(16) for c in cells) + " |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
