"""``integrations-admin screenshots [DIR]``: one SVG of every screen, form and
dialog, taken by driving the real app with Pilot on the demo account.

Every shot starts from a fresh copy of the same demo database (built once), in
a fresh app of its size, presses its keys (the script language of
``demo --play``), checks that the screen shows what the shot is about (so a
changed screen fails loudly instead of being photographed by mistake) and
exports the screen as SVG.

The same input gives the same bytes: the demo's clock is fixed and its
tokens, keys and callback ids come from counters (``store.demo``); the live
webhook tests go to the demo receiver on a fixed loopback port and their
measured latency is replaced by a fixed one; input cursors do not blink; each
shot shows only its own notifications; Rich names the SVG's styles after a
hash of its content.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from store import demo as demo_data
from tui.demo import Step, flat_text, parse_script, play

DEFAULT_DIR = "screenshots"
SMALL = (80, 24)
WIDE = (120, 36)
LATENCY_MS = 4  # what a live test to the demo receiver is said to have taken


@dataclass(frozen=True)
class Shot:
    name: str  # file name without .svg
    caption: str  # what it shows (the SVG's title and the index)
    script: str  # steps, one per line (see tui.demo); ";" also separates steps
    expect: str  # text the screen must show
    size: tuple[int, int] = SMALL
    login: str = demo_data.OWNER
    data: str = "full"  # full | empty (a first run: an account with nothing enabled)
    presenter: bool = False
    theme: str = ""  # a Textual theme other than the default (textual-dark)

    @property
    def steps(self) -> list[Step]:
        return parse_script(self.script.replace(";", "\n"), name=f"shot {self.name}")


CUSTOM = "key j j j enter"  # the Custom integration: fourth in the Integrations list
SALES = "key p j j enter"  # the playbook "Sales agreement" (third, by name)
FRAMEWORK = "key p enter"  # "Framework agreement" (first, incomplete)
ERP_HOOK = f"{CUSTOM} 4 enter"  # the ERP's webhook page

SHOTS: tuple[Shot, ...] = (
    # -- Integrations ---------------------------------------------------------------
    Shot("integrations", "The Integrations list", "", "Custom integration"),
    Shot("integrations-wide", "The Integrations list", "", "Custom integration", size=WIDE),
    Shot(
        "integrations-empty",
        "A first run: nothing enabled yet",
        "",
        "No integrations are enabled yet",
        data="empty",
    ),
    Shot("marketplace", "The Marketplace", "key m", "Microsoft Dynamics 365"),
    Shot("marketplace-wide", "The Marketplace", "key m", "Power Automate", size=WIDE),
    Shot("extension-card", "An extension's card", "key m j enter", "Custom integration"),
    Shot(
        "marketplace-disable",
        "Disabling asks first (nothing is deleted)",
        "key m e",
        "Disable",
    ),
    Shot("integration-details", "An integration: Details", CUSTOM, "First enabled"),
    Shot("blueprints-tab", "Integration blueprints", f"{CUSTOM} 2", "Customer master"),
    Shot(
        "blueprint-form",
        "Creating a blueprint",
        f"{CUSTOM} 2 n;type Invoices;key tab;type Invoices from the billing system",
        "Create integration blueprint",
    ),
    Shot(
        "blueprint-form-error",
        "A refused form keeps what was typed; the error is under its field",
        f"{CUSTOM} 2 n;type Order data;key ctrl+s",
        "already exists",
    ),
    Shot("blueprint", "A blueprint's fields", f"{CUSTOM} 2 j enter", "Order number"),
    Shot(
        "blueprint-playbooks",
        "The playbooks a blueprint is connected to",
        f"{CUSTOM} 2 j enter 2",
        "Sales agreement",
    ),
    Shot(
        "field-form",
        "Adding a field, mapping required",
        f"{CUSTOM} 2 j enter n;type Invoice number;key tab;type Printed on the invoice;"
        "key tab space",
        "Mapping required",
    ),
    Shot(
        "field-delete",
        "Deleting a field asks first",
        f"{CUSTOM} 2 j enter j j j d",
        "Delete",
    ),
    Shot(
        "blueprint-delete-refused",
        "A connected blueprint cannot be deleted: the playbooks are named",
        f"{CUSTOM} 2 j d;key y",
        "Disconnect it first",
    ),
    Shot(
        "native-blueprint",
        "A native integration's blueprint: synced, read-only",
        "key enter 2 enter",
        "Opportunity ID",
    ),
    Shot(
        "tokens",
        "API tokens: each one's last use and requests in the last 24 hours",
        f"{CUSTOM} 3",
        "ERP connector",
    ),
    Shot(
        "token-form",
        "Generating an API token",
        f"{CUSTOM} 3 n;type CI pipeline",
        "Generate an API token",
    ),
    Shot(
        "token-once",
        "The token, shown exactly once (an obviously fake demo token)",
        f"{CUSTOM} 3 n;type CI pipeline;key ctrl+s",
        "only time the token is shown",
    ),
    Shot("token-revoke", "Revoking asks first", f"{CUSTOM} 3 j d", "Revoke"),
    Shot("webhooks", "Webhooks and their last delivery", f"{CUSTOM} 4", "erp.northwind"),
    Shot("webhook-form", "Creating a webhook", f"{CUSTOM} 4 n", "Create a webhook"),
    Shot(
        "webhook-form-verified",
        "A webhook's test passed before saving (demo receiver on loopback)",
        f"{CUSTOM} 4 n;type {{receiver}}/hooks/signed;key tab ctrl+g ctrl+t;wait Verified",
        "Verified",
    ),
    Shot(
        "webhook-form-failed",
        "A failed test says why",
        f"{CUSTOM} 4 n;type {{receiver}}/gone/old-crm;key ctrl+t;wait Not verified",
        "410 Gone",
    ),
    Shot(
        "webhook-settings",
        "The account's webhook settings",
        f"{CUSTOM} 4 s",
        "private networks",
    ),
    Shot("webhook", "A webhook and its delivery log", ERP_HOOK, "Delivery log"),
    Shot("webhook-wide", "A webhook and its delivery log", ERP_HOOK, "Delivery log", size=WIDE),
    Shot(
        "delivery",
        "One delivery: the request as sent, the response as read",
        f"{ERP_HOOK} j j j j j j j j j enter",  # the 503 (below the contracts' new events)
        "503",
    ),
    Shot(
        "webhook-delete",
        "Deleting a webhook asks first",
        f"{ERP_HOOK} d",
        "Delete",
    ),
    Shot(
        "native-webhooks",
        "A native integration's webhooks: managed, read-only",
        "key enter 4",
        "managed",
    ),
    Shot(
        "api-requests",
        "An integration's API requests, newest first",
        f"{CUSTOM} 5",
        "/v1/contracts",
    ),
    Shot(
        "api-requests-wide",
        "An integration's API requests, newest first",
        f"{CUSTOM} 5",
        "Reporting",
        size=WIDE,
    ),
    Shot(
        "api-requests-filtered",
        "API requests filtered: the refused ones",
        f"{CUSTOM} 5;key slash;type 422;pause 0.3",
        "422",
    ),
    # -- Playbooks ------------------------------------------------------------------------
    Shot("playbooks", "Playbooks, complete and incomplete", "key p", "2 missing"),
    Shot("playbook-form", "Creating a playbook", "key p n;type Service agreement", "Name"),
    Shot(
        "playbook-fields",
        "A playbook's data fields (incomplete: what is missing is named)",
        FRAMEWORK,
        "Incomplete",
    ),
    Shot(
        "data-field-form",
        "Adding a data field",
        f"{FRAMEWORK} n;type Signing city",
        "Name",
    ),
    Shot(
        "playbook-connections",
        "A playbook's connected blueprints",
        f"{FRAMEWORK} 2",
        "missing",
    ),
    Shot(
        "connect-picker",
        "Connecting a blueprint: a filterable picker",
        f"{FRAMEWORK} 2 n",
        "Connect a blueprint",
    ),
    Shot(
        "disconnect",
        "Disconnecting asks first and says what goes",
        f"{FRAMEWORK} 2 d",
        "Disconnect",
    ),
    Shot("mappings", "Mappings, the missing one first in red", f"{FRAMEWORK} 3", "missing"),
    Shot(
        "mappings-wide",
        "Mappings of a complete playbook",
        f"{SALES} 3",
        "Complete",
        size=WIDE,
    ),
    Shot(
        "mapping-picker",
        "Mapping a blueprint field to a data field",
        f"{FRAMEWORK} 3;key slash;type missing;key enter enter",
        "to a data field",
    ),
    Shot(
        "from-blueprint",
        "Data fields from a blueprint: what would happen, before it happens",
        f"{FRAMEWORK} f",
        "Company name",
    ),
    # -- Contracts -------------------------------------------------------------------------
    Shot("contracts", "Contracts that integrations sent, read-only", "key C", "Order SO-10452"),
    Shot(
        "contracts-wide",
        "Contracts that integrations sent, read-only",
        "key C",
        "Updated",
        size=WIDE,
    ),
    Shot(
        "contracts-empty",
        "No contracts yet: how they arrive",
        "key C",
        "No contracts yet",
        data="empty",
    ),
    Shot(
        "contract",
        "A contract: each data field's value and where it came from",
        "key C j j j enter",
        "Order data / Order number",
    ),
    Shot(
        "contract-wide",
        "A contract: each data field's value and where it came from",
        "key C j j j enter",
        "Custom integration / Order data",
        size=WIDE,
    ),
    Shot(
        "contract-value",
        "One value of a contract, whole, with its source",
        "key C j j j enter;key enter",
        "Value of Order number",
    ),
    # -- Audit, account, users -------------------------------------------------------------
    Shot("audit", "The audit log", "key a", "account.settings"),
    Shot("audit-wide", "The audit log", "key a", "account.settings", size=WIDE),
    Shot(
        "audit-filtered",
        "The audit log filtered",
        "key a;wait account.settings;key slash;type token;pause 0.3",
        "token.revoke",
    ),
    Shot(
        "audit-entry",
        "One audit entry",
        "key a;wait account.settings;key enter",
        "webhook.create",
    ),
    Shot("account", "The account: plan, features, limits with usage", "key o", "Playbooks"),
    Shot("account-settings", "Changing the account's settings", "key o e", "timeout"),
    Shot("users", "Users, roles and the permission", "key u", "jonas"),
    Shot("user-form", "Adding a user", "key u n;type amir", "Login"),
    Shot(
        "read-only",
        "A member without the permission sees everything, read-only, and why",
        f"{CUSTOM} 2 n",
        "You cannot create blueprints",
        login="sara",
    ),
    # -- Everywhere ---------------------------------------------------------------------------
    Shot("help", "Help: the keys of the current screen", f"{CUSTOM} 2 question_mark", "Keys"),
    Shot("palette", "The command palette", "key ctrl+p;wait Blueprint:", "Search for commands"),
    Shot(
        "palette-search",
        "The command palette finds screens, actions and objects by name",
        "key ctrl+p;wait Blueprint:;type order;wait Blueprint: Order data;pause 0.2",
        "Open the blueprint of Custom integration",
    ),
    Shot(
        "presenter",
        "Presenter mode: the keys pressed, in a corner",
        f"{CUSTOM} 2 n;type Invoices",
        "Invoices",
        presenter=True,
    ),
    # -- A light theme: every colour comes from the theme (tui.colours) ----------------------
    Shot(
        "mappings-light",
        "A light theme (textual-light): the missing mapping in the theme's red",
        f"{FRAMEWORK} 3",
        "missing",
        theme="textual-light",
    ),
    Shot(
        "webhook-light",
        "A light theme (textual-light): deliveries delivered and failed",
        ERP_HOOK,
        "Delivery log",
        size=WIDE,
        theme="textual-light",
    ),
)


class ShotError(Exception):
    pass


@contextmanager
def fixed_latency(ms: int = LATENCY_MS) -> Iterator[None]:
    """Within: a delivery's measured latency is ``ms`` (store.sending reads its
    clock twice per attempt; this clock advances ``ms`` per reading)."""
    from store import sending

    ticks = {"t": 0.0}

    def perf_counter() -> float:
        ticks["t"] += ms / 1000
        return ticks["t"]

    real = sending.time
    sending.time = SimpleNamespace(perf_counter=perf_counter)  # type: ignore[assignment]
    try:
        yield
    finally:
        sending.time = real


def _copy_db(src: Path, dst: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")


def _build_templates(folder: Path, receiver_url: str) -> dict[str, Path]:
    from store import accounts, clock
    from store.db import Store

    out = {}
    full = Store(f"sqlite:///{folder / 'full.db'}")
    demo_data.build(full, receiver_url=receiver_url)
    full.dispose()
    out["full"] = folder / "full.db"
    empty = Store(f"sqlite:///{folder / 'empty.db'}")
    clock.fix(demo_data.NOW)
    accounts.sign_in(empty, demo_data.OWNER, name="Maria Lindqvist")
    empty.dispose()
    out["empty"] = folder / "empty.db"
    return out


async def _take(shot: Shot, db: Path, receiver_url: str) -> str:
    from textual.widgets import Input

    from store import accounts
    from store.db import Store
    from tui.app import IntegrationsAdmin

    store = Store(f"sqlite:///{db}")
    try:
        actor = accounts.sign_in(store, shot.login)
        app = IntegrationsAdmin(store, actor, presenter=shot.presenter, user_keymap=False)
        if shot.theme:
            app.theme = shot.theme
        async with app.run_test(size=shot.size, tooltips=True, notifications=True) as pilot:
            try:
                await play(pilot, shot.steps, speed=1e6, receiver_url=receiver_url)
            except Exception as exc:
                raise ShotError(f"{shot.name}: {exc}") from exc
            await pilot.wait_for_scheduled_animations()
            for box in app.screen.query(Input):
                box.cursor_blink = False  # the cursor shows, steadily
            await pilot.pause()
            text = flat_text(app)
            if shot.expect not in text:
                raise ShotError(
                    f"{shot.name}: the screen does not show {shot.expect!r} after "
                    f"{shot.script!r}; it shows: {text[:400]}"
                )
            return app.export_screenshot(title=f"integrations-admin · {shot.caption}")
    finally:
        store.dispose()


def take_screenshots(
    out_dir: Path | str = DEFAULT_DIR,
    *,
    only: Iterable[str] | None = None,
    port: int = demo_data.RECEIVER_PORT,
    progress=None,
) -> list[Path]:
    """Write one SVG per shot (all, or those named in ``only``) into ``out_dir``,
    and an index (README.md) when all are taken. Returns the files written."""
    from store import clock

    shots = list(SHOTS)
    if only is not None:
        wanted = set(only)
        unknown = wanted - {s.name for s in SHOTS}
        if unknown:
            raise ShotError(f"No such shot: {', '.join(sorted(unknown))}.")
        shots = [s for s in SHOTS if s.name in wanted]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        receiver = demo_data.DemoReceiver(port, fallback=False)
    except OSError as exc:
        raise ShotError(
            f"The demo receiver needs 127.0.0.1 port {port} ({exc.strerror}): the "
            "screenshots show its URL, so the port is fixed. Free it and try again."
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="integrations-admin-shots-"))
    try:
        with receiver, fixed_latency():
            templates = _build_templates(folder, receiver.url)
            for n, shot in enumerate(shots):
                started = time.perf_counter()
                db = folder / f"shot{n}.db"
                _copy_db(templates[shot.data], db)
                with demo_data.deterministic(demo_data.RUNTIME_FIRST):
                    svg = asyncio.run(_take(shot, db, receiver.url))
                path = out / f"{shot.name}.svg"
                path.write_text(svg, encoding="utf-8")
                written.append(path)
                if progress is not None:
                    progress(path, time.perf_counter() - started)
        if only is None:
            index = out / "README.md"
            index.write_text(_index(), encoding="utf-8")
            written.append(index)
    finally:
        clock.fix(None)
        shutil.rmtree(folder, ignore_errors=True)
    return written


def _index() -> str:
    lines = [
        "# Screenshots",
        "",
        "Generated by `integrations-admin screenshots` on the demo account (Northwind",
        "Traders, a fixed clock at 2026-11-28 09:30 UTC); do not edit by hand. Each is",
        "80x24 unless its name ends in `-wide` (120x36).",
        "",
        "| file | shows |",
        "| --- | --- |",
    ]
    lines += [f"| [{s.name}.svg]({s.name}.svg) | {s.caption} |" for s in SHOTS]
    return "\n".join(lines) + "\n"
