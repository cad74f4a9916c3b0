"""The API benchmark: requests per second and p50/p99 latency of ``GET /v1/ping``
and ``POST /v1/contracts`` on ``integrations-admin serve`` (one process, SQLite,
and PostgreSQL with --pg), against the floor: a bare FastAPI app answering ``{}``
on the same uvicorn (tests/benchmarks/floor_api.py), alternately in the same run.
Not a test (pytest ignores this folder); it prints figures.

    .venv/bin/python -m tests.benchmarks.bench_api
    .venv/bin/python -m tests.benchmarks.bench_api --rounds 5 --seconds 5 \\
        --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres

The load comes from another process: a small asyncio HTTP/1.1 client holding
``--connections`` keep-alive connections (16), so that the client costs far
less than the server. Server and client share the machine's cores. The rate
limit (2000 per token per 5 minutes) would stop a benchmark after a second:
the servers measured here run with it raised (INTEGRATIONS_ADMIN_API_RATE_LIMIT),
the count itself still written for every request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


# -- the client (run as its own process) --------------------------------------------


async def _worker(host, port, request: bytes, deadline: float, lat: list, statuses: dict):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _load(host: str, port: int, request: bytes, seconds: float, connections: int) -> dict:
    # A short warm-up, not counted.
    await asyncio.gather(
        *(_worker(host, port, request, time.perf_counter() + 0.5, [], {}) for _ in range(4))
    )
    lat: list[float] = []
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_worker(host, port, request, deadline, lat, statuses) for _ in range(connections))
    )
    took = time.perf_counter() - start
    lat.sort()
    return {
        "n": len(lat),
        "rps": len(lat) / took,
        "p50_ms": lat[len(lat) // 2] * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "statuses": statuses,
    }


def client_main(args: argparse.Namespace) -> None:
    request = Path(args.request).read_bytes()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(
        json.dumps(
            asyncio.run(_load("127.0.0.1", args.port, request, args.seconds, args.connections))
        )
    )


# -- the driver ------------------------------------------------------------------------


def _request(method: str, path: str, token: str | None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Server:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.api_server import free_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            [a.replace("{port}", str(self.port)) for a in args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/openapi.json", timeout=1)
                return
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    why = self.proc.stderr.read().decode() if self.proc.stderr else ""
                    raise RuntimeError(why) from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


def _measure(port: int, request: bytes, seconds: float, connections: int, tmp: Path) -> dict:
    path = tmp / f"req-{uuid.uuid4().hex}"
    path.write_bytes(request)
    out = subprocess.run(
        [
            PY,
            "-m",
            "tests.benchmarks.bench_api",
            "--client",
            "--port",
            str(port),
            "--request",
            str(path),
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _world(url: str):
    sys.path.insert(0, str(ROOT))
    from store import accounts
    from store.db import Store
    from tests.contracts_world import build

    store = Store(url)
    store.prepare()
    world = build(store, accounts.sign_in(store, "bench"))
    store.dispose()
    return world


def _pg_database(admin: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()

    return make_url(admin).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--request", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, default=4.0, help="each measurement (default 4)")
    p.add_argument("--connections", type=int, default=16, help="keep-alive connections (16)")
    p.add_argument("--rounds", type=int, default=3, help="rounds, medians printed (default 3)")
    p.add_argument("--pg", metavar="URL", help="a PostgreSQL server to measure on too")
    args = p.parse_args()
    if args.client:
        client_main(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    backends: list[tuple[str, str, object]] = [("SQLite", f"sqlite:///{tmp / 'api.db'}", None)]
    if args.pg:
        url, drop = _pg_database(args.pg)
        backends.append(("PostgreSQL", url, drop))
    env = {"INTEGRATIONS_ADMIN_API_RATE_LIMIT": str(10**9)}
    floor_cmd = [
        PY, "-m", "uvicorn", "tests.benchmarks.floor_api:app", "--port", "{port}",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    results: dict[str, list[dict]] = {}

    def record(label: str, r: dict) -> None:
        results.setdefault(label, []).append(r)
        print(
            f"  {label:<32} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.2f} ms  "
            f"p99 {r['p99_ms']:6.2f} ms  {r['statuses']}",
            flush=True,
        )

    try:
        worlds = {name: (url, _world(url)) for name, url, _ in backends}
        for rnd in range(1, args.rounds + 1):
            print(f"round {rnd}", flush=True)
            floor = Server(floor_cmd, {})
            record("floor: bare FastAPI GET /v1/ping", _measure(
                floor.port, _request("GET", "/v1/ping", None), args.seconds, args.connections, tmp
            ))  # fmt: skip
            floor.stop()
            for name, (url, world) in worlds.items():
                serve = Server(
                    [PY, "-c", "import sys; from tui.cli import main; sys.exit(main())",
                     "--db", url, "serve", "--port", "{port}"],
                    env,
                )  # fmt: skip
                ping = _request("GET", "/v1/ping", world.token)
                record(f"{name}: GET /v1/ping", _measure(
                    serve.port, ping, args.seconds, args.connections, tmp
                ))  # fmt: skip
                body = json.dumps(
                    {
                        "playbook_id": world.playbook_id,
                        "name": "Order 1001",
                        "values": {"Amount": "1200.00", "Customer": "Northwind Traders"},
                    }
                ).encode()
                create = _request("POST", "/v1/contracts", world.token, body)
                record(f"{name}: POST /v1/contracts", _measure(
                    serve.port, create, args.seconds, args.connections, tmp
                ))  # fmt: skip
                serve.stop()
    finally:
        for _, _, drop in backends:
            if drop is not None:
                drop()  # type: ignore[operator]

    print(f"\nMedians of {args.rounds} rounds, {args.seconds:g} s each, "
          f"{args.connections} connections, {os.cpu_count()} CPUs:")  # fmt: skip
    floor_rps = statistics.median(r["rps"] for r in results["floor: bare FastAPI GET /v1/ping"])
    for label, rs in results.items():
        rps = statistics.median(r["rps"] for r in rs)
        p50 = statistics.median(r["p50_ms"] for r in rs)
        p99 = statistics.median(r["p99_ms"] for r in rs)
        ratio = f"  {rps / floor_rps:4.0%} of the floor" if "ping" in label else ""
        print(f"  {label:<32} {rps:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms{ratio}")


if __name__ == "__main__":
    main()
