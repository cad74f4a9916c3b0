"""``integrations-admin serve``: the integration API on uvicorn.

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
        store.dispose()
    print("Stopped.", flush=True)
    return 0
