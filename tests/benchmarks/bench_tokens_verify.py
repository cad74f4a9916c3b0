"""How many ``tokens.verify`` calls per second a store sustains (one thread).

    .venv/bin/python tests/benchmarks/bench_tokens_verify.py            # SQLite
    .venv/bin/python tests/benchmarks/bench_tokens_verify.py PG_ADMIN_URL

With a PostgreSQL URL a throwaway database is created and dropped afterwards.
Target: 5,000 verifications/s on SQLite. Not a test: timings never gate CI.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import accounts, marketplace, tokens
from store.db import Store

N = 5000


def run(url: str) -> float:
    st = Store(url)
    st.prepare()
    try:
        actor = accounts.sign_in(st, "bench")
        iid = marketplace.enable(st, actor, "custom")
        _, tok = tokens.generate(st, actor, iid, name="bench")
        for _ in range(200):  # warm up pools and statement caches
            tokens.verify(st, tok)
        t0 = time.perf_counter()
        for _ in range(N):
            tokens.verify(st, tok)
        return N / (time.perf_counter() - t0)
    finally:
        st.dispose()


def main() -> None:
    if len(sys.argv) < 2:
        with tempfile.TemporaryDirectory() as d:
            rate = run(f"sqlite:///{d}/bench.db")
        print(f"sqlite: {rate:,.0f} verifications/s")
        return
    admin = make_url(sys.argv[1])
    name = f"bench_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        rate = run(admin.set(database=name).render_as_string(hide_password=False))
        print(f"postgresql: {rate:,.0f} verifications/s")
    finally:
        with eng.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


if __name__ == "__main__":
    main()
