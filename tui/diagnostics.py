"""The log to attach to a bug report, and the crash file.

Always: unexpected errors, with their tracebacks, go to
``integrations-admin.log`` in the user log directory (created only when there
is something to write), and the notification names that file. With
``--debug`` (or ``debug = true``): every store transaction with its round trips
and milliseconds (``store.trace``), every worker with its outcome and time,
the screens shown.

Never a secret: nothing here logs a value the user typed, a statement's
parameters, a request or response body, or a URL's password; and a filter on
the log's handler masks anything shaped like a token, a signing key, a
receiver secret or a URL's password that a message or a traceback might
still carry (an exception's message is the program's own words, but the
filter does not rely on that).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import re
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

LOG_NAME = "integrations-admin.log"
LOGGER = "integrations_admin"
HANDLER_NAME = "integrations-admin log file"  # how our handler is told from others
log = logging.getLogger(LOGGER)

# What a secret looks like: API tokens (iadm_...), signing keys and receiver
# secrets (whsec_..., or base64 of 24+ bytes after "key"), a URL's password,
# an Authorization header.
_SECRETS = (
    (re.compile(r"iadm_[0-9A-Za-z_]{8,}"), "iadm_•••"),
    (re.compile(r"whsec_[0-9A-Za-z+/=]{8,}"), "whsec_•••"),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), r"\1•••@"),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+(\s+[^\s\"',]+)?"), r"\1•••"),
    (re.compile(r"(?i)(password|passwd|secret|signing_key|token)=([^\s&,;]+)"), r"\1=•••"),
)


def redact(text: str) -> str:
    """``text`` with anything shaped like a secret masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_path: Path | None = None
_debug = False


def log_path() -> Path:
    from tui import config

    return _path or config.log_dir() / LOG_NAME


def start(*, debug: bool) -> Path:
    """Send the program's log to its file: errors always, everything with
    ``debug``. Returns the file's path. Call once, before the store opens."""
    global _path, _debug
    from store import trace
    from tui import config

    # Where the log goes now (not a path kept from an earlier start in this
    # process, which a test's program may have left without stop()).
    path = config.log_dir() / LOG_NAME
    _path, _debug = path, debug
    handler: logging.Handler
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # delay: the file appears with the first line (an error, or --debug).
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=2, encoding="utf-8", delay=True
        )
    except OSError:
        handler = logging.NullHandler()  # no log folder: the program runs without
    handler.setFormatter(_Redacting("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger(LOGGER)
    for old in list(root.handlers):
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    handler.set_name(HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False
    trace.enable(debug)
    if debug:
        import platform
        import sys

        from store import __version__

        log.info(
            "integrations-admin %s, Python %s, %s; log %s",
            __version__,
            sys.version.split()[0],
            platform.platform(),
            path,
        )
    return path


def stop() -> None:
    """Close the log file (tests start several programs in one process)."""
    global _path, _debug
    from store import trace

    root = logging.getLogger(LOGGER)
    for old in list(root.handlers):
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    trace.enable(False)
    _path, _debug = None, False


def debugging() -> bool:
    return _debug


def unexpected(exc: BaseException, doing: str = "") -> Path:
    """Log an unexpected error with its traceback; returns the log's path."""
    log.error(
        "unexpected error%s: %s",
        f" while {doing}" if doing else "",
        type(exc).__name__,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return log_path()


def write_crash(exc: BaseException) -> Path | None:
    """Write what a crash left (its traceback) in a crash file beside the log;
    returns its path (None when it cannot be written)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = log_path().with_name(f"crash-{stamp}.txt")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            redact(f"integrations-admin crashed at {stamp} UTC\n\n{text}"), encoding="utf-8"
        )
    except OSError:
        return None
    unexpected(exc, "running (the program stopped)")
    return path


def watch_worker(worker) -> None:
    """Log a worker's start and, once it ends, its outcome and time (--debug);
    a worker that failed is logged with its traceback in any case."""
    started = time.perf_counter()
    name = f"{worker.name or 'worker'} ({worker.group})"
    if _debug:
        log.debug("worker %s started", name)

    async def ended() -> None:
        with contextlib.suppress(Exception):
            await worker.wait()
        ms = (time.perf_counter() - started) * 1000
        error = worker.error
        if error is not None:
            log.error(
                "worker %s failed after %.1f ms: %s",
                name,
                ms,
                type(error).__name__,
                exc_info=(type(error), error, error.__traceback__),
            )
        elif _debug:
            log.debug("worker %s %s after %.1f ms", name, worker.state.name.lower(), ms)

    import asyncio

    try:
        task = asyncio.get_running_loop().create_task(ended())
    except RuntimeError:
        return
    _watching.add(task)  # a task nobody holds may be collected before it runs
    task.add_done_callback(_watching.discard)


_watching: set = set()
