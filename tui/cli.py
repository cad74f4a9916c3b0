"""Command line: open the store, choose the user, start the App; operator subcommands."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from store import __version__
from store.errors import DomainError
from store.refusals import PERMISSION
from store.validate import not_unicode
from tui.format import minute, plural

LIMIT_NAMES = ("custom_blueprints", "connected_blueprints", "data_fields", "playbooks")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="integrations-admin",
        description="Connect your contract platform to your other systems, from the keyboard.",
    )
    p.add_argument("--version", action="version", version=f"integrations-admin {__version__}")
    p.add_argument(
        "--db",
        metavar="URL",
        help="database URL or SQLite file path (default: $INTEGRATIONS_ADMIN_DB, else a "
        "SQLite file in your user data directory); PostgreSQL: postgresql+psycopg://...",
    )
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="the database of profile NAME in the settings file ([profiles.NAME] db = ...; "
        "default: $INTEGRATIONS_ADMIN_PROFILE, else the file's profile = ...)",
    )
    p.add_argument(
        "--presenter",
        action="store_true",
        help="presenter mode: show the keys pressed in a corner (for recordings)",
    )
    p.add_argument(
        "--theme",
        metavar="NAME",
        help="colour theme (textual-dark, textual-light, nord, ...; default: the settings "
        "file's, else textual-dark); one chosen in the palette is saved there",
    )
    p.add_argument(
        "--debug",
        action="store_true",
        help="write a diagnostic log in your user log directory (store calls, round trips, "
        "workers, errors; never a secret)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    cfg = sub.add_parser(
        "config",
        help="the settings file: where it is, what is in force and from where, check it",
    )
    cfg_sub = cfg.add_subparsers(dest="action", required=True, metavar="ACTION")
    cfg_sub.add_parser("path", help="print where the settings file is (it need not exist)")
    cfg_sub.add_parser(
        "show", help="every setting in force and where it came from (flag, environment, file)"
    )
    cfg_sub.add_parser(
        "check",
        help="read the file as the program would: exit 0 when all is well, 1 with warnings "
        "(an unknown setting, key id or theme), 2 when it cannot be used (with its line)",
    )
    sub.add_parser(
        "keys", help="every binding id, its key in force (your keymap applied) and what it does"
    )

    sub.add_parser("where", help="print where the database is")

    acc = sub.add_parser("account", help="the account's plan and limits (operator)")
    acc_sub = acc.add_subparsers(dest="action", required=True, metavar="ACTION")
    acc_sub.add_parser("show", help="plan, limits and usage")
    acc_set = acc_sub.add_parser(
        "set",
        help="change the plan and limits",
        description="Change the plan and limits. A change that stops something working (a "
        "plan that does not include an enabled integration: it is suspended, nothing is "
        "deleted, a plan that includes it restores it) or sets a limit below current use is "
        "listed first and needs a confirmation: y on a terminal, --yes otherwise.",
    )
    acc_set.add_argument("--plan", choices=("Free", "Essentials", "Business", "Enterprise"))
    acc_set.add_argument(
        "--yes",
        action="store_true",
        help="confirm what the change stops or puts over a limit (needed without a terminal)",
    )
    acc_set.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help=f"set a limit; NAME is one of {', '.join(LIMIT_NAMES)} (repeatable)",
    )

    users = sub.add_parser("users", help="the account's users (operator or owner)")
    u_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    u_sub.add_parser("list", help="every user, role and permission")
    u_add = u_sub.add_parser("add", help="add a user by OS login")
    u_add.add_argument("login")
    u_add.add_argument("--name", default="")
    u_add.add_argument("--manage", action="store_true", help=f"grant '{PERMISSION}'")
    u_add.add_argument("--owner", action="store_true", help="make them an owner")
    for verb, text in (
        ("grant", f"grant '{PERMISSION}'"),
        ("withdraw", f"withdraw '{PERMISSION}'"),
        ("promote", "make a user an owner (owners manage users and always have the permission)"),
        ("demote", "make an owner a member (never the last owner; keeps the permission)"),
        ("remove", "remove a user (never the last owner); the audit log keeps what they did"),
    ):
        x = u_sub.add_parser(verb, help=text)
        x.add_argument("login")

    aud = sub.add_parser("audit", help="the audit log")
    a_sub = aud.add_subparsers(dest="action", required=True, metavar="ACTION")
    a_exp = a_sub.add_parser(
        "export",
        help="write entries as JSON Lines (one object per line), oldest first",
        description="Write audit entries as JSON Lines, oldest first. Times are ISO 8601; "
        "a bound without a time zone is UTC; --since is inclusive, --until exclusive.",
    )
    a_exp.add_argument("--since", metavar="TIME", help="from this time (e.g. 2026-01-01)")
    a_exp.add_argument("--until", metavar="TIME", help="up to, not including, this time")
    a_exp.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of standard output"
    )

    toks = sub.add_parser("tokens", help="API tokens (for integrators)")
    t_sub = toks.add_subparsers(dest="action", required=True, metavar="ACTION")
    t_sub.add_parser(
        "verify",
        help="check a token read from standard input: exit 0 and name its integration "
        "when valid, exit 1 with the reason otherwise (a valid check counts as a use)",
        description="Check an API token. The token is read from standard input, never "
        "from the command line (where other users and the shell history would see it): "
        "pipe it in (`integrations-admin tokens verify < token.txt`), or type or paste it "
        "at the prompt, which does not echo it. Exit 0 and name its integration when "
        "valid, 1 with the reason otherwise; a valid check counts as a use.",
    )
    lis = sub.add_parser(
        "listen",
        help="a local webhook receiver: checks both signatures, one line per delivery",
        description="Receive webhook deliveries on this machine: each one's time, event, "
        "callback id, whether both signatures verified (or why not: wrong key, altered "
        "body, old timestamp) and its size, one line per delivery. Answers 200, or 500 to "
        "the first N (--fail N: watch the retries), or forwards to a local service and "
        "returns its answer. Without a key, deliveries are shown as not checked.",
    )
    lis.add_argument("--port", type=int, default=8787, help="default 8787 (0: any free port)")
    lis.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1")
    whose = lis.add_mutually_exclusive_group()
    whose.add_argument(
        "--webhook",
        type=int,
        metavar="ID",
        help="verify with this webhook's signing key (and, during a rotation, its previous "
        "one), read from the database (audit-logged as a reveal)",
    )
    whose.add_argument(
        "--key",
        metavar="KEY",
        help="verify with this key (whsec_... or a typed key); '-' reads it from standard "
        "input, out of the shell history",
    )
    lis.add_argument(
        "--forward-to", metavar="URL", help="send each delivery on to URL, answer with its answer"
    )
    lis.add_argument(
        "--fail", type=int, default=0, metavar="N", help="answer 500 to the first N deliveries"
    )
    lis.add_argument(
        "--tolerance",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how old a webhook-timestamp may be (default 300, as the Standard Webhooks libraries)",
    )
    trig = sub.add_parser(
        "trigger",
        help="send a sample event to webhooks through the outbox and the dispatcher",
        description="Queue a sample EVENT (its payload says sample; the body's contract id "
        "is 0 unless --contract) for the webhooks that receive it: the one given, an "
        "integration's, or the account's. The dispatcher (`integrations-admin serve` or "
        "`dispatch`) sends it, signed and logged, with its retries. Prints each "
        "delivery's callback id; --wait prints each attempt as the dispatcher makes it. "
        "Exit 0 when queued (with --wait: when every delivery is delivered), 1 when one "
        "is exhausted or cancelled, 2 when refused.",
    )
    trig.add_argument("event", nargs="?", metavar="EVENT", help="e.g. contract:sign")
    trig.add_argument("--list", action="store_true", help="print every event type and exit")
    trig_to = trig.add_mutually_exclusive_group()
    trig_to.add_argument("--webhook", type=int, metavar="ID", help="only this webhook")
    trig_to.add_argument(
        "--integration", metavar="NAME", help="this integration's webhooks (name or key)"
    )
    trig.add_argument("--contract", type=int, metavar="ID", help="about this contract")
    trig.add_argument(
        "--wait",
        action="store_true",
        help="print each attempt's outcome until every delivery is delivered or given up "
        "(ctrl+c stops waiting; the dispatcher goes on)",
    )
    demo = sub.add_parser(
        "demo",
        help="the program on a demo account, in a temporary database deleted afterwards",
        description="Open the program on a realistic demo account (Northwind Traders, a fixed "
        "clock) in a temporary database, deleted afterwards; never your own database. "
        "Webhook tests go to a receiver the demo starts on 127.0.0.1.",
    )
    demo.add_argument(
        "--play",
        metavar="SCRIPT",
        help="replay a script of key presses at a human pace (e.g. demo/main-story.txt)",
    )
    demo.add_argument(
        "--speed", type=float, default=1.0, help="divide the script's pauses by this (default 1)"
    )
    demo.add_argument(
        "--record",
        metavar="FILE.cast",
        help="with --play: write an asciicast v2 recording of what the terminal shows, with "
        "real timings (play it with `asciinema play FILE.cast`); the demo quits at the end",
    )
    demo.add_argument(
        "--size",
        metavar="COLSxROWS",
        default="100x30",
        help="the recording's terminal size (default 100x30)",
    )
    demo.add_argument("--exit", action="store_true", help="with --play: quit when the script ends")
    demo.add_argument(
        "--presenter",
        dest="demo_presenter",
        action="store_true",
        help="presenter mode: show the keys pressed in a corner",
    )
    demo.add_argument(
        "--as",
        dest="login",
        default="maria",
        metavar="LOGIN",
        help="whose eyes: maria (owner, default), jonas (permission), sara or li (read-only)",
    )

    shots = sub.add_parser(
        "screenshots",
        help="write an SVG of every screen and dialog, driven on the demo account",
    )
    shots.add_argument("dir", nargs="?", default="screenshots", help="default: screenshots/")
    shots.add_argument("--only", nargs="+", metavar="NAME", help="only these shots (file names)")

    dels = sub.add_parser("deliveries", help="webhook deliveries (operator)")
    d_sub = dels.add_subparsers(dest="action", required=True, metavar="ACTION")
    d_rep = d_sub.add_parser(
        "replay",
        help="queue again every failed delivery of a webhook since a time",
        description="Queue again, for the dispatcher, every failed (retrying, exhausted or "
        "cancelled) delivery of a webhook whose last attempt is at or after --since; "
        "--status exhausted takes only exhausted ones. Each keeps its callback id; one "
        "already waiting is left as it is (never sent twice). A time without a time zone "
        "is UTC.",
    )
    d_rep.add_argument("--webhook", required=True, type=int, metavar="ID", help="the webhook id")
    d_rep.add_argument("--since", required=True, metavar="TIME", help="e.g. 2026-01-31T14:00")
    d_rep.add_argument(
        "--status", choices=("failed", "exhausted"), default="failed", help="default: failed"
    )

    from api.cli import add_parser as add_serve  # argparse only: FastAPI loads when serve runs

    add_serve(sub)
    return p


def _listen(args) -> int:
    """``integrations-admin listen``: the receiver of ``store.receiver``, until ctrl+c."""
    from store import receiver as rx
    from store import webhooks
    from store.settings import ALLOW_PRIVATE_LABEL

    keys: list[str] = []
    about = "no key given: every delivery is shown as not checked"
    allow_private: bool | None = None
    refresh = None
    if args.webhook is not None:
        from store import accounts, settings

        store = _open(args.db)
        actor = accounts.sign_in(store, getpass.getuser())
        key, previous = webhooks.reveal_keys(store, actor, args.webhook)
        keys = [k for k in (key, previous) if k]
        about = (
            f"checking with webhook {args.webhook}'s signing key"
            + (" and its previous key (a rotation's overlap)" if previous else "")
            if key
            else f"webhook {args.webhook} has no signing key: deliveries are not checked"
        )
        allow_private = settings.webhook_settings(store, actor.account_id).allow_private

        def refresh() -> list[str]:
            return [k for k in webhooks.reveal_keys(store, actor, args.webhook) if k]

    elif args.key is not None:
        key = args.key
        if key == "-":
            key = getpass.getpass("Signing key: ") if sys.stdin.isatty() else sys.stdin.readline()
        key = key.strip()
        try:
            checked = webhooks.validate_sign_key(key, check_strength=False)
        except DomainError as exc:
            print(f"integrations-admin: {exc}", file=sys.stderr)
            return 2
        keys = [checked] if checked else []
        about = "checking with the key given" if keys else about
    if args.fail < 0 or not 0 <= args.port <= 65535:
        print("integrations-admin: --fail is 0 or more, --port 0-65535.", file=sys.stderr)
        return 2
    try:
        r = rx.Receiver(
            args.port,
            host=args.host,
            keys=keys,
            fail=args.fail,
            forward_to=args.forward_to,
            on_line=lambda text: print(text, flush=True),
            tolerance_s=args.tolerance,
            refresh_keys=refresh,
        )
    except OSError as exc:
        print(
            f"integrations-admin: cannot listen on {args.host} port {args.port}: "
            f"{exc.strerror or exc}.",
            file=sys.stderr,
        )
        return 1
    url = r.url + "/"
    print(f"Listening on {url} ({about}; ctrl+c stops).", flush=True)
    why = webhooks.private_reason(url)
    if why:
        state = {None: "", True: " (it is on)", False: " (it is off)"}[allow_private]
        print(
            f"Point a webhook at {url}: {why}, so the account needs "
            f"'{ALLOW_PRIVATE_LABEL}'{state}: Webhooks tab, s; "
            'or ctrl+p "private".',
            flush=True,
        )
    else:
        print(f"Point a webhook at {url}", flush=True)
    if args.fail:
        print(
            f"Answering 500 to the first {plural(args.fail, 'delivery', 'deliveries')}.", flush=True
        )
    if args.forward_to:
        print(f"Forwarding each delivery to {args.forward_to}.", flush=True)
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        r.serve_forever()
    return 0


def _trigger(args) -> int:
    """``integrations-admin trigger``: ``store.trigger``, then (--wait) its progress."""
    from store import accounts, delivery_states
    from store import trigger as tr

    if args.list:
        try:
            print("\n".join(tr.PLATFORM_EVENTS))
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            sys.stdout = None  # type: ignore[assignment]  # no second error at exit
        return 0
    if not args.event:
        print(
            "integrations-admin: trigger needs an EVENT (trigger --list prints them).",
            file=sys.stderr,
        )
        return 2
    refusal = tr.unknown_type(args.event)  # before the database: no store to open for it
    if refusal is not None:
        print(f"integrations-admin: {refusal}", file=sys.stderr)
        return 2
    store = _open(args.db)
    actor = accounts.sign_in(store, getpass.getuser())
    done = tr.trigger(
        store,
        actor,
        args.event,
        webhook_id=args.webhook,
        integration=args.integration,
        contract_id=args.contract,
    )
    about = f"contract {done.contract_id}" if done.contract_id is not None else "sample contract 0"
    print(
        f"Queued {done.event_type} (event {done.event_id}, {about}) for "
        f"{plural(len(done.deliveries), 'webhook')}:",
        flush=True,
    )
    for d in done.deliveries:
        print(f"  webhook {d.webhook_id}  {d.url}  callback {d.callback_id}", flush=True)
    warning = delivery_states.dispatch_status(store, actor.account_id).warning
    if warning:
        print(f"integrations-admin: {warning}.", file=sys.stderr, flush=True)
    if not args.wait:
        return 0
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        return _trigger_wait(store, actor.account_id, done.event_id)
    print("Stopped waiting; the dispatcher goes on with these deliveries.", file=sys.stderr)
    return 0


def _trigger_wait(store, account_id: int, event_id: int, poll_s: float = 0.2) -> int:
    """Print each attempt of the event's deliveries as the delivery log gets it,
    and each delivery's end; 0 when all were delivered, 1 otherwise."""
    import time

    from store import dispatch

    print("Waiting for the dispatcher (ctrl+c stops waiting)...", flush=True)
    seen = 0
    ended: set[int] = set()
    while True:
        now = dispatch.event_progress(store, account_id, event_id, after_id=seen)
        for a in now.attempts:
            seen = max(seen, a.id)
            outcome = f"HTTP {a.status_code}" if a.status_code is not None else "no answer"
            took = f" in {a.latency_ms} ms" if a.latency_ms is not None else ""
            what = "delivered" if a.success else f"failed ({a.error or outcome})"
            print(
                f"{a.attempted_at:%H:%M:%S}  webhook {a.webhook_id}  "
                f"callback {a.callback_id}  {outcome}{took}: {what}",
                flush=True,
            )
        tried = {a.callback_id for a in now.attempts}
        for d in now.deliveries:
            if d.id in ended:
                continue
            if d.state in dispatch.ENDED:
                ended.add(d.id)
                print(f"  webhook {d.webhook_id}: {d.state_label}", flush=True)
            elif d.state == "retrying" and d.callback_id in tried:
                print(f"  webhook {d.webhook_id}: {d.state_label} UTC", flush=True)
        if now.ended:
            failed = [d for d in now.deliveries if d.state != "delivered"]
            total = len(now.deliveries)
            if failed:
                print(f"{len(failed)} of {plural(total, 'delivery', 'deliveries')} not delivered.")
                return 1
            print("Delivered." if total == 1 else f"All {total} deliveries delivered.")
            return 0
        time.sleep(poll_s)


def _demo(args) -> int:
    from pathlib import Path

    from tui.demo import run_demo

    if args.record:
        from tui import recording

        if not args.play:
            print("integrations-admin: --record needs --play SCRIPT.", file=sys.stderr)
            return 2
        try:
            size = recording.parse_size(args.size)
        except ValueError as exc:
            print(f"integrations-admin: {exc}", file=sys.stderr)
            return 2
        if not Path(args.play).is_file():
            print(f"integrations-admin: cannot read {args.play}.", file=sys.stderr)
            return 2
        return recording.record_demo(
            Path(args.play),
            Path(args.record),
            size=size,
            speed=args.speed,
            presenter=args.presenter or args.demo_presenter,
            login=args.login,
        )
    return run_demo(
        script=Path(args.play) if args.play else None,
        presenter=args.presenter or args.demo_presenter,
        speed=args.speed,
        login=args.login,
        exit_at_end=args.exit,
    )


def _screenshots(args) -> int:
    import time

    from tui.screenshots import ShotError, take_screenshots

    started = time.perf_counter()

    def progress(path, seconds: float) -> None:
        print(f"{path}  ({seconds:.1f} s)", flush=True)

    try:
        written = take_screenshots(args.dir, only=args.only, progress=progress)
    except ShotError as exc:
        print(f"integrations-admin: {exc}", file=sys.stderr)
        return 1
    shots = [p for p in written if p.suffix == ".svg"]
    took = time.perf_counter() - started
    print(f"Wrote {plural(len(shots), 'screenshot')} to {args.dir} in {took:.0f} s.")
    return 0


def _open(db: str | None, *, create: bool = False):
    """The store at ``db``. Only the program itself (``create``) makes a new
    database: the operator's commands need an account, so a SQLite file that
    does not exist (a mistyped --db) is refused and nothing is created."""
    from store.db import Store

    store = Store(db, create=create)
    store.prepare()
    if store.upgrade_notice:
        print(f"integrations-admin: {store.upgrade_notice}", file=sys.stderr)
    return store


def _run_app(db: str | None, *, settings) -> int:
    from store.glance import Soon, first_screen
    from store.location import resolve_url

    login = getpass.getuser()
    url = resolve_url(db)
    # A server: its first screen is read (store.glance, psycopg alone) from now
    # on, in a thread, while Textual and the screens are imported and the frame
    # painted; the App shows it when it comes.
    server_glance = None if url.startswith("sqlite") else Soon(url, login)
    from tui.app import IntegrationsAdmin, tune_gc

    presenter = bool(settings.presenter.value)
    tune_gc()
    # The common start (a SQLite file of this schema, a known user) paints from a
    # glance read with sqlite3 and opens the store right after the first paint.
    glance = first_screen(db, login)
    if glance is not None:
        app = IntegrationsAdmin(
            None, glance.actor, glance=glance, presenter=presenter, settings=settings
        )
    elif server_glance is not None:
        # A server (PostgreSQL): the frame at once, "Connecting to HOST...", the
        # glance's rows when they come, and the store opened (and the user
        # signed in) in a thread right after.
        from store.values import Actor

        pending = Actor(0, login, login, 0, "member", False)  # until signed in
        app = IntegrationsAdmin(
            None,
            pending,
            url=url,
            presenter=presenter,
            settings=settings,
            server_glance=server_glance,
        )
    else:
        from store import accounts

        store = _open(db, create=True)
        first_run = store.created
        actor = accounts.sign_in(store, login)
        app = IntegrationsAdmin(
            store, actor, first_run=first_run, presenter=presenter, settings=settings
        )
    app.run()
    return _after(app)


def _after(app) -> int:
    """The exit status; a crash leaves a crash file, and says where."""
    from tui import diagnostics
    from tui.config import shown_path
    from tui.textual_compat import crash_of

    crash = crash_of(app)
    if crash is not None:
        path = diagnostics.write_crash(crash)
        where = f"; what happened is in {shown_path(path)}" if path else ""
        print(
            f"integrations-admin stopped after an unexpected error{where}. "
            "Attach that file to a bug report.",
            file=sys.stderr,
        )
        return 1
    return app.return_code or 0


def _account(args) -> int:
    from store import accounts

    store = _open(args.db)
    account_id = accounts.first_account_id(store)
    if args.action == "set":
        limits: dict[str, int] = {}
        for item in args.limit:
            name, _, value = item.partition("=")
            if name not in LIMIT_NAMES or not value.strip().isdigit():
                print(
                    f"Bad --limit {item!r}: use NAME=N with NAME one of {', '.join(LIMIT_NAMES)}",
                    file=sys.stderr,
                )
                return 2
            limits[name] = int(value)
        effects = accounts.plan_change_effects(store, account_id, plan=args.plan, limits=limits)
        if effects.warnings and not _confirmed(effects.warnings, args.yes):
            return 1
        for note in effects.notes:
            print(note)
        accounts.set_plan_and_limits(
            store,
            account_id,
            operator=f"operator:{getpass.getuser()}",
            plan=args.plan,
            limits=limits,
        )
    info = accounts.account_info(store, account_id)
    print(f"Account   {info.name}")
    print(f"Plan      {info.plan}")
    print(f"Custom blueprints      {info.custom_blueprints}/{info.limit_custom_blueprints}")
    print(f"Playbooks              {info.playbooks}/{info.limit_playbooks}")
    print(f"Connected blueprints   {info.limit_connected_blueprints} per playbook")
    print(f"Data fields            {info.limit_data_fields} per playbook")
    from store import integrations

    suspended = [i for i in integrations.active(store, account_id) if i.suspended]
    for i in suspended:
        print(f"{i.name:<22} {i.suspension_label}")
    if suspended:
        print("(Suspended: nothing deleted; a plan that includes it restores it as it was.)")
    return 0


def _confirmed(warnings: Sequence[str], yes: bool) -> bool:
    """List what a change will do and ask first: y/N on a terminal, --yes otherwise."""
    import shutil
    import textwrap

    width = max(40, min(100, shutil.get_terminal_size().columns) - 1)
    print("This change has consequences:", file=sys.stderr)
    for w in warnings:
        print(
            textwrap.fill(w, width, initial_indent="  - ", subsequent_indent="    "),
            file=sys.stderr,
        )
    if yes:
        return True
    if not sys.stdin.isatty():
        print(
            "integrations-admin: nothing changed. Run it again with --yes to confirm.",
            file=sys.stderr,
        )
        return False
    try:
        answer = input("Go ahead? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("integrations-admin: nothing changed.", file=sys.stderr)
    return False


def _users(args) -> int:
    from store import accounts, users

    store = _open(args.db)
    # The operator: whoever can open the database (file permissions or database
    # credentials are the boundary); the last-owner rule holds for them too.
    by = users.Operator(getpass.getuser(), accounts.first_account_id(store))
    if args.action == "add":
        u = users.add(
            store,
            by,
            args.login,
            name=args.name,
            can_manage=args.manage,
            role="owner" if args.owner else "member",
        )
        print(f"Added {u.login} ({u.role}, permission: {'yes' if u.can_manage else 'no'})")
        return 0
    if args.action in ("grant", "withdraw"):
        users.set_permission(store, by, args.login, args.action == "grant")
        print(f"{args.login}: permission {'granted' if args.action == 'grant' else 'withdrawn'}")
        return 0
    if args.action in ("promote", "demote"):
        u = users.set_role(store, by, args.login, "owner" if args.action == "promote" else "member")
        print(f"{u.login} is now {'an owner' if u.role == 'owner' else 'a member'}")
        return 0
    if args.action == "remove":
        users.remove(store, by, args.login)
        print(f"Removed {args.login}")
        return 0
    for u in accounts.list_users(store, by.account_id):
        seen = minute(u.last_seen_at)
        print(
            f"{u.login:<20} {u.role:<7} manage={'yes' if u.can_manage else 'no':<4} "
            f"last seen {seen}"
        )
    return 0


def _audit(args) -> int:
    from store import accounts, audit

    since = audit.parse_time(args.since, field="since") if args.since else None
    until = audit.parse_time(args.until, field="until") if args.until else None
    store = _open(args.db)
    account_id = accounts.first_account_id(store)
    if not args.output:
        try:
            audit.export_jsonl(store, account_id, sys.stdout, since=since, until=until)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. `| head`: the reader has what it wanted
            sys.stdout = None  # type: ignore[assignment]  # no second error at exit
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as out:
            n = audit.export_jsonl(store, account_id, out, since=since, until=until)
    except OSError as exc:
        print(f"integrations-admin: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"Wrote {plural(n, 'audit entry', 'audit entries')} to {args.output}", file=sys.stderr)
    return 0


def _tokens(args) -> int:
    from store import tokens
    from store.errors import TokenRefused

    store = _open(args.db)
    if sys.stdin.isatty():
        token = getpass.getpass("API token (not echoed): ")
    else:
        # A token is 40 characters: never read without bound. Bytes that are not
        # UTF-8 make a token that is simply malformed, not a traceback.
        raw = getattr(sys.stdin, "buffer", None)
        token = raw.read(4096).decode("utf-8", "replace") if raw else sys.stdin.read(4096)
    try:
        ok = tokens.verify(store, token)
    except TokenRefused as exc:
        print(f"Refused ({exc.reason}): {exc}", file=sys.stderr)
        return 1
    print(f"Valid: API token {ok.token_name!r} of {ok.integration_name}.")
    return 0


def _deliveries(args) -> int:
    from store import accounts, audit, delivery_states, replay, users, webhooks

    since = audit.parse_time(args.since, field="since")
    store = _open(args.db)
    account_id = accounts.first_account_id(store)
    by = users.Operator(getpass.getuser(), account_id)
    hook = webhooks.get(store, account_id, args.webhook)
    result = replay.replay_since(store, by, hook.id, since, args.status)
    print(f"Webhook {hook.id} ({webhooks.audit_url(hook.url)}): {result.label}")
    warning = delivery_states.dispatch_status(store, account_id).warning
    if warning:
        print(f"integrations-admin: {warning}.", file=sys.stderr)
    return 0


def _config_path() -> int:
    from tui import config

    path = config.config_path()
    print(path)
    if not path.is_file():
        print(
            "integrations-admin: there is no settings file there (nothing is required: every "
            "setting has its default). The README's Configuration section has an example.",
            file=sys.stderr,
        )
    return 0


def _config(action: str, settings) -> int:
    from store.db import describe_location
    from tui import config

    if action == "show":
        where = config.shown_path(settings.path)
        if not settings.exists:
            where += "  (none: every setting has its default)"
        db, _ = describe_location(settings.db.value)  # never a password
        rows = [
            ("settings file", where, ""),
            ("database", db, settings.db.source),
            ("profile", settings.profile.value or "(none)", settings.profile.source),
            ("theme", settings.theme.value, settings.theme.source),
            ("presenter", "on" if settings.presenter.value else "off", settings.presenter.source),
            ("debug", "on" if settings.debug.value else "off", settings.debug.source),
            ("log folder", config.shown_path(config.log_dir()), ""),
        ]
        for name in sorted(settings.profiles):
            shown, _ = describe_location(config.profile_shown(settings, name))
            rows.append((f"profile {name}", shown, ""))
        for binding_id, keys in sorted(settings.keymap.items()):
            rows.append((f"key {binding_id}", keys, settings.keymap_sources.get(binding_id, "")))
        width = max(len(r[0]) for r in rows)
        value_width = min(48, max(len(str(r[1])) for r in rows))
        for name, value, source in rows:
            source = source.replace(config.shown_path(settings.path), settings.path.name)
            line = f"{name:<{width}}  {value!s:<{value_width}}  {source}"
            print(line.rstrip())
        for notice in settings.notices:
            print(f"note: {notice}", file=sys.stderr)
        return 0
    problems = config.check(settings)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if problems:
        return 1
    state = "" if settings.exists else " (there is no file: every setting has its default)"
    print(
        f"{config.shown_path(settings.path)}: OK{state}; "
        f"{plural(len(settings.profiles), 'profile')}, "
        f"{plural(len(settings.keymap), 'key')} remapped."
    )
    return 0


def _keys(settings) -> int:
    from tui import keys

    rows = keys.binding_table(settings.keymap)
    width = max(len(r.binding_id) for r in rows)
    key_width = max(len(r.keys) for r in rows)
    for r in rows:
        mark = "*" if r.remapped else " "
        print(f"{r.binding_id:<{width}}  {r.keys:<{key_width}} {mark} {r.does} ({r.where})")
    if any(r.remapped for r in rows):
        print("(* remapped by your keymap)")
    return 0


def _where(db: str | None) -> int:
    """Print where the database is; create nothing."""
    from store.db import describe_location

    shown, path = describe_location(db)
    print(shown)
    if path is not None and not path.exists():
        print(
            "integrations-admin: there is no database there yet; the program creates it "
            "when it first starts.",
            file=sys.stderr,
        )
    return 0


# Arguments taken as paths: any bytes the file system allows (Python keeps them).
_PATH_ARGUMENTS = frozenset({"output", "play", "record"})
_SHOWN_AS = {
    "db": "--db",
    "name": "--name",
    "since": "--since",
    "until": "--until",
    "login": "LOGIN",
}


def _undecodable(args: argparse.Namespace) -> str | None:
    """The refusal for an argument that is not UTF-8 text (Python hands such
    bytes over as lone surrogates, which no database stores), else None."""
    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and dest not in _PATH_ARGUMENTS and not_unicode(item):
                shown = item.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                return (
                    f"the argument {_SHOWN_AS.get(dest, dest)} ('{shown}') is not valid UTF-8 "
                    "text; retype it."
                )
    return None


def _login_refusal() -> str | None:
    """The refusal when the operating system's login is not text (LOGNAME, USER)."""
    if not_unicode(getpass.getuser()):
        return "your login (LOGNAME or USER) is not valid UTF-8 text; set it to your login."
    return None


def _settings(args: argparse.Namespace):
    """The settings in force (flags over environment over file), or the reason
    they cannot be used (printed: exit 2)."""
    from tui import config

    flags = config.Flags(
        db=args.db,
        profile=args.profile,
        theme=args.theme,
        debug=args.debug,
        presenter=args.presenter,
    )
    return config.load(flags)


def _theme_refusal(name: str | None) -> str | None:
    if name is None:
        return None
    from textual.theme import BUILTIN_THEMES

    if name in BUILTIN_THEMES:
        return None
    return f"there is no theme {name!r}. The themes: {', '.join(sorted(BUILTIN_THEMES))}."


def main(argv: Sequence[str] | None = None) -> int:
    from tui import config

    args = _parser().parse_args(argv)
    refusal = _undecodable(args) or _theme_refusal(args.theme)
    if refusal is None and args.command in (None, "account", "users", "deliveries", "trigger"):
        refusal = _login_refusal()
    if refusal is not None:
        print(f"integrations-admin: {refusal}", file=sys.stderr)
        return 2
    if args.command == "config" and args.action == "path":
        return _config_path()
    try:
        settings = _settings(args)
    except config.ConfigError as exc:
        print(f"integrations-admin: {exc}", file=sys.stderr)
        return 2
    args.db = settings.db.value  # what --db, a profile or the environment chose
    if args.command in (None, "demo"):
        from tui import diagnostics

        path = diagnostics.start(debug=bool(settings.debug.value))
        if settings.debug.value:
            print(f"integrations-admin: the diagnostic log is {path}", file=sys.stderr)
    try:
        if args.command is None:
            return _run_app(args.db, settings=settings)
        if args.command in ("config", "keys"):
            try:
                return (
                    _config(args.action, settings) if args.command == "config" else _keys(settings)
                )
            except BrokenPipeError:  # `| head`: the reader has what it wanted
                sys.stdout = None  # type: ignore[assignment]  # no second error at exit
                return 0
        if args.command == "where":
            return _where(args.db)
        if args.command == "account":
            return _account(args)
        if args.command == "users":
            return _users(args)
        if args.command == "audit":
            return _audit(args)
        if args.command == "tokens":
            return _tokens(args)
        if args.command == "deliveries":
            return _deliveries(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "listen":
            return _listen(args)
        if args.command == "trigger":
            return _trigger(args)
        if args.command == "screenshots":
            return _screenshots(args)
        if args.command == "serve":
            from api.cli import serve

            return serve(args)
        if args.command == "dispatch":
            from api.cli import dispatch

            return dispatch(args)
    except DomainError as exc:
        print(f"integrations-admin: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
