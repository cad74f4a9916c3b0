"""One read off the UI thread for what a key needs before its dialog opens (the
blueprints a playbook could connect, what creating data fields from a blueprint
would do, the playbooks a required field leaves incomplete): the screen's load
(tui/screens/loading.py) did not read it, as most presses never need it.

``read_then(node, fn, *args, on_done=...)`` calls the store function
``fn(*args)`` in a daemon thread (``tui.saving.run_in_daemon``), in one read
transaction, inside an async worker of ``node``: closing the node cancels it
and its answer is dropped; a second press replaces a read still on its way. The
value goes to ``on_done`` on the UI thread. A ``DomainError`` goes to
``on_error`` when given (a form: under its field), else to ``App.report``, as
anything unexpected; ``on_done`` is then not called. Tests and scripts wait
for it as for a load (``App.load_running``; ``settled`` waits for the group
``READ_GROUP``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.css.query import NoMatches
from textual.widget import Widget
from textual.worker import get_current_worker

from store.errors import DomainError

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin

HOLD_S = 0.025  # how long a search keystroke's echo may wait for its rows (started_now)
READ_GROUP = "read"  # the workers' group (one per node: a newer read replaces one);
# tui/screens/loading.py WAITED_GROUPS names it


def read_then(
    node: Widget,
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], Any],
    on_error: Callable[[DomainError], Any] | None = None,
) -> None:
    """Read ``fn(*args)`` in a worker of ``node``; its value to ``on_done``."""
    admin = cast("IntegrationsAdmin", node.app)
    label = f"{type(node).__name__}.{getattr(fn, '__name__', 'read')}"
    worker = node.run_worker(
        partial(_read_off_the_loop, node, admin, label, fn, args, on_done, on_error),
        exclusive=True,
        group=READ_GROUP,
        name=f"read {label}",
        exit_on_error=False,
    )
    admin.load_running(worker)  # pending, as a load, until it ends or is cancelled


async def _read_off_the_loop(
    node: Widget,
    admin: IntegrationsAdmin,
    label: str,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    on_done: Callable[[Any], Any],
    on_error: Callable[[DomainError], Any] | None,
) -> None:
    import inspect

    from tui.saving import run_in_daemon

    def read() -> Any:
        with admin.store.together(label=label):
            return fn(*args)

    try:
        value = await run_in_daemon(read)  # cancelled: a newer read, or the node went
    except DomainError as exc:
        if node.is_attached and not get_current_worker().is_cancelled:
            (on_error or admin.report)(exc)
        return
    except Exception as exc:  # one place reports the unexpected, never a crash
        admin.report(exc)
        return
    if get_current_worker().is_cancelled or not node.is_attached:
        return
    try:
        result = on_done(value)
        if inspect.isawaitable(result):
            await result
    except NoMatches:
        return  # taken down meanwhile (closing, switching)
    except Exception as exc:  # one place reports the unexpected, never a crash
        admin.report(exc)


def started_now(admin: IntegrationsAdmin, label: str, fn: Callable[[], Any]) -> Any:
    """``fn()`` started at once in a daemon thread, in one read transaction; an
    asyncio future of its outcome, for an async worker to await.

    For a keystroke's search: a thread worker's thread starts when its task
    first runs, and Textual runs that task after the frame with the key's echo
    (3-8 ms later, measured in a pseudo-terminal); started here, it runs at once.
    Meanwhile the screen's updates are held (``hold_frames``, at most ``HOLD_S``):
    the key's echo comes with the answer's rows, in one frame.
    The awaiting worker keeps what Textual's workers give: ``exclusive`` cancels
    an older search (its answer is then dropped), leaving the screen cancels it,
    and tests wait for it (``workers.wait_for_complete``)."""
    from tui.saving import run_in_daemon
    from tui.textual_compat import hold_frames

    def read() -> Any:
        with admin.store.together(label=label):
            return fn()

    pending = run_in_daemon(read)
    # The key's echo waits for the answer (at most HOLD_S), and both come in one
    # frame: drawn meanwhile, the echo took the interpreter from the query's
    # Python part (a 3 ms read took 9-18 ms) and the rows waited a frame more.
    # Released after the awaiting worker's step, which shows the answer: this
    # callback, added before the worker awaits, runs first as the future settles
    # and queues the release behind the worker's wake-up.
    release = hold_frames(admin, HOLD_S)
    pending.add_done_callback(lambda _: asyncio.get_running_loop().call_soon(release))
    return pending
