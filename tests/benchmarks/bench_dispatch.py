"""The dispatcher benchmark (issue 17). Not a test (pytest ignores this folder);
it prints figures:

    .venv/bin/python -m tests.benchmarks.bench_dispatch \\
        --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres

- **Throughput**, deliveries per second end to end (the events committed ->
  every receiver answer received) to a loopback receiver (its own process, a
  small asyncio HTTP/1.1 server), on SQLite with one dispatcher and on
  PostgreSQL with one and three (``integrations-admin dispatch`` processes,
  started idle before the events are committed), against **the floor**: a bare
  httpx loop in this process sending the same signed requests (payload.prepare)
  to the same receiver with the same concurrency, in the same run.
- **Scale-out**: a receiver that takes 50 ms per request and the same
  concurrency cap per dispatcher: three dispatchers against one on PostgreSQL.
- **Latency**: with an idle dispatcher, the time from a change's commit to the
  first attempt's arrival at the receiver, one event at a time: p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


# -- the receiver (its own process) ------------------------------------------------------


async def _serve(port_file: str, delay_s: float) -> None:
    arrivals: dict[str, float] = {}
    count = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                if lines[0].startswith("GET /stats"):
                    out = json.dumps({"count": count, "arrivals": arrivals}).encode()
                elif lines[0].startswith("GET /reset"):
                    count, out = 0, b"{}"
                    arrivals.clear()
                else:
                    now = time.time()
                    if delay_s:
                        await asyncio.sleep(delay_s)
                    count += 1
                    with contextlib.suppress(ValueError, KeyError):
                        arrivals.setdefault(json.loads(body)["callback_id"], now)
                    out = b"{}"
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(out)).encode()
                    + b"\r\n\r\n"
                    + out
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


class Receiver:
    def __init__(self, delay_s: float = 0.0) -> None:
        fd, self._port_file = tempfile.mkstemp()
        os.close(fd)
        os.unlink(self._port_file)
        self.proc = subprocess.Popen(
            [PY, "-m", "tests.benchmarks.bench_dispatch", "--receiver", self._port_file,
             "--delay", str(delay_s)],
            cwd=ROOT,
        )  # fmt: skip
        while not Path(self._port_file).exists() or not Path(self._port_file).read_text():
            time.sleep(0.02)
        self.port = int(Path(self._port_file).read_text())
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats") as r:
            return json.loads(r.read())

    def count(self) -> int:
        return self.stats()["count"]

    def reset(self) -> None:
        urllib.request.urlopen(f"http://127.0.0.1:{self.port}/reset").read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        Path(self._port_file).unlink(missing_ok=True)


# -- setting up an account -------------------------------------------------------------------


def _fresh(url: str | None, tmp: Path, name: str) -> str:
    if url is None:
        return f"sqlite:///{tmp / (name + '.db')}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    db = f"bench_dispatch_{name}_{os.getpid()}"
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{db}"'))
    eng.dispose()
    return make_url(url).set(database=db).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    eng = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    eng.dispose()


def _account(url: str, receiver: Receiver, hooks: int):
    from store import accounts, marketplace, settings, webhooks
    from store.db import Store

    store = Store(url)
    store.prepare()
    owner = accounts.sign_in(store, "alice")
    custom = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)
    keys = []
    for i in range(hooks):
        key = webhooks.generate_signing_key()
        webhooks.create(store, owner, custom, url=f"{receiver.url}/{i}", sign_key=key)
        keys.append(key)
    return store, owner, keys


def _emit(store, account_id: int, n: int) -> None:
    from store import outbox
    from store.change import anyone, change

    with change(store, None, "emit", check=anyone, account_id=account_id) as c:
        for i in range(n):
            outbox.emit(c, "contract:sign", {"n": i})


def _dispatchers(url: str, n: int, concurrency: int, per_webhook: int) -> list[subprocess.Popen]:
    procs = [
        subprocess.Popen(
            [
                PY,
                "-c",
                "import sys; from tui.cli import main; sys.exit(main())",
                "--db",
                url,
                "dispatch",
                "--concurrency",
                str(concurrency),
                "--per-webhook",
                str(per_webhook),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(n)
    ]
    for p in procs:  # started (its first line printed): idle, waiting for work
        assert p.stdout is not None
        p.stdout.readline()
    time.sleep(1.0)
    return procs


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.communicate(timeout=120)


def _wait_count(receiver: Receiver, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while receiver.count() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {receiver.count()} of {n} received")
        time.sleep(0.01)


# -- the measurements ------------------------------------------------------------------------


def floor(receiver: Receiver, keys: list[str], n: int, concurrency: int) -> float:
    """A bare httpx loop: n signed requests, ``concurrency`` at once."""
    import httpx

    from store import clock, payload

    async def main() -> float:
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(
            limits=httpx.Limits(max_connections=concurrency), trust_env=False
        ) as client:

            async def one(i: int) -> None:
                key = keys[i % len(keys)]
                event = payload.Event(id=i + 1, type="contract:sign", created_at=clock.now())
                async with sem:
                    prep = payload.prepare(f"{receiver.url}/{i % len(keys)}", key, [event])
                    r = await client.post(
                        prep.url, content=prep.body.encode(), headers=prep.headers
                    )
                    assert r.status_code == 200

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n / (time.perf_counter() - started)

    receiver.reset()
    return asyncio.run(main())


def end_to_end(
    url: str,
    receiver: Receiver,
    n: int,
    dispatchers: int,
    concurrency: int,
    hooks: int,
    per_webhook: int = 4,
) -> float:
    """n deliveries (n / hooks events, each to every webhook) committed at once,
    to the last answer; the dispatchers idle beforehand."""
    store, owner, _ = _account(url, receiver, hooks)
    receiver.reset()
    procs = _dispatchers(url, dispatchers, concurrency, per_webhook=per_webhook)
    try:
        started = time.perf_counter()
        _emit(store, owner.account_id, n // hooks)
        _wait_count(receiver, n)
        rate = n / (time.perf_counter() - started)
    finally:
        _stop(procs)
        store.dispose()
    return rate


def latency(url: str, receiver: Receiver, n: int) -> tuple[float, float]:
    """Commit -> first attempt's arrival, one event at a time, idle dispatcher."""
    from sqlmodel import select

    from store.models import EventDelivery

    store, owner, _ = _account(url, receiver, 1)
    receiver.reset()
    procs = _dispatchers(url, 1, 32, 4)
    committed: dict[str, float] = {}
    try:
        for _ in range(n):
            _emit(store, owner.account_id, 1)
            at = time.time()
            with store.read() as s:
                cb = s.exec(
                    select(EventDelivery.callback_id).order_by(EventDelivery.id.desc())  # type: ignore[union-attr]
                ).first()
            committed[cb] = at
            goal = len(committed)
            _wait_count(receiver, goal)
            time.sleep(0.05)  # idle again
        arrivals = receiver.stats()["arrivals"]
    finally:
        _stop(procs)
        store.dispose()
    lat = sorted((arrivals[cb] - at) * 1000 for cb, at in committed.items())
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--receiver")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--latency-n", type=int, default=100)
    p.add_argument(
        "--scale-caps",
        type=int,
        nargs="*",
        default=[1, 2, 4],
        help="the concurrency caps per dispatcher the scale-out is measured at",
    )
    p.add_argument("--only", choices=["throughput", "scale", "latency"], nargs="*")
    args = p.parse_args()
    if args.receiver:
        asyncio.run(_serve(args.receiver, args.delay))
        return
    only = set(args.only or ["throughput", "scale", "latency"])
    tmp = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    hooks = 20
    if "throughput" in only:
        rx = Receiver()
        try:
            keys = [f"whsec_{'A' * 43}="] * hooks
            runs = [("SQLite, 1 dispatcher", None, 1)]
            if args.pg:
                runs += [("PostgreSQL, 1 dispatcher", args.pg, 1), ("PostgreSQL, 3", args.pg, 3)]
            print(f"throughput: {args.n} deliveries to {hooks} webhooks on one loopback receiver")
            for name, base, n_disp in runs:
                f = floor(rx, keys, args.n, args.concurrency)
                url = _fresh(base, tmp, name.split(",")[0].lower() + str(n_disp))
                try:
                    rate = end_to_end(url, rx, args.n, n_disp, args.concurrency, hooks)
                finally:
                    _drop(url)
                print(
                    f"  {name:28} {rate:7.0f} deliveries/s   floor (bare httpx) {f:7.0f}/s   "
                    f"{rate / f:5.0%} of the floor",
                    flush=True,
                )
        finally:
            rx.stop()
    if "scale" in only and args.pg:
        rx = Receiver(delay_s=0.05)
        try:
            n = 600
            for cap in args.scale_caps:
                print(
                    f"scale-out: {n} deliveries to 4 webhooks, 50 ms receiver, "
                    f"{cap} at once per dispatcher (receiver-bound: {20 * cap}/s per dispatcher)"
                )
                rates = {}
                for n_disp in (1, 3):
                    url = _fresh(args.pg, tmp, f"scale{n_disp}")
                    try:
                        rates[n_disp] = end_to_end(url, rx, n, n_disp, cap, 4, per_webhook=cap)
                    finally:
                        _drop(url)
                    print(
                        f"  PostgreSQL, {n_disp} dispatcher(s): {rates[n_disp]:6.1f} deliveries/s",
                        flush=True,
                    )
                print(f"  three / one: {rates[3] / rates[1]:.2f}x", flush=True)
        finally:
            rx.stop()
    if "latency" in only:
        rx = Receiver()
        try:
            print(f"latency: commit -> first attempt, idle dispatcher, {args.latency_n} events")
            for name, base in [("SQLite", None)] + ([("PostgreSQL", args.pg)] if args.pg else []):
                url = _fresh(base, tmp, f"lat{name}")
                try:
                    p50, p99 = latency(url, rx, args.latency_n)
                finally:
                    _drop(url)
                print(f"  {name:12} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms", flush=True)
        finally:
            rx.stop()


if __name__ == "__main__":
    main()
