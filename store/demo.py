"""A realistic demo account, the same every time: for ``integrations-admin demo``,
the screenshots and the scripted walk-through.

``build(store)`` fills an empty database with one account (Northwind Traders,
Business plan) and a month of history, through the store's own functions, so
every row, limit and audit entry is what the program itself would have made:

- four users: an owner, a member with the permission *Manage add-ons and
  integrations*, two members without it;
- Salesforce, HubSpot and Slack enabled, Pipedrive enabled once and paused;
- the Custom integration with two blueprints (*Order data*, *Customer
  master*) and their fields, some with mapping required; three API tokens
  (one used, one revoked); webhooks with a delivery history;
- playbooks complete and incomplete;
- the ERP's calls to the integration API in the last days: contracts from the
  playbook *Sales agreement* (signed, declined, published, a draft), one
  refused, and the request log of its two tokens (``api_activity``).

Every step runs at a fixed time (the clock is fixed, step by step, from
2026-11-02 to ``NOW`` = 2026-11-28 09:30 UTC, where it stays), so the same
build always gives the same rows, ids and screens.

No HTTP is sent while building: the delivery history is written into the
delivery log as the program would have logged it (same body, same
signatures), with the answers a receiver would have given. The demo's live
tests go to ``DemoReceiver``, an HTTP server on loopback that the demo
command starts; the account's setting *Allow webhooks to private networks*
is turned on (audit-logged) so that the destination guard lets them through.

``deterministic()`` replaces the random sources of token, callback id, event
id and signing key generation with counters while the demo runs, so a token
generated in the demo is the same obviously fake one every time. Only the
demo and the screenshot command enter it; normal runs never do.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from . import (
    accounts,
    apiaccess,
    blueprints,
    catalog,
    clock,
    contracts,
    delivery_log,
    marketplace,
    payload,
    playbooks,
    sending,
    settings,
    tokens,
    tokens_format,
    users,
    webhooks,
)
from .change import anyone, change
from .db import Store

# The demo's constants and its receiver: importable without SQLAlchemy, for the
# demo command's first paint (store/demo_start.py); part of this module's names.
from .demo_start import (  # noqa: F401
    NOW,
    OWNER,
    RECEIVER_PORT,
    RECEIVER_PORTS,
    VARIANTS,
    Demo,
    DemoReceiver,
)
from .models import Account, User

ACCOUNT_NAME = "Northwind Traders"

PEOPLE = (
    # login, name, role, permission
    ("maria", "Maria Lindqvist", "owner", True),
    ("jonas", "Jonas Berg", "member", True),
    ("sara", "Sara Ek", "member", False),
    ("li", "Li Chen", "member", False),
)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A time in November 2026 (UTC), the demo's month."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


# -- determinism -------------------------------------------------------------------


def fake_token(n: int) -> str:
    """A well-formed API token that says what it is: ``iadm_DEMOnotARealToken...``."""
    body = f"DEMOnotARealToken{n:012d}"
    assert len(body) == tokens_format.RANDOM_LEN
    return tokens_format.PREFIX + body + tokens_format.checksum(body)


def fake_signing_key(n: int) -> str:
    """A ``whsec_`` key whose 32 bytes spell out that it is the demo's."""
    raw = f"demo-signing-key-not-secret-{n:04d}".encode()
    assert len(raw) == 32
    return webhooks.GENERATED_PREFIX + base64.b64encode(raw).decode("ascii")


def fake_callback_id(n: int) -> str:
    return hashlib.sha1(f"demo-callback-{n}".encode()).hexdigest()


RUNTIME_FIRST = 501
"""Where the counters start while the demo runs (the build uses lower numbers,
so a token generated in the demo never repeats one made by the build)."""


@contextmanager
def deterministic(first: int = 1) -> Iterator[None]:
    """Within: generated tokens, signing keys, callback ids and test event ids
    come from counters starting at ``first`` instead of the system's random
    source (see the module notes). Restores what was there on exit."""
    counters = dict.fromkeys(("token", "key", "callback", "event"), first - 1)

    def step(name: str) -> int:
        counters[name] += 1
        return counters[name]

    def test_events() -> list[payload.Event]:
        return [
            payload.Event(
                id=70_000 + step("event"), type=webhooks.TEST_EVENT, created_at=clock.now()
            )
        ]

    patches = [
        (tokens_format, "new_token", lambda: fake_token(step("token"))),
        (webhooks, "generate_signing_key", lambda: fake_signing_key(step("key"))),
        (payload, "new_callback_id", lambda: fake_callback_id(step("callback"))),
        (payload, "webhook_test_events", test_events),
    ]
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
    try:
        for mod, name, value in patches:
            setattr(mod, name, value)
        yield
    finally:
        for mod, name, value in saved:
            setattr(mod, name, value)


# -- building ------------------------------------------------------------------------------


def _create_account(store: Store) -> accounts.Actor:
    """The account and its owner, as ``accounts.sign_in`` makes them on a new
    database, with the demo's company name."""
    store.prepare()
    with change(store, None, "build the demo", check=anyone) as c:
        s = c.s
        if s.exec(select(Account.id)).first() is not None:
            raise ValueError("The demo is built only into an empty database.")
        login, name, _, _ = PEOPLE[0]
        account = Account(name=ACCOUNT_NAME, plan="Business", created_at=clock.now())
        s.add(account)
        s.flush()
        s.add(
            User(
                account_id=account.id,
                login=login,
                name=name,
                role="owner",
                can_manage=True,
                created_at=clock.now(),
            )
        )
        c.account_id, c.actor_label = account.id, login
        c.log(
            "account.create",
            "account",
            account.id,
            account.name,
            "plan Business; first user became owner",
        )
    return accounts.sign_in(store, login)


def _delivery(
    url: str,
    key: str | None,
    *,
    n: int,
    event_type: str,
    when: datetime,
    status: int | None,
    latency_ms: int,
    error: str = "",
    contract_id: int = 0,
    callback_id: str | None = None,
) -> sending.AttemptResult:
    """One attempt as the program would have logged it (the receiver's answer
    included), without sending anything."""
    callback_id = callback_id or fake_callback_id(1000 + n)
    event = payload.Event(id=50_000 + n, type=event_type, created_at=when)
    body = payload.build_body(callback_id, [event], key, contract_id=contract_id)
    headers = payload.build_headers(callback_id, int(when.timestamp()), body, key)
    host = url.split("/")[2]
    sent = (
        ("Host", host),
        ("Content-Length", str(len(body.encode()))),
        *headers.items(),
    )
    ok = status is not None and 200 <= status < 300
    excerpt = ""
    if status is not None:
        phrase = "OK" if ok else {503: "Service Unavailable", 500: "Internal Server Error"}[status]
        answer = '{"received": true}' if ok else '{"error": "maintenance, try again"}'
        excerpt = (
            f"HTTP {status} {phrase}\ncontent-type: application/json\n"
            f"content-length: {len(answer) + 1}\n\n{answer}\n"
        )
        reason = (
            f"HTTP {status} {phrase}"
            if ok
            else f"HTTP {status} {phrase}: the receiver did not accept the delivery."
        )
    else:
        reason = error
    return sending.AttemptResult(
        ok=ok,
        status_code=status,
        latency_ms=latency_ms,
        reason=reason,
        url=url,
        event_type=event_type,
        callback_id=callback_id,
        attempted_at=when,
        request_headers=sent,
        request_body=body,
        response_excerpt=excerpt,
        response_bytes=len(excerpt),
        response_truncated=False,
    )


def build(store: Store, *, variant: str = "full", receiver_url: str | None = None) -> Demo:
    """Fill an empty database with the demo account (see the module notes).

    ``receiver_url`` (e.g. ``http://127.0.0.1:47011``): the demo receiver; the
    full variant gets a webhook to it, so testing it in the demo works offline.
    Leaves the clock fixed at ``NOW``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    with deterministic():
        demo = _Builder(store, variant, receiver_url).run()
    clock.fix(NOW)
    return demo


class _Builder:
    """The demo's month, in the order it happened (audit ids follow the clock)."""

    def __init__(self, store: Store, variant: str, receiver_url: str | None) -> None:
        self.store = store
        self.full = variant == "full"
        self.receiver_url = receiver_url
        clock.fix(at(2, 8, 15))
        maria = _create_account(store)
        self.demo = Demo(maria.account_id, variant, {maria.login: maria})

    # helpers -------------------------------------------------------------------------

    def who(self, login: str) -> accounts.Actor:
        return self.demo.actors[login]

    def enable(self, key: str, login: str) -> int:
        self.demo.integrations[key] = marketplace.enable(self.store, self.who(login), key)
        for b in blueprints.for_integration(
            self.store, self.demo.account_id, self.demo.integrations[key]
        ):
            self.demo.blueprints[b.name] = b.id
        return self.demo.integrations[key]

    def field_ids(self, blueprint: str) -> dict[str, int]:
        bp_id = self.demo.blueprints[blueprint]
        detail = blueprints.detail(self.store, self.demo.account_id, bp_id)
        return {f.name: f.id for f in detail.fields}

    def playbook(self, login: str, name: str, description: str, fields) -> dict[str, int]:
        """A playbook and its data fields (name, description, default value), a minute apart."""
        who = self.who(login)
        pid = playbooks.create(self.store, who, name=name, description=description).id
        self.demo.playbooks[name] = pid
        start = clock.now()
        out = {}
        for k, (fname, fdesc, default) in enumerate(fields, start=1):
            clock.fix(start + timedelta(minutes=k))
            out[fname] = playbooks.add_data_field(
                self.store, who, pid, name=fname, description=fdesc, default_value=default
            ).id
        return out

    def map(self, login: str, playbook: str, blueprint: str, pairs: dict[str, int]) -> None:
        ids = self.field_ids(blueprint)
        pid = self.demo.playbooks[playbook]
        start = clock.now()
        for k, (field_name, data_field_id) in enumerate(pairs.items()):
            clock.fix(start + timedelta(seconds=20 * k))
            playbooks.set_mapping(self.store, self.who(login), pid, ids[field_name], data_field_id)

    # the month -----------------------------------------------------------------------

    def run(self) -> Demo:
        st, demo = self.store, self.demo
        maria = self.who("maria")
        clock.fix(at(2, 8, 20))
        for login, name, role, manage in PEOPLE[1:]:
            users.add(st, maria, login, name=name, role=role, can_manage=manage)
        clock.fix(at(3, 9, 2))
        demo.actors["jonas"] = accounts.sign_in(st, "jonas")

        clock.fix(at(3, 10, 5))
        self.enable("salesforce", "maria")
        clock.fix(at(4, 14, 30))
        self.enable("hubspot", "jonas")
        clock.fix(at(5, 9, 10))
        self.enable("slack", "jonas")
        clock.fix(at(6, 13, 0))
        self.enable("pipedrive", "jonas")
        clock.fix(at(9, 16, 45))
        marketplace.disable(st, maria, "pipedrive")  # evaluated, then paused

        if self.full:
            self.custom_integration()  # days 10-15
        self.sales_agreement()  # day 16
        if self.full:
            self.more_tokens()  # days 17-18
        self.framework_agreement()  # day 19
        if self.full:
            clock.fix(at(21, 10, 20))
            tokens.revoke(st, maria, self.trial_token_id)  # the trial is over
            self.delivery_history()  # days 14-27, logged as they happened
        self.plain_playbooks()  # days 24-25
        clock.fix(at(25, 11, 12))
        demo.actors["sara"] = accounts.sign_in(st, "sara")
        if self.full:
            self.api_activity(API_DAYS_BEFORE)  # days 26-27
        clock.fix(at(27, 15, 40))
        demo.actors["li"] = accounts.sign_in(st, "li")
        if self.full:
            self.api_activity(API_THIS_MORNING)  # day 28, until 08:55
            clock.fix(at(28, 8, 55))
            tokens.verify(st, self.erp_token)  # the ERP's last call this morning
            del self.erp_token, self.reporting_token
        clock.fix(at(28, 9, 0))
        # The demo's receiver is on loopback, which the destination guard refuses
        # unless the account allows private networks: turned on, audit-logged.
        settings.set_allow_private_webhooks(st, maria, True)
        if self.full and self.receiver_url:
            self.receiver_webhook()  # 09:05
        clock.fix(NOW)
        demo.actors["maria"] = accounts.sign_in(st, "maria")
        return demo

    def custom_integration(self) -> None:
        st = self.store
        maria, jonas = self.who("maria"), self.who("jonas")
        clock.fix(at(10, 9, 0))
        custom = self.enable(catalog.CUSTOM_KEY, "maria")
        specs = {
            "Order data": (
                "Orders synced from the ERP",
                [
                    ("Order number", "The ERP's order id", True),
                    ("Customer number", "Customer id in the ERP", True),
                    ("Total amount", "Order total incl. VAT", True),
                    ("Currency", "ISO 4217 code, e.g. SEK", False),
                    ("Delivery date", "Promised delivery date", False),
                ],
            ),
            "Customer master": (
                "Customers as kept in the ERP's customer register",
                [
                    ("Customer number", "Customer id in the ERP", True),
                    ("Company name", "Registered company name", True),
                    ("VAT number", "EU VAT registration number", False),
                    ("Billing email", "Where invoices are sent", False),
                ],
            ),
        }
        for i, (name, (description, fields)) in enumerate(specs.items()):
            clock.fix(at(10, 9, 5 + 20 * i))
            bp = blueprints.create(st, maria, custom, name=name, description=description)
            self.demo.blueprints[name] = bp.id
            for j, (fname, fdesc, required) in enumerate(fields, start=1):
                clock.fix(at(10, 9, 5 + 20 * i + j))
                blueprints.add_field(
                    st, maria, bp.id, name=fname, description=fdesc, mapping_required=required
                )

        clock.fix(at(12, 10, 0))
        _, self.erp_token = tokens.generate(st, maria, custom, name="ERP connector")

        # The ERP's webhook: signed, verified by a test, then a fortnight of deliveries.
        clock.fix(at(13, 11, 0))
        erp = webhooks.create(
            st,
            maria,
            custom,
            url=ERP_URL,
            sign_key=ERP_KEY,
            event_types=[
                "contract:publish",
                "contract:sign",
                "contract:decline",
                "participant:sign",
            ],
            test=_delivery(
                ERP_URL,
                ERP_KEY,
                n=0,
                event_type=webhooks.TEST_EVENT,
                when=at(13, 10, 58),
                status=200,
                latency_ms=212,
            ),
        )
        self.demo.webhooks[ERP_URL] = erp.id
        # The old CRM's webhook, unsigned: its host is gone since, deliveries fail.
        clock.fix(at(15, 9, 30))
        self.demo.webhooks[OLD_URL] = webhooks.create(st, jonas, custom, url=OLD_URL).id

    def more_tokens(self) -> None:
        st, jonas = self.store, self.who("jonas")
        custom = self.demo.integrations[catalog.CUSTOM_KEY]
        clock.fix(at(17, 8, 30))
        _, self.reporting_token = tokens.generate(
            st, jonas, custom, name="Reporting", expires_in_days=90
        )
        clock.fix(at(18, 14, 0))
        trial, _ = tokens.generate(st, jonas, custom, name="Zapier trial", expires_in_days=30)
        self.trial_token_id = trial.id

    def delivery_history(self) -> None:
        aid = self.demo.account_id
        erp, old = self.demo.webhooks[ERP_URL], self.demo.webhooks[OLD_URL]
        timeout = "Timeout: erp.northwind.example did not answer within 10 s."
        dns = (
            "DNS: the name crm-old.northwind.example could not be resolved "
            "(Name or service not known)."
        )
        rows = [  # webhook, url, key, n, event, when, status, latency, error
            (erp, ERP_URL, ERP_KEY, 1, "contract:publish", at(14, 10, 12, 3), 200, 184, ""),
            (erp, ERP_URL, ERP_KEY, 2, "participant:sign", at(14, 15, 38, 41), 200, 171, ""),
            (erp, ERP_URL, ERP_KEY, 3, "contract:sign", at(14, 15, 40, 2), 200, 190, ""),
            (erp, ERP_URL, ERP_KEY, 4, "contract:publish", at(19, 9, 5, 17), 200, 203, ""),
            (old, OLD_URL, None, 4, "contract:publish", at(19, 9, 5, 17), None, 3, dns),
            (erp, ERP_URL, ERP_KEY, 5, "contract:sign", at(20, 11, 3, 0), 503, 95, ""),
            (old, OLD_URL, None, 5, "contract:sign", at(20, 11, 3, 0), None, 2, dns),
            (erp, ERP_URL, ERP_KEY, 5, "contract:sign", at(20, 11, 3, 1), 200, 176, ""),
            (erp, ERP_URL, ERP_KEY, 6, "contract:decline", at(24, 16, 20, 9), None, 10000, timeout),
            (erp, ERP_URL, ERP_KEY, 6, "contract:decline", at(24, 16, 20, 20), 200, 231, ""),
            (erp, ERP_URL, ERP_KEY, 7, "contract:publish", at(27, 13, 44, 52), 200, 168, ""),
        ]
        with change(self.store, None, "build the demo", check=anyone, account_id=aid) as c:
            s = c.s
            for hook, url, key, n, event, when, status, latency, error in rows:
                # A retry keeps its callback id (receivers deduplicate on it).
                cid = fake_callback_id(1000 + n + (100 if hook == old else 0))
                delivery_log.log_attempt(
                    s,
                    hook,
                    _delivery(
                        url,
                        key,
                        n=n,
                        event_type=event,
                        when=when,
                        status=status,
                        latency_ms=latency,
                        error=error,
                        contract_id=4100 + n,
                        callback_id=cid,
                    ),
                )

    def sales_agreement(self) -> None:
        """Complete: fed by Salesforce (and, in the full demo, the ERP's order data)."""
        st, bp = self.store, self.demo.blueprints
        maria = self.who("maria")
        clock.fix(at(16, 10, 0))
        df = self.playbook(
            "maria",
            "Sales agreement",
            "Standard terms for orders from the web shop",
            [
                ("Order number", "Printed in the agreement's header", ""),
                ("Customer number", "", ""),
                ("Total amount", "Including VAT", ""),
                ("Currency", "", "SEK"),
                ("Payment terms", "Days until payment is due", "30 days"),
            ],
        )
        sales = self.demo.playbooks["Sales agreement"]
        clock.fix(at(16, 10, 20))
        playbooks.connect(st, maria, sales, bp["Salesforce fields"])
        clock.fix(at(16, 10, 22))
        playbooks.create_data_fields_from_blueprint(st, maria, sales, bp["Salesforce fields"])
        if self.full:
            clock.fix(at(16, 10, 30))
            playbooks.connect(st, maria, sales, bp["Order data"])
            clock.fix(at(16, 10, 31))
            names = ("Order number", "Customer number", "Total amount", "Currency")
            self.map("maria", "Sales agreement", "Order data", {n: df[n] for n in names})

    def framework_agreement(self) -> None:
        """Incomplete: HubSpot's required Company name is not mapped."""
        st, bp = self.store, self.demo.blueprints
        jonas = self.who("jonas")
        clock.fix(at(19, 13, 0))
        df = self.playbook(
            "jonas",
            "Framework agreement",
            "Yearly framework for key accounts",
            [
                ("Deal ID", "", ""),
                ("Customer number", "", ""),
                ("Company name", "Legal name of the customer", ""),
                ("Contract period", "", "12 months"),
            ],
        )
        frame = self.demo.playbooks["Framework agreement"]
        clock.fix(at(19, 13, 10))
        playbooks.connect(st, jonas, frame, bp["HubSpot fields"])
        clock.fix(at(19, 13, 11))
        self.map("jonas", "Framework agreement", "HubSpot fields", {"Deal ID": df["Deal ID"]})
        if self.full:
            clock.fix(at(19, 13, 20))
            playbooks.connect(st, jonas, frame, bp["Customer master"])
            clock.fix(at(19, 13, 21))
            self.map(
                "jonas",
                "Framework agreement",
                "Customer master",
                {"Customer number": df["Customer number"]},
            )

    def plain_playbooks(self) -> None:
        st, bp = self.store, self.demo.blueprints
        clock.fix(at(24, 9, 30))
        self.playbook(
            "maria",
            "Non-disclosure agreement",
            "Mutual NDA",
            [
                ("Counterparty", "The other party's legal name", ""),
                ("Effective date", "", ""),
                ("Term", "", "2 years"),
            ],
        )
        clock.fix(at(25, 8, 45))
        df = self.playbook(
            "jonas",
            "Signing notifications",
            "Post to Slack when an agreement is signed",
            [("Slack channel", "", "#sales")],
        )
        clock.fix(at(25, 8, 50))
        playbooks.connect(
            st, self.who("jonas"), self.demo.playbooks["Signing notifications"], bp["Slack fields"]
        )
        clock.fix(at(25, 8, 51))
        self.map("jonas", "Signing notifications", "Slack fields", {"Channel": df["Slack channel"]})

    def api_activity(self, calls: tuple[tuple, ...]) -> None:
        """The ERP and the reporting job calling the integration API, as ``serve``
        would have handled them: each call authenticated (the token's last use,
        the rate-limit count), the contract changes made through the store, and
        every request logged with its status and latency."""
        st = self.store
        sales = self.demo.playbooks["Sales agreement"]
        made: dict[str, int] = getattr(self, "contracts_made", {})
        self.contracts_made = made
        for when, who, method, path, status, latency, call in calls:
            clock.fix(when)
            caller = apiaccess.authenticate(
                st, self.erp_token if who == "erp" else self.reporting_token
            )
            if call is not None:
                verb, name, values = call
                if verb == "create":
                    made[name[-5:]] = contracts.create(
                        st, caller, playbook_id=sales, name=name, values=values
                    ).contract.id
                elif verb == "update":
                    contracts.update(st, caller, made[name[-5:]], values=values)
                else:
                    getattr(contracts, verb)(st, caller, made[name[-5:]])
            shown = path.format(**{f"n{k}": v for k, v in made.items()})
            apiaccess.record_request(
                st, caller, method=method, path=shown, status=status, latency_ms=latency
            )

    def receiver_webhook(self) -> None:
        """The demo receiver on this machine: `t` on it works, offline."""
        assert self.receiver_url
        url = f"{self.receiver_url}/hooks/contracts"
        key = fake_signing_key(101)
        clock.fix(at(28, 9, 5))
        hook = webhooks.create(
            self.store,
            self.who("maria"),
            self.demo.integrations[catalog.CUSTOM_KEY],
            url=url,
            sign_key=key,
            test=_delivery(
                url,
                key,
                n=20,
                event_type=webhooks.TEST_EVENT,
                when=at(28, 9, 4, 30),
                status=200,
                latency_ms=4,
            ),
        )
        self.demo.webhooks[url] = hook.id


ERP_URL = "https://erp.northwind.example/hooks/contracts"
ERP_KEY = fake_signing_key(100)
OLD_URL = "https://crm-old.northwind.example/notify"


def _order(number: str, customer: str, total: str, currency: str | None = "SEK") -> dict:
    values = {"Order number": number, "Customer number": customer, "Total amount": total}
    if currency:
        values["Currency"] = currency
    return values


# The integration API's calls in the demo: (when, token, method, path, status,
# latency in ms, the store call or None). ``{n10452}`` in a path is the id of
# the contract of that name, known once it is made.
API_DAYS_BEFORE: tuple[tuple, ...] = (
    (at(26, 10, 1, 12), "erp", "GET", "/v1/playbooks", 200, 6.4, None),
    (
        at(26, 10, 2, 3),
        "erp",
        "POST",
        "/v1/contracts",
        201,
        14.8,
        ("create", "Order SO-10452", _order("SO-10452", "C-2231", "48 200.00")),
    ),
    (
        at(26, 10, 2, 4),
        "erp",
        "POST",
        "/v1/contracts/{n10452}/publish",
        200,
        9.1,
        ("publish", "Order SO-10452", None),
    ),
    (
        at(26, 14, 20, 40),
        "erp",
        "POST",
        "/v1/contracts/{n10452}/sign",
        200,
        8.7,
        ("sign", "Order SO-10452", None),
    ),
    (
        at(26, 15, 30, 2),
        "erp",
        "POST",
        "/v1/contracts",
        201,
        12.9,
        ("create", "Order SO-10458", _order("SO-10458", "C-1187", "9 950.00", "EUR")),
    ),
    (
        at(26, 15, 30, 3),
        "erp",
        "POST",
        "/v1/contracts/{n10458}/publish",
        200,
        8.2,
        ("publish", "Order SO-10458", None),
    ),
    (at(27, 7, 0, 0), "reporting", "GET", "/v1/contracts/{n10452}", 200, 3.9, None),
    (at(27, 7, 0, 1), "reporting", "GET", "/v1/contracts/{n10458}", 200, 3.6, None),
    (
        at(27, 9, 10, 15),
        "erp",
        "POST",
        "/v1/contracts/{n10458}/decline",
        200,
        9.6,
        ("decline", "Order SO-10458", None),
    ),
)
API_THIS_MORNING: tuple[tuple, ...] = (
    (at(28, 7, 0, 0), "reporting", "GET", "/v1/contracts/{n10458}", 200, 3.7, None),
    (at(28, 8, 40, 30), "erp", "GET", "/v1/ping", 200, 1.9, None),
    (
        at(28, 8, 41, 5),
        "erp",
        "POST",
        "/v1/contracts",
        201,
        13.5,
        ("create", "Order SO-10461", _order("SO-10461", "C-2231", "112 480.00")),
    ),
    (
        at(28, 8, 41, 6),
        "erp",
        "POST",
        "/v1/contracts/{n10461}/publish",
        200,
        8.8,
        ("publish", "Order SO-10461", None),
    ),
    # Refused (a required field missing): logged, nothing made.
    (at(28, 8, 50, 44), "erp", "POST", "/v1/contracts", 422, 5.2, None),
    (
        at(28, 8, 52, 10),
        "erp",
        "POST",
        "/v1/contracts",
        201,
        12.1,
        ("create", "Order SO-10463", _order("SO-10463", "C-3020", "3 120.00", None)),
    ),
    (
        at(28, 8, 52, 11),
        "erp",
        "PATCH",
        "/v1/contracts/{n10463}",
        200,
        10.4,
        ("update", "Order SO-10463", {"Total amount": "3 210.00"}),
    ),
)
