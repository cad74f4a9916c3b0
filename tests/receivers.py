"""Real webhook receivers on loopback for the dispatcher's tests and benchmark:
a threaded HTTP server that records every request (time, headers, body) and
answers what its ``answer`` function says (status, headers), optionally after
a delay."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    path: str
    headers: dict[str, str]
    body: str

    @property
    def callback_id(self) -> str:
        return json.loads(self.body)["callback_id"]


Answer = Callable[["Receiver", Received], tuple[int, dict[str, str]]]


def always(status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return lambda _r, _req: (status, headers or {})


def in_turn(*statuses: int | tuple[int, dict[str, str]]) -> Answer:
    """Answer the n-th request to each callback id with the n-th status (the last
    one repeats)."""

    def answer(r: Receiver, req: Received) -> tuple[int, dict[str, str]]:
        n = sum(1 for x in r.requests if x.callback_id == req.callback_id) - 1
        got = statuses[min(n, len(statuses) - 1)]
        return got if isinstance(got, tuple) else (got, {})

    return answer


@dataclass
class Receiver:
    answer: Answer = field(default_factory=always)
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the sender died mid-request: nothing was delivered
                    self.close_connection = True
                    return
                body = raw.decode("utf-8")
                req = Received(
                    time.monotonic(),
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with receiver._lock:
                    receiver.requests.append(req)
                    status, headers = receiver.answer(receiver, req)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                out = b"{}"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a sender killed mid-request (the fault tests): nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- `integrations-admin listen` as a process ------------------------------------

LISTEN_WAIT_S = 120  # a loaded machine starts Python slowly; a condition ends the wait


class Listen:
    """A running `integrations-admin listen` and the lines it printed."""

    def __init__(self, *args: str, db: str | None = None, stdin: str = "") -> None:
        env = {**os.environ, "USER": "alice", "LOGNAME": "alice", "PYTHONUNBUFFERED": "1"}
        cmd = [sys.executable, "-m", "tui.cli"]
        if db:
            cmd += ["--db", db]
        self.proc = subprocess.Popen(
            [*cmd, "listen", "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(stdin)
        self.proc.stdin.close()
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        first = self.next_line()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found, first
        self.url = found.group(0)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for text in self.proc.stdout:
            self.lines.put(text.rstrip("\n"))

    def next_line(self, containing: str = "") -> str:
        """The next printed line (that contains ``containing``)."""
        deadline = time.monotonic() + LISTEN_WAIT_S
        while True:
            try:
                text = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line with {containing!r}: {self.seen}") from None
            self.seen.append(text)
            if containing in text:
                return text

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
