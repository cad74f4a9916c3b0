"""The large account the benchmark measures, built once per run.

Everything an administrator creates goes through the store's own functions
(``marketplace.enable``, ``blueprints.create``, ``tokens.generate``,
``webhooks.create``, ``playbooks.create`` / ``connect`` /
``create_data_fields_from_blueprint``), so permissions, limits and audit
entries are the program's. Only the bulk (blueprint fields, the other
playbooks' data fields, 100,000 deliveries, 100,000 audit entries) is inserted
directly, through the models' tables, in a few transactions: rows of exactly
the shape the program writes, without waiting an hour for them.

- all 10 native integrations and the Custom integration enabled;
- 15 custom blueprints (the limit raised to 15 with ``set_plan_and_limits``):
  10 of 100 fields, and the 5 of 60 fields the largest playbook connects;
- 100 playbooks: "Largest" with 300 data fields mapped from its 5 connected
  blueprints (300 mappings), 99 others with 20 data fields and one connected
  blueprint each;
- 200 API tokens and 50 webhooks on the Custom integration (the natives add
  their 10 managed tokens and 10 managed webhooks);
- 100,000 delivery attempts of one webhook ("the busy webhook") over a year:
  attempts of some 90,000 events (each event's delivery in the queue with its
  state, a failed first attempt followed by a delivered second), one in twenty
  a Test;
- 100,000 audit entries of history before the build, plus the build's own;
- 100,000 API requests of the Custom integration's 200 tokens over a year.

``build(url, scale=1_000_000)`` (the benchmark's ``--scale 1m``) makes the three
logs a million rows each; rows are made and inserted a chunk at a time
(``BATCH``), with progress on the log, so memory stays flat.
"""

from __future__ import annotations

import getpass
import json
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select

from store import (
    accounts,
    blueprints,
    catalog,
    clock,
    deliveries,
    marketplace,
    playbooks,
    tokens,
    webhooks,
)
from store.accounts import Actor
from store.db import Store
from store.models import (
    ApiRequest,
    AuditEntry,
    BlueprintField,
    DataField,
    Delivery,
    Event,
    EventDelivery,
)

N_BIG_BLUEPRINTS = 10  # of 100 fields
N_LARGEST_BLUEPRINTS = 5  # of 60 fields, connected to the largest playbook
N_PLAYBOOKS = 100
N_TOKENS = 200
N_WEBHOOKS = 50
N_DELIVERIES = 100_000  # the default scale of the three logs
N_AUDIT = 100_000
N_API_REQUESTS = 100_000
LARGEST = "Largest playbook"
BUSY_HOOK_URL = "https://hooks.example.com/contracts/busy"
BATCH = 5_000
API_PATHS = (
    ("GET", "/v1/blueprints", 200),
    ("GET", "/v1/playbooks", 200),
    ("POST", "/v1/contracts", 201),
    ("GET", "/v1/contracts/{n}", 200),
    ("GET", "/v1/contracts/{n}", 404),
    ("POST", "/v1/contracts", 422),
    ("GET", "/v1/blueprints/{n}", 200),
    ("GET", "/v1/ping", 200),
)

ACTORS = ("maria", "jonas", "sara", "li", "ops-bot", "deploy", "anna.k", "p.novak")
ACTIONS = (
    ("field.create", "blueprint_field"),
    ("field.update", "blueprint_field"),
    ("token.generate", "api_token"),
    ("token.revoke", "api_token"),
    ("webhook.create", "webhook"),
    ("webhook.update", "webhook"),
    ("playbook.create", "playbook"),
    ("playbook.update", "playbook"),
    ("data_field.create", "data_field"),
    ("mapping.set", "mapping"),
    ("blueprint.connect", "playbook"),
    ("extension.enable", "integration"),
)
FAILURES = (
    (503, None),
    (500, None),
    (404, None),
    (None, "Timeout: hooks.example.com did not answer within 10 s"),
    (None, "Refused: hooks.example.com (203.0.113.7) refused the connection"),
    (None, "DNS: hooks.example.com does not resolve"),
)
CHANGED = ("name", "description", "required", "url", "events")
EVENT_TYPES = (
    "contract:publish",
    "contract:sign",
    "contract:decline",
    "participant:sign",
    "participant:first_visit",
    "data_field:update",
)


@dataclass(frozen=True)
class LargeAccount:
    url: str
    login: str
    account_id: int
    largest_playbook_id: int
    busy_webhook_id: int
    custom_integration_id: int
    field_blueprint_id: int  # a custom blueprint that store-op benchmarks add fields to
    counts: dict[str, int]


def _bulk_fields(store: Store, owner: Actor, bp_id: int, n: int, prefix: str) -> None:
    now = clock.now()
    with store.write(owner.account_id) as s:
        s.add_all(
            BlueprintField(
                blueprint_id=bp_id,
                name=f"{prefix} {i:03d}",
                description=f"{prefix}: field number {i}",
                mapping_required=(i % 10 == 0),
                position=i,
                created_at=now,
            )
            for i in range(1, n + 1)
        )


def _crm_blueprints(store: Store, owner: Actor, custom: int) -> list[int]:
    """The 5 blueprints of 60 fields that the largest playbook connects."""
    ids = []
    for b in range(N_LARGEST_BLUEPRINTS):
        bp = blueprints.create(store, owner, custom, name=f"CRM objects {b + 1}")
        _bulk_fields(store, owner, bp.id, 60, f"CRM{b + 1} field")
        ids.append(bp.id)
    return ids


def _largest_playbook(store: Store, owner: Actor, blueprint_ids: list[int]) -> int:
    """The largest playbook: its data fields made from, and mapped to, every
    field of ``blueprint_ids`` (300 for the 5 CRM blueprints)."""
    largest = playbooks.create(store, owner, name=LARGEST, description="300 data fields")
    for bp_id in blueprint_ids:
        playbooks.connect(store, owner, largest.id, bp_id)
        playbooks.create_data_fields_from_blueprint(store, owner, largest.id, bp_id)
    return largest.id


def largest_playbook_only(url: str) -> tuple[str, int]:
    """An account holding only the large account's largest playbook (300 data
    fields mapped from 5 blueprints of 60 fields): for the memory test and
    benchmark, in seconds instead of the whole account's minute. Returns the
    owner's login and the playbook's id."""
    store = Store(url)
    store.prepare()
    login = getpass.getuser()
    owner = accounts.sign_in(store, login)
    accounts.set_plan_and_limits(
        store,
        owner.account_id,
        operator="operator:bench",
        plan="Enterprise",
        limits={"custom_blueprints": N_LARGEST_BLUEPRINTS},
    )
    custom = marketplace.enable(store, owner, catalog.CUSTOM_KEY)
    pid = _largest_playbook(store, owner, _crm_blueprints(store, owner, custom))
    store.dispose()
    return login, pid


def _chunks(store: Store, account_id: int, model, n: int, make, label: str, log) -> None:
    """Insert ``n`` rows made by ``make(i)``, a chunk of ``BATCH`` per transaction,
    saying how far it got every tenth of the way (a million rows take minutes)."""
    t0 = time.perf_counter()
    step = max(BATCH, (n // 10) // BATCH * BATCH)
    for k in range(0, n, BATCH):
        rows = [make(i) for i in range(k, min(n, k + BATCH))]
        with store.write(account_id) as s:
            s.execute(insert(model), rows)
        done = min(n, k + BATCH)
        if n > 100_000 and (done % step == 0 or done == n):
            log(f"    {label}: {done:,} of {n:,} ({time.perf_counter() - t0:5.1f} s)")


def _audit_history(store: Store, account_id: int, n: int, rng: random.Random, log=print) -> None:
    """A year of other administrators' work, oldest first (ids follow time)."""
    start = clock.now() - timedelta(days=365)
    step = timedelta(days=365) / n

    def make(i: int) -> dict:
        action, otype = ACTIONS[rng.randrange(len(ACTIONS))]
        oid = rng.randrange(1, 5000)
        return dict(
            account_id=account_id,
            at=start + step * i,
            actor=ACTORS[rng.randrange(len(ACTORS))],
            action=action,
            object_type=otype,
            object_id=oid,
            object_name=f"{otype.replace('_', ' ').title()} {oid}",
            detail=f"changed by script run {i // 100}; {rng.choice(CHANGED)}",
        )

    _chunks(store, account_id, AuditEntry, n, make, "audit entries", log)


TEST_SHARE = 0.05  # of the busy webhook's attempts: Tests (no event); the rest are events


def _delivery_history(
    store: Store,
    account_id: int,
    webhook_id: int,
    key: str,
    n: int,
    rng: random.Random,
    log=print,
) -> None:
    """One webhook's delivery log over a year, ``n`` attempts as the dispatcher and
    ``deliveries.log_attempt`` write them: the real body, the real signatures, the
    receiver's answer. Most are attempts of events (an ``event`` row, its
    ``event_delivery`` with its state, and the attempt pointing at it: a failed
    first attempt is followed by a second, delivered, half a minute later); one in
    twenty is a Test. A chunk of ``BATCH`` attempts per transaction."""
    start = clock.now() - timedelta(days=365)
    step = timedelta(days=365) / n
    ok_excerpt = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{"received": true}'

    def attempt(at, callback_id: str, event_type: str, fail: bool) -> dict:
        events = [deliveries.Event(id=rng.randrange(1, 2**31), type=event_type, created_at=at)]
        body = deliveries.build_body(callback_id, events, key, contract_id=rng.randrange(1, 10**6))
        headers = deliveries.build_headers(callback_id, int(at.timestamp()), body, key)
        status, error, excerpt = 200, None, ok_excerpt
        if fail:
            status, error = FAILURES[rng.randrange(len(FAILURES))]
            if status is not None:
                error = f"HTTP {status}"
                excerpt = f"HTTP/1.1 {status} Error\r\ncontent-type: text/plain\r\n\r\nupstream"
            else:
                excerpt = ""
        return dict(
            webhook_id=webhook_id,
            callback_id=callback_id,
            event_type=event_type,
            url=BUSY_HOOK_URL,
            attempted_at=at,
            success=error is None,
            status_code=status,
            latency_ms=rng.randrange(20, 900),
            error=error,
            request_headers=json.dumps([list(h) for h in headers.items()]),
            request_body=body,
            response_excerpt=excerpt,
            resend_of_id=None,
        )

    t0 = time.perf_counter()
    made = 0
    tenth = max(BATCH, (n // 10) // BATCH * BATCH)
    said = 0
    while made < n:
        # One chunk: (attempts, or None for a Test) per event delivery, oldest first.
        plan: list[tuple[str, str, list[dict]]] = []
        tests: list[dict] = []
        while made < n and sum(len(p[2]) for p in plan) + len(tests) < BATCH:
            at = start + step * made
            callback_id = f"{rng.getrandbits(160):040x}"
            event_type = EVENT_TYPES[rng.randrange(len(EVENT_TYPES))]
            fail = rng.random() >= 0.9
            if rng.random() < TEST_SHARE:
                tests.append(attempt(at, callback_id, event_type, fail))
                made += 1
                continue
            tries = [attempt(at, callback_id, event_type, fail)]
            made += 1
            if fail and made < n:
                tries.append(attempt(at + timedelta(seconds=30), callback_id, event_type, False))
                made += 1
            plan.append((callback_id, event_type, tries))
        with store.write(account_id) as s:
            event_ids = s.execute(
                insert(Event).returning(Event.id, sort_by_parameter_order=True),
                [
                    dict(
                        account_id=account_id,
                        type=event_type,
                        payload=json.dumps({"contract_id": rng.randrange(1, 10**6)}),
                        created_at=tries[0]["attempted_at"],
                    )
                    for _, event_type, tries in plan
                ],
            ).scalars()
            queue_ids = s.execute(
                insert(EventDelivery).returning(EventDelivery.id, sort_by_parameter_order=True),
                [
                    dict(
                        event_id=event_id,
                        webhook_id=webhook_id,
                        account_id=account_id,
                        callback_id=callback_id,
                        event_type=event_type,
                        state="delivered" if tries[-1]["success"] else "exhausted",
                        attempts=len(tries) if tries[-1]["success"] else 10,
                        created_at=tries[0]["attempted_at"],
                        last_attempt_at=tries[-1]["attempted_at"],
                        last_status=tries[-1]["status_code"],
                        last_error=tries[-1]["error"],
                        delivered_at=tries[-1]["attempted_at"] if tries[-1]["success"] else None,
                    )
                    for event_id, (callback_id, event_type, tries) in zip(
                        list(event_ids), plan, strict=True
                    )
                ],
            ).scalars()
            rows = [
                {**row, "event_delivery_id": queue_id, "attempt": number}
                for queue_id, (_, _, tries) in zip(list(queue_ids), plan, strict=True)
                for number, row in enumerate(tries, start=1)
            ]
            s.execute(insert(Delivery), sorted(rows + tests, key=lambda r: r["attempted_at"]))
        if n > 100_000 and (made // tenth > said or made >= n):
            said = made // tenth
            log(f"    deliveries: {made:,} of {n:,} ({time.perf_counter() - t0:5.1f} s)")


def _api_request_history(
    store: Store,
    account_id: int,
    integration_id: int,
    token_ids: list[tuple[int, str]],
    n: int,
    rng: random.Random,
    log=print,
) -> None:
    """The Custom integration's API request log over a year (its tokens' ids and hints)."""
    start = clock.now() - timedelta(days=365)
    step = timedelta(days=365) / n

    def make(i: int) -> dict:
        token_id, hint = token_ids[rng.randrange(len(token_ids))]
        method, path, status = API_PATHS[rng.randrange(len(API_PATHS))]
        return dict(
            account_id=account_id,
            integration_id=integration_id,
            token_id=token_id,
            token_hint=hint,
            at=start + step * i,
            method=method,
            path=path.replace("{n}", str(rng.randrange(1, 10**6))),
            status=status,
            latency_ms=round(rng.uniform(0.5, 40.0), 3),
        )

    _chunks(store, account_id, ApiRequest, n, make, "API requests", log)


def build(url: str, *, log=print, scale: int = N_AUDIT) -> LargeAccount:
    """Fill the empty database at ``url`` with the large account; the owner is
    the current OS login, as when the program opens it. ``scale``: the rows of
    each of the three logs (audit entries, deliveries, API requests)."""
    rng = random.Random(20261128)
    store = Store(url)
    store.prepare()
    t0 = time.perf_counter()
    login = getpass.getuser()
    owner = accounts.sign_in(store, login)
    aid = owner.account_id
    _audit_history(store, aid, scale, rng, log)
    accounts.set_plan_and_limits(
        store,
        aid,
        operator="operator:bench",
        plan="Enterprise",
        limits={"custom_blueprints": N_BIG_BLUEPRINTS + N_LARGEST_BLUEPRINTS},
    )
    for ext in catalog.EXTENSIONS:
        iid = marketplace.enable(store, owner, ext.key)
        if not ext.native:
            custom = iid
    log(f"  audit history and integrations: {time.perf_counter() - t0:5.1f} s")

    big = []
    for b in range(N_BIG_BLUEPRINTS):
        bp = blueprints.create(
            store, owner, custom, name=f"ERP objects {b + 1}", description="100 fields"
        )
        _bulk_fields(store, owner, bp.id, 100, f"ERP{b + 1} field")
        big.append(bp.id)
    for_largest = _crm_blueprints(store, owner, custom)
    largest_id = _largest_playbook(store, owner, for_largest)
    for p in range(1, N_PLAYBOOKS):
        pb = playbooks.create(store, owner, name=f"Playbook {p:03d}")
        playbooks.connect(store, owner, pb.id, big[p % len(big)])
        with store.write(aid) as s:
            s.add_all(
                DataField(
                    playbook_id=pb.id, name=f"Field {i:02d}", position=i, created_at=clock.now()
                )
                for i in range(1, 21)
            )
    log(f"  blueprints and playbooks:        {time.perf_counter() - t0:5.1f} s")

    service_tokens = []
    for t in range(N_TOKENS):
        info, _ = tokens.generate(store, owner, custom, name=f"Service token {t + 1:03d}")
        service_tokens.append((info.id, info.hint))
    hooks = []
    for w in range(N_WEBHOOKS):
        url_w = BUSY_HOOK_URL if w == 0 else f"https://hooks.example.com/contracts/{w:02d}"
        hooks.append(
            webhooks.create(
                store,
                owner,
                custom,
                url=url_w,
                sign_key=webhooks.generate_signing_key(),
            ).id
        )
    busy = hooks[0]
    key = webhooks.reveal_key(store, owner, busy)
    assert key is not None
    log(f"  tokens and webhooks:             {time.perf_counter() - t0:5.1f} s")
    _delivery_history(store, aid, busy, key, scale, rng, log)
    log(f"  deliveries:                      {time.perf_counter() - t0:5.1f} s")
    _api_request_history(store, aid, custom, service_tokens, scale, rng, log)
    log(f"  API requests:                    {time.perf_counter() - t0:5.1f} s")

    with store.read() as s:

        def n(model, *where) -> int:
            return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar())

        from store.models import ApiToken, Blueprint, Mapping, Playbook, Webhook

        counts = {
            "custom blueprints": n(Blueprint, Blueprint.native.is_(False)),
            "blueprint fields": n(BlueprintField),
            "playbooks": n(Playbook),
            "data fields": n(DataField),
            "mappings": n(Mapping),
            "API tokens (incl. managed)": n(ApiToken),
            "webhooks (incl. managed)": n(Webhook),
            "deliveries": n(Delivery),
            "event deliveries (the queue)": n(EventDelivery),
            "audit entries": n(AuditEntry),
            "API requests": n(ApiRequest),
        }
    store.dispose()
    return LargeAccount(
        url=url,
        login=login,
        account_id=aid,
        largest_playbook_id=largest_id,
        busy_webhook_id=busy,
        custom_integration_id=custom,
        field_blueprint_id=big[0],
        counts=counts,
    )
