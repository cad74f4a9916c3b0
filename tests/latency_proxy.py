"""A TCP proxy on loopback that delays what it forwards, counts round trips,
and can go silent (a dropped VPN): for the latency benchmark
(tests/benchmarks/latency.py) and the tests of the database away."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """A TCP proxy on loopback in a thread of its own: every chunk is held
    ``delay`` seconds in each direction; ``round_trips`` counts the program's
    sends that follow an answer of the server (per connection). ``silent``:
    nothing is forwarded (a dropped VPN) until it is cleared."""

    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self.target_port = target_port
        self.delay = delay
        self.round_trips = 0
        self.silent = threading.Event()
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="latency-proxy", daemon=True)
        self._thread.start()
        self._started.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._server = server
        self._started.set()
        self._loop.run_forever()

    async def _serve(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cw.close()
            return
        state = {"answered": True}  # the first send of a connection starts a round trip

        async def pipe(r, w, upstream: bool) -> None:
            queue: asyncio.Queue = asyncio.Queue()

            async def deliver() -> None:
                while True:
                    due, data = await queue.get()
                    if data is None:
                        break
                    wait = due - self._loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    while self.silent.is_set():
                        await asyncio.sleep(0.02)
                    w.write(data)
                    await w.drain()
                w.close()

            sender = asyncio.ensure_future(deliver())
            try:
                while True:
                    data = await r.read(65536)
                    if not data:
                        break
                    if upstream and state["answered"]:
                        self.round_trips += 1
                        state["answered"] = False
                    elif not upstream:
                        state["answered"] = True
                    queue.put_nowait((self._loop.time() + self.delay, data))
            except (ConnectionError, OSError):
                pass
            finally:
                queue.put_nowait((0, None))
                with contextlib.suppress(ConnectionError, OSError):
                    await sender

        try:
            await asyncio.gather(pipe(cr, sw, True), pipe(sr, cw, False), return_exceptions=True)
        except asyncio.CancelledError:
            # close(): asyncio's start_server would log a cancelled handler's
            # CancelledError with a traceback for each connection still open.
            return

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(5)
