"""The rate limit's slices (store.apiaccess.RateSlices) on SQLite: requests that
find their token's slice empty while another request refills it wait for that
one refill, then take from the new slice, instead of each taking a thread and a
write transaction of its own. A real uvicorn on loopback."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from api.gate import Gate
from store import accounts
from store.db import Store

from ..api_server import ApiServer
from ..contracts_world import build


async def test_concurrent_requests_on_an_empty_slice_share_one_refill(tmp_path, monkeypatch):
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.prepare()
    world = build(store, accounts.sign_in(store, "bench"))
    refills: list[int] = []
    in_flight = 0
    most = 0
    lock = threading.Lock()
    real = Gate._authenticate

    def counted(self, token):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.05)  # long enough for all 16 requests to arrive meanwhile
            caller = real(self, token)
            refills.append(1)
            return caller
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(Gate, "_authenticate", counted)
    headers = {"Authorization": f"Bearer {world.token}"}
    try:
        with ApiServer(store, rate_limit=10_000) as srv:
            async with httpx.AsyncClient(base_url=srv.url, headers=headers) as client:
                answers = await asyncio.gather(*(client.get("/v1/ping") for _ in range(16)))
    finally:
        store.dispose()
    assert [a.status_code for a in answers] == [200] * 16
    # One refill at a time; slices of 1, 2, 4, 8 and 16 serve 16 requests in 5.
    assert most == 1
    assert len(refills) <= 5
