"""``integrations-admin serve``: the integration API on uvicorn, with a dispatcher
beside it; ``integrations-admin dispatch``: a dispatcher alone (store/dispatch.py).

``add_parser`` needs argparse only, so building the program's command line
costs the TUI nothing; FastAPI and uvicorn are imported when ``serve`` runs.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the integration API (for custom integrations' API tokens)",
        description="Serve the HTTP API that custom integrations call with their API tokens. "
        "ctrl+c stops it (requests in flight finish first).",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default: {DEFAULT_HOST}")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes (default 1); they share the rate limit through the database",
    )
    serve.add_argument(
        "--no-dispatch",
        action="store_true",
        help="do not run a dispatcher beside the API (run `integrations-admin dispatch` "
        "elsewhere to send webhook deliveries)",
    )
    dispatch = sub.add_parser(
        "dispatch",
        help="send webhook deliveries: retries, health, retention (ctrl+c stops)",
        description="Run one dispatcher alone: it sends the webhook deliveries the outbox "
        "queued, retries failures on the platform's schedule, keeps each webhook's health "
        "and deletes what is past the account's retention. On PostgreSQL any number may "
        "run, on any machines; on SQLite one is enough (a second waits). ctrl+c or SIGTERM "
        "stops it: sends in flight finish, claims not yet sent are given back.",
    )
    _dispatch_options(dispatch)


def _dispatch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--concurrency",
        type=int,
        default=32,
        metavar="N",
        help="deliveries sent at once, at most (default 32)",
    )
    p.add_argument(
        "--per-webhook",
        type=int,
        default=4,
        metavar="N",
        help="deliveries sent at once to one webhook, at most (default 4)",
    )
    p.add_argument(
        "--lease",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a claim holds if this dispatcher dies (default 60; renewed while it runs)",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=None,
        metavar="SECONDS",
        help="how often to look for due deliveries (default 0.2 on SQLite; 1 on PostgreSQL, "
        "which also wakes on NOTIFY)",
    )
    p.add_argument("--verbose", action="store_true", help="print a line per batch sent")


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, not an address here), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}."
    return None


def _dispatch_refusal(args: argparse.Namespace) -> str | None:
    if not 1 <= args.concurrency <= 1000:
        return f"--concurrency must be 1 to 1000, not {args.concurrency}."
    if not 1 <= args.per_webhook <= 100:
        return f"--per-webhook must be 1 to 100, not {args.per_webhook}."
    if not 1 <= args.lease <= 3600:
        return f"--lease must be 1 to 3600 seconds, not {args.lease}."
    if args.poll is not None and not 0.01 <= args.poll <= 60:
        return f"--poll must be 0.01 to 60 seconds, not {args.poll}."
    return None


def _dispatcher(store, args: argparse.Namespace, say):
    from store.dispatch import Dispatcher

    return Dispatcher(
        store,
        concurrency=getattr(args, "concurrency", 32),
        per_webhook=getattr(args, "per_webhook", 4),
        lease_s=getattr(args, "lease", 60.0),
        poll_s=getattr(args, "poll", None),
        say=say,
        verbose=getattr(args, "verbose", False),
    )


def _say(line: str) -> None:
    print(line, flush=True)


def _summary(stats) -> str:
    return (
        f"Stopped: {stats.sent} attempts sent ({stats.delivered} delivered, {stats.failed} "
        f"failed, {stats.exhausted} exhausted), {stats.released} claims given back."
    )


def dispatch(args: argparse.Namespace) -> int:
    """Run one dispatcher until ctrl+c or SIGTERM; 0 when it stopped cleanly."""
    import asyncio
    import signal

    from store.db import Store
    from store.dispatch import retry_scale

    refusal = _dispatch_refusal(args)
    if refusal:
        print(f"integrations-admin: {refusal}", file=sys.stderr)
        return 2
    store = Store(args.db, create=False)
    store.prepare()
    if store.upgrade_notice:
        print(f"integrations-admin: {store.upgrade_notice}", file=sys.stderr)
    d = _dispatcher(store, args, _say)
    scale = retry_scale()
    print(
        f"Dispatching webhook deliveries from {store.display_location} as {d.id} "
        f"(at most {d.concurrency} at once, {d.per_webhook} per webhook"
        + (f"; retry delays scaled by {scale:g}" if scale != 1 else "")
        + ").\nPress ctrl+c to stop.",
        flush=True,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await d.run(stop)

    try:
        asyncio.run(main())
    finally:
        store.dispose()
    print(_summary(d.stats), flush=True)
    return 0


class _Beside:
    """A dispatcher in a thread of its own, beside uvicorn (``serve``)."""

    def __init__(self, store, args: argparse.Namespace) -> None:
        import asyncio
        import threading

        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self.dispatcher = _dispatcher(store, args, _say)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="dispatcher", daemon=True)

    def _main(self) -> None:
        import asyncio

        async def run() -> None:
            self._stop = asyncio.Event()
            self._ready.set()
            await self.dispatcher.run(self._stop)

        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(run())
        except Exception as exc:  # the API goes on; say why deliveries stopped
            print(f"integrations-admin: the dispatcher stopped: {exc}", file=sys.stderr)
        finally:
            self._ready.set()
            self._loop.close()

    def start(self) -> None:
        self._thread.start()  # not waited for: uvicorn starts meanwhile

    def stop(self) -> None:
        self._ready.wait(30)
        if self._stop is not None and not self._loop.is_closed():
            import contextlib

            with contextlib.suppress(RuntimeError):  # already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)


def serve(args: argparse.Namespace) -> int:
    """Run the API until ctrl+c (or SIGTERM); 0 when it stopped cleanly."""
    if not 0 < args.port < 65536:
        print(f"integrations-admin: --port must be 1 to 65535, not {args.port}.", file=sys.stderr)
        return 2
    if not 1 <= args.workers <= 64:
        print(
            f"integrations-admin: --workers must be 1 to 64, not {args.workers}.", file=sys.stderr
        )
        return 2
    refusal = _cannot_listen(args.host, args.port)
    if refusal:
        print(f"integrations-admin: {refusal}", file=sys.stderr)
        return 2
    import uvicorn

    from store.db import Store

    from .app import create_app, rate_limit

    # Only the program itself creates a database: serve needs one with an account.
    store = Store(args.db, create=False)
    store.prepare()
    if store.upgrade_notice:
        print(f"integrations-admin: {store.upgrade_notice}", file=sys.stderr)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    workers = f" with {args.workers} workers" if args.workers > 1 else ""
    print(
        f"Serving the integration API on http://{shown_host}:{args.port}{workers} "
        f"(OpenAPI docs at /docs)\nDatabase: {store.display_location}\nPress ctrl+c to stop.",
        flush=True,
    )
    common = {
        "host": args.host,
        "port": args.port,
        "log_level": "warning",
        "access_log": False,  # the request log is in the database
        "server_header": False,
        "timeout_graceful_shutdown": 30,
    }
    beside = None
    if not getattr(args, "no_dispatch", False):
        beside = _Beside(store, args)
        beside.start()
        print(
            "A dispatcher runs beside the API (webhook deliveries, retries); "
            "--no-dispatch to run none.",
            flush=True,
        )
    try:
        if args.workers > 1:
            store.dispose()
            os.environ["INTEGRATIONS_ADMIN_DB"] = store.url
            uvicorn.run("api.app:from_environment", factory=True, workers=args.workers, **common)
        else:
            uvicorn.run(create_app(store, rate_limit=rate_limit()), **common)
    except KeyboardInterrupt:  # uvicorn gives ctrl+c back once it has shut down cleanly
        pass
    finally:
        if beside is not None:
            beside.stop()
        store.dispose()
    print("Stopped.", flush=True)
    return 0
