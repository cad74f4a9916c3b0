"""Hostile input: every store entry point that takes text gets arbitrary text
(unicode, control characters, lone surrogates, 10,000 characters, SQL and
terminal escape sequences, markup). Each call either succeeds (and stores what
the validation kept, read back identically) or raises a DomainError with a
message, and then the database is exactly as before (compared by a full dump).
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
import unicodedata
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Select, func, select
from sqlmodel import SQLModel

from store import (
    accounts,
    apiaccess,
    audit,
    blueprints,
    catalog,
    clock,
    contracts,
    deliveries,
    delivery_log,
    delivery_states,
    dispatch,
    integrations,
    marketplace,
    payload,
    playbooks,
    receiver,
    replay,
    sending,
    settings,
    snippets,
    tokens,
    users,
    validate,
    webhooks,
)
from store.catalog import CUSTOM_KEY
from store.change import anyone, change
from store.errors import DomainError, TokenRefused, ValidationError

from . import dump

SPECIALS = [
    "",
    "   ",
    "x" * 10_000,
    "a" * 100,
    " " + "b" * 100 + " ",
    "'; DROP TABLE blueprint; --",
    '" OR 1=1 --',
    "Robert'); DELETE FROM account WHERE ('1'='1",
    "%",
    "_",
    "\\",
    "\x1b[31mred\x1b[0m",
    "\x1b]52;c;aGVsbG8=\x07",  # OSC 52: write the clipboard
    "\x1b[2J\x1b[H",
    "\x9b31m",  # 8-bit CSI
    "[bold]x[/bold]",
    "[@click=app.quit]quit[/]",
    "[link=https://evil.example]x[/link]",
    "[/]",
    "\x00",
    "nul\x00inside",
    "\u202egnp.exe",
    "zero\u200bwidth",
    "line\nbreak",
    "tab\there",
    "\r",
    "\u2028",
    "\ud800",  # a lone surrogate (what surrogateescape makes of bad UTF-8 bytes)
    "bad\udcffbyte",
    "名前 🚀 Ünïcødé",
    "e\u0301" * 60,
    "\ufdfd" * 40,
    "🏳️‍🌈" * 30,
    "https://hooks.example.com/x",
    "whsec_" + "A" * 44,
]

# Any character at all, surrogates included (hypothesis leaves them out by default).
any_char = st.characters(codec=None, exclude_categories=())
hostile = st.one_of(
    st.text(max_size=120),
    st.text(any_char, max_size=40),
    st.sampled_from(SPECIALS),
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(SPECIALS),
        st.text(any_char, max_size=8),
        st.sampled_from(SPECIALS),
    ),
)
# URLs that get past the first checks, to reach the deeper ones.
hostile_url = st.one_of(hostile, st.builds(lambda t: "https://hooks.example.com/" + t, hostile))
PROPS = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,  # no .hypothesis folder in the checkout; failures print their example
)


def attempt(store, fn, *args, **kwargs):
    """Call; a DomainError must leave the database unchanged. Returns the value or None."""
    before = dump(store)
    try:
        return fn(*args, **kwargs)
    except DomainError as exc:
        assert str(exc).strip(), "a refusal says why"
        assert dump(store) == before, f"{type(exc).__name__} changed the database"
        return None


@pytest.fixture
def ctx(store, owner):
    """An account with high limits (so successes keep happening), the Custom
    integration, one blueprint, field, playbook and webhook to edit."""
    accounts.set_plan_and_limits(
        store,
        owner.account_id,
        operator="test",
        limits={"custom_blueprints": 10_000, "playbooks": 10_000, "data_fields": 10_000},
    )
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    bp = blueprints.create(store, owner, iid, name="Target")
    field = blueprints.add_field(store, owner, bp.id, name="Target field")
    pb = playbooks.create(store, owner, name="Target playbook")
    hook = webhooks.create(store, owner, iid, url="https://hooks.example.com/target")
    return {
        "store": store,
        "owner": owner,
        "iid": iid,
        "bp": bp,
        "field": field,
        "pb": pb,
        "hook": hook,
    }


def _kept(text: str) -> str:
    return text.strip()


@PROPS
@given(name=hostile, description=hostile)
def test_blueprint_create(ctx, name, description):
    store, owner = ctx["store"], ctx["owner"]
    info = attempt(
        store, blueprints.create, store, owner, ctx["iid"], name=name, description=description
    )
    if info is not None:
        again = blueprints.detail(store, owner.account_id, info.id).blueprint
        assert (again.name, again.description) == (_kept(name), _kept(description))


@PROPS
@given(name=hostile, description=hostile)
def test_blueprint_update(ctx, name, description):
    store, owner = ctx["store"], ctx["owner"]
    info = attempt(
        store, blueprints.update, store, owner, ctx["bp"].id, name=name, description=description
    )
    if info is not None:
        assert info.name == _kept(name)


@PROPS
@given(name=hostile, description=hostile, required=st.booleans())
def test_blueprint_add_and_update_field(ctx, name, description, required):
    store, owner = ctx["store"], ctx["owner"]
    f = attempt(
        store,
        blueprints.add_field,
        store,
        owner,
        ctx["bp"].id,
        name=name,
        description=description,
        mapping_required=required,
    )
    if f is not None:
        assert (f.name, f.description, f.mapping_required) == (
            _kept(name),
            _kept(description),
            required,
        )
    attempt(
        store,
        blueprints.update_field,
        store,
        owner,
        ctx["field"].id,
        name=name,
        description=description,
        mapping_required=required,
    )


@PROPS
@given(name=hostile)
def test_token_generate_name(ctx, name):
    store, owner = ctx["store"], ctx["owner"]
    result = attempt(store, tokens.generate, store, owner, ctx["iid"], name=name)
    if result is not None:
        info, secret = result
        assert info.name == _kept(name)
        assert secret not in str(dump(store))  # only the hash is kept


@PROPS
@given(token=hostile)
def test_token_verify_arbitrary_text(ctx, token):
    store = ctx["store"]
    before = dump(store)
    with pytest.raises(TokenRefused):
        tokens.verify(store, token)
    assert dump(store) == before


@PROPS
@given(name=hostile, description=hostile, default=hostile)
def test_playbooks(ctx, name, description, default):
    store, owner = ctx["store"], ctx["owner"]
    pb = attempt(store, playbooks.create, store, owner, name=name, description=description)
    if pb is not None:
        assert playbooks.get(store, owner.account_id, pb.id).name == _kept(name)
    attempt(store, playbooks.update, store, owner, ctx["pb"].id, name=name, description=description)
    df = attempt(
        store,
        playbooks.add_data_field,
        store,
        owner,
        ctx["pb"].id,
        name=name,
        description=description,
        default_value=default,
    )
    if df is not None:
        assert (df.name, df.default_value) == (_kept(name), _kept(default))


@PROPS
@given(url=hostile_url, key=st.one_of(st.none(), hostile))
def test_webhook_url_and_key(ctx, url, key):
    store, owner = ctx["store"], ctx["owner"]
    hook = attempt(store, webhooks.create, store, owner, ctx["iid"], url=url, sign_key=key)
    if hook is not None:
        assert hook.url == _kept(url)
    attempt(store, webhooks.update, store, owner, ctx["hook"].id, url=url, sign_key=key)


@PROPS
@given(login=hostile, name=hostile)
def test_users_add(ctx, login, name):
    store, owner = ctx["store"], ctx["owner"]
    user = attempt(store, users.add, store, owner, login, name=name)
    if user is not None:
        assert user.login == _kept(login)


def fragments(texts: list[str]) -> st.SearchStrategy[str]:
    """Pieces of ``texts`` (any slice, in any case), so that a filter finds something."""
    return st.sampled_from(texts).flatmap(
        lambda t: st.tuples(
            st.integers(0, len(t)), st.integers(0, len(t)), st.sampled_from([str, str.upper])
        ).map(lambda ijc: ijc[2](t[min(ijc[:2]) : max(ijc[:2])]))
    )


def _needle(text: str) -> str | None:
    """What a filter searches for, as the store documents it (None: nothing matches)."""
    if "\x00" in text or validate.not_unicode(text):
        return None
    return text.strip().lower()


def _audit_texts(r: audit.AuditRecord) -> tuple[str, ...]:
    return (r.actor, r.action, r.object_type, r.object_name)


@PROPS
@given(data=st.data())
def test_audit_filter(ctx, data):
    """The filter finds exactly the entries whose actor, action, object type or
    object name holds the text, ignoring case: compared with every entry. Text
    no database can hold (lone surrogates) is refused."""
    store, owner = ctx["store"], ctx["owner"]
    everything = audit.entries(store, owner.account_id)
    texts = [t for r in everything for t in _audit_texts(r) if t]
    assert len(everything) >= 6 and all(t.isascii() for t in texts)  # the model below
    text = data.draw(st.one_of(hostile, fragments(texts)), label="text")
    found = attempt(store, audit.entries, store, owner.account_id, text=text)
    needle = _needle(text)
    expected = [
        r.id
        for r in everything
        if needle is not None and any(needle in t.lower() for t in _audit_texts(r))
    ]
    if found is None:  # refused: only text no database can hold (the argument checks)
        assert validate.not_unicode(text)
    else:
        assert [r.id for r in found] == expected


@PROPS
@given(login=hostile)
def test_sign_in_with_any_login(ctx, login):
    """The OS login of whoever runs the program (any bytes a system allows)."""
    store = ctx["store"]
    actor = attempt(store, accounts.sign_in, store, login)
    assert actor is None or actor.login == login


offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@PROPS
@given(
    value=hostile,
    known=st.datetimes(timezones=st.one_of(st.none(), offsets)),
    pad=st.sampled_from(["", " ", "\t", "  \n"]),
)
def test_audit_export_time_bounds(ctx, value, known, pad):
    """``--since``/``--until``: any text is a moment in time (without a zone: UTC)
    or refused naming the option; a date-time written in ISO 8601 is read as
    exactly that moment, whatever space is around it."""
    try:
        at = audit.parse_time(value, field="since")
    except ValidationError as exc:
        assert exc.field == "since" and exc.message.startswith("--since ")
    else:
        assert at.utcoffset() is not None
    for written, meant in (
        (known.isoformat(), known if known.tzinfo else known.replace(tzinfo=UTC)),
        (known.date().isoformat(), datetime.combine(known.date(), time(0), UTC)),
    ):
        at = audit.parse_time(pad + written + pad, field="until")
        assert at == meant and at.utcoffset() == meant.utcoffset()


@pytest.fixture
def logged(ctx):
    """ctx's webhook with a delivery log of every kind: a success, a refused status,
    a timeout, a guard refusal and an error holding LIKE's special characters."""
    store, owner, hook = ctx["store"], ctx["owner"], ctx["hook"]
    kinds = [
        ("contract:publish", 200, ""),
        ("contract:sign", 503, "HTTP 503 Service Unavailable: the receiver did not accept it."),
        ("webhook:test", None, "Timeout: hooks.example.com did not answer within 10 s."),
        ("participant:create", None, "Refused by the destination guard: 10.0.0.1 is private."),
        ("data_field:update", 404, "HTTP 404 Not Found: 100%_sure\\path"),
    ]
    with change(store, None, "log deliveries", check=anyone, account_id=owner.account_id) as c:
        for n, (event_type, status, error) in enumerate(kinds):
            ok = status == 200
            delivery_log.log_attempt(
                c.s,
                hook.id,
                sending.AttemptResult(
                    ok=ok,
                    status_code=status,
                    latency_ms=10,
                    reason="HTTP 200 OK" if ok else error,
                    url=hook.url,
                    event_type=event_type,
                    callback_id="abcde"[n] * 40,  # no digits: a status code is found by its own
                    attempted_at=clock.now() + timedelta(minutes=n),
                    request_headers=(),
                    request_body="{}",
                    response_excerpt="",
                    response_bytes=0,
                    response_truncated=False,
                ),
            )
    return ctx


def _delivery_matches(d: deliveries.DeliveryInfo, needle: str) -> bool:
    """The delivery log's filter, as its docstring says: event type, callback id,
    status code, error or result (``ok``, ``failed``), ignoring case."""
    return (
        needle in d.event_type.lower()
        or needle in d.callback_id.lower()
        or needle in (d.error or "").lower()
        or (needle.isdigit() and needle in str(d.status_code or ""))
        or (d.success and needle in "ok")
        or (not d.success and needle in "failed")
    )


def _log_texts(logged) -> list[str]:
    everything = deliveries.deliveries(logged["store"], logged["hook"].id)
    texts = [t for d in everything for t in (d.event_type, d.callback_id, d.error or "") if t]
    assert len(everything) == 5 and all(t.isascii() for t in texts)  # the model above
    return texts


def _filter_finds_what_holds_it(logged, text: str) -> None:
    store, hook_id = logged["store"], logged["hook"].id
    everything = deliveries.deliveries(store, hook_id)
    found = attempt(store, deliveries.deliveries, store, hook_id, text_filter=text)
    needle = _needle(text)
    expected = [d.id for d in everything if needle is not None and _delivery_matches(d, needle)]
    if found is None:  # refused: only text no database can hold (the argument checks)
        assert validate.not_unicode(text)
    else:
        assert [d.id for d in found] == expected, text


# One needle for each condition of the filter (the drawn ones may miss some).
DELIVERY_NEEDLES = [
    "200",
    "20",
    "503",
    "404",
    " OK ",
    "k",
    "Failed",
    "%_",
    "\\",
    "PUBLISH",
    "ccc",
    "x",
]


def test_deliveries_filter_finds_each_kind(logged):
    _log_texts(logged)
    for text in DELIVERY_NEEDLES:
        _filter_finds_what_holds_it(logged, text)


@PROPS
@given(data=st.data())
def test_deliveries_filter(logged, data):
    """Any text filters the delivery log and finds exactly the deliveries that
    hold it (compared with the whole log), newest first; text no database can
    hold (lone surrogates) is refused."""
    texts = _log_texts(logged)
    text = data.draw(st.one_of(hostile, fragments(texts)), label="text")
    _filter_finds_what_holds_it(logged, text)


HOSTILE_ANSWER = b"ok\x00\x1b]52;c;SGVsbG8=\x07[bold]x[/]\x1b[2J\x9b31m\x7f"
TERMINAL_CONTROLS = ("\x00", "\x1b", "\x07", "\x9b", "\x7f")


async def test_a_hostile_receivers_answer_is_stored_and_shown_harmless(store, owner, httpserver):
    """A receiver answers with NUL, terminal escape sequences (OSC 52 would write
    the administrator's clipboard) and markup: the delivery is logged (PostgreSQL
    refuses NUL in text) and nothing that a terminal would obey is kept."""
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    httpserver.expect_request("/ok").respond_with_data(
        HOSTILE_ANSWER, headers={"X-Evil": "\x1b[31mred\x07"}
    )
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": "https://evil.example/\x1b]0;pwned\x07"}
    )
    for path in ("/ok", "/moved"):
        hook = webhooks.create(store, owner, iid, url=httpserver.url_for(path))
        result = await deliveries.send_test(store, owner, hook.id)
        [logged] = deliveries.deliveries(store, hook.id)
        detail = deliveries.delivery(store, logged.id)
        for text in (
            result.reason,
            result.response_excerpt,
            detail.response_excerpt,
            detail.error or "",
        ):
            assert not any(c in text for c in TERMINAL_CONTROLS), repr(text)
        if path == "/ok":
            assert result.ok and "ok␀␛]52;c;SGVsbG8=␇[bold]x[/]␛[2J" in detail.response_excerpt
            assert "x-evil: ␛[31mred␇" in detail.response_excerpt.lower()
        else:
            # (the test server percent-encodes the Location; the header above is raw)
            assert not result.ok and "redirect to https://evil.example/" in result.reason


# -- every public store function, with wrong-typed and hostile arguments (item 21) ----------

MODULES = (
    accounts,
    apiaccess,
    audit,
    blueprints,
    contracts,
    deliveries,
    delivery_log,
    delivery_states,
    dispatch,
    integrations,
    marketplace,
    payload,
    playbooks,
    replay,
    receiver,
    sending,
    settings,
    snippets,
    tokens,
    users,
    webhooks,
)


def _public_functions() -> dict[str, object]:
    """Every public function of the domain modules that is an entry point (those
    taking a Session run inside their caller's transaction)."""
    found = {}
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[-1]
        for name, fn in sorted(vars(module).items()):
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != module.__name__:
                continue
            if "s" in inspect.signature(fn).parameters:
                continue
            found[f"{short}.{name}"] = fn
    return found


FUNCTIONS = _public_functions()
# Values of a wrong type for most annotations, and edges of the right type.
WRONG = [
    None,
    True,
    "yes",
    "",
    -1,
    2**31,
    2**63,
    2**64,
    -(2**63) - 1,
    1.5,
    float("nan"),
    [5],
    {"a": 1},
    b"bytes",
    object(),
    "\udcff",
]
LIGHT = hypothesis_settings(PROPS, max_examples=60)


@functools.cache
def _counting() -> Select:
    """One query counting the rows of every table (built once: building it took
    half of the wrong-types test's time)."""
    tables = SQLModel.metadata.sorted_tables
    return select(*[select(func.count()).select_from(t).scalar_subquery() for t in tables])


def _counts(store) -> tuple[int, ...]:
    """The number of rows of every table, in one query."""
    with store.engine.connect() as conn:
        return tuple(conn.execute(_counting()).one())


@pytest.fixture
def every(ctx):
    """ctx, plus a valid value for every argument name of a public store function."""
    store, owner = ctx["store"], ctx["owner"]
    users.add(store, owner, "bob")
    df = playbooks.add_data_field(store, owner, ctx["pb"].id, name="Target data field")
    token, token_text = tokens.generate(store, owner, ctx["iid"], name="Target token")
    caller = apiaccess.authenticate(store, token_text)
    [record, *_] = audit.entries(store, owner.account_id)
    attempt = deliveries.AttemptResult(
        ok=False,
        status_code=None,
        latency_ms=None,
        reason="Refused: a private address",
        url="https://10.0.0.1/hook",
        event_type="webhook:test",
        callback_id="0" * 40,
        attempted_at=clock.now(),
        request_headers=(),
        request_body="{}",
        response_excerpt="",
        response_bytes=0,
        response_truncated=False,
    )
    # A request that is refused before anything is sent (httpx's IDNA check), so
    # that no argument drawn below makes sending.send reach the network.
    prepared = payload.Prepared(
        url="https://xn--a/hook",
        callback_id="0" * 40,
        event_type="webhook:test",
        body="{}",
        headers={},
        attempted_at=clock.now(),
    )
    valid = {
        "store": store,
        "actor": owner,
        "by": owner,
        "who": owner,
        "delivery_ids": [],
        "attempt_ids": [],
        "paused": False,
        "state": None,
        "account_id": owner.account_id,
        "integration_id": ctx["iid"],
        "blueprint_id": ctx["bp"].id,
        "field_id": ctx["field"].id,
        "blueprint_field_id": ctx["field"].id,
        "playbook_id": ctx["pb"].id,
        "data_field_id": df.id,
        "webhook_id": ctx["hook"].id,
        "token_id": token.id,
        "delivery_id": 1,
        "entry_id": record.id,
        "event_id": None,
        "contract_id": 1,
        "before_id": None,
        "after_id": 0,
        "before_at": None,
        "cap": None,
        "login": "bob",
        "name": "Valid name",
        "blueprint_name": "Orders",
        "integration_name": "HubSpot",
        "description": "",
        "default_value": "",
        "role": "member",
        "can_manage": False,
        "plan": "Business",
        "limits": {"playbooks": 10_000},
        "operator": "test",
        "ext": catalog.extension(CUSTOM_KEY),
        "account_plan": "Business",
        "key": CUSTOM_KEY,
        "version": None,
        "mapping_required": False,
        "expires_in_days": None,
        "token": "iadm_not_a_token",
        "error": None,
        "url": "https://10.0.0.1/hook",
        "allow_private": False,
        "event_types": None,
        "event_type": "contract:publish",
        "sign_key": None,
        "check_strength": True,
        "tests_only": False,
        "keep_key": False,
        "verified": False,
        "test": None,
        "callback_id": "0" * 40,
        "at": clock.now(),
        "timestamp": 0,
        "body": "{}",
        "events": [],
        "reason": "HTTP 500",
        "attempt": attempt,
        "prep": prepared,
        "timeout_s": 1,
        "code": 200,
        "column": "*",
        "limit": 10,
        "batch": 10,
        "text_filter": "",
        "text": "",
        "since": None,
        "until": None,
        "expected_mappings": 0,
        "seconds": 10,
        "allow": False,
        "r": record,
        "caller": caller,
        "values": {"Target field": "value"},
        "requests": [],
        "method": "GET",
        "path": "/v1/ping",
        "status": 200,
        "latency_ms": 1.5,
        "rate_limit": 2000,
        "slices": apiaccess.RateSlices(),
        "now": clock.now(),
        "out": io.StringIO(),
        "value": "2026-01-01",
        "field": "since",
        "previous_key": None,
        "new_key": None,
        "overlap_hours": 24,
        "grace_hours": 24,
        "hook": ctx["hook"],
        "headers": {},
        "raw": b"{}",
        "keys": (),
        "tolerance_s": 300,
        "verdict": receiver.Verdict(False, receiver.NOT_CHECKED, "?", ""),
        "size": 2,
        "secret": "whsec_x",
        "attempts": 1,
        "retry_after_s": None,
        "scale": 1.0,
        "within_s": 60,
    }
    return {**ctx, "valid": valid}


def _call(every, name: str, param: str, value: object):
    """Call FUNCTIONS[name] with valid arguments but ``param`` = ``value``: it
    returns, or refuses with a DomainError that changed nothing; nothing else."""
    fn = FUNCTIONS[name]
    store = every["store"]
    args, kwargs = [], {}
    for p in inspect.signature(fn).parameters.values():
        if p.name != param and p.default is not p.empty:
            continue  # optional: leave it to its default
        given = value if p.name == param else every["valid"][p.name]
        if p.kind == p.KEYWORD_ONLY:
            kwargs[p.name] = given
        else:
            args.append(given)
    # The counts after the previous call, when it was a refusal (checked equal to
    # those before it): nothing has run since, so they are this call's "before".
    before = every.pop("_counted", None) or _counts(store)
    try:
        result = fn(*args, **kwargs)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        return result
    except DomainError as exc:
        assert str(exc).strip(), "a refusal says why"
        after = _counts(store)
        assert after == before, f"{name}({param}={value!r}): the refusal changed rows"
        every["_counted"] = after
        return exc


def test_every_public_store_function_is_covered_and_checks_its_arguments(every):
    missing = {
        f"{name}({p})"
        for name, fn in FUNCTIONS.items()
        for p in inspect.signature(fn).parameters
        if p not in every["valid"]
    }
    assert not missing, f"give these arguments a valid value in the fixture: {sorted(missing)}"
    unchecked = [name for name, fn in FUNCTIONS.items() if not getattr(fn, "__checked__", False)]
    assert unchecked == []
    assert len(FUNCTIONS) > 60


def test_every_argument_of_every_function_refuses_wrong_types(every):
    """Each argument of each entry point, in turn, gets each WRONG value."""
    for name, fn in FUNCTIONS.items():
        for param in inspect.signature(fn).parameters:
            for value in WRONG:
                if inspect.iscoroutinefunction(fn) and value is None:
                    continue  # None is valid for some: the call would reach the network
                _call(every, name, param, value)


def test_wrong_types_are_refused_naming_the_argument(every):
    store, owner, bp = every["store"], every["owner"], every["bp"]
    before = dump(store)
    cases = [
        (blueprints.add_field, (store, owner, bp.id), {"name": "F", "mapping_required": "yes"}),
        (blueprints.create, (store, owner, 2**63), {"name": "Too far"}),
        (blueprints.detail, (store, owner.account_id, True), {}),
        (
            webhooks.create,
            (store, owner, every["iid"]),
            {"url": "https://x.example", "event_types": 5},
        ),
        (deliveries.deliveries, (store, every["hook"].id), {"limit": -1}),
        (deliveries.deliveries, (store, every["hook"].id), {"limit": True}),
        (audit.entries, (store, owner.account_id), {"limit": 2.5}),
        (
            accounts.set_plan_and_limits,
            (store, owner.account_id),
            {"operator": "t", "limits": {"playbooks": True}},
        ),
        (playbooks.create, (store, "alice"), {"name": "P"}),
    ]
    fields = []
    for fn, args, kwargs in cases:
        with pytest.raises(ValidationError) as refused:
            fn(*args, **kwargs)
        fields.append(refused.value.field)
    assert fields == [
        "mapping_required",
        "integration_id",
        "blueprint_id",
        "event_types",
        "limit",
        "limit",
        "limit",
        "limits",
        "actor",
    ]
    assert dump(store) == before


@LIGHT
@given(data=st.data())
def test_any_function_any_argument_any_value(every, data):
    """Random entry points, arguments and values: wrong types, hostile text, any
    number; success or a DomainError that changed nothing, never anything else."""
    taking = sorted(n for n, fn in FUNCTIONS.items() if inspect.signature(fn).parameters)
    name = data.draw(st.sampled_from(taking), label="function")
    fn = FUNCTIONS[name]
    param = data.draw(st.sampled_from(list(inspect.signature(fn).parameters)), label="argument")
    values = st.one_of(
        st.sampled_from(WRONG),
        st.integers(),
        st.floats(),
        st.lists(st.one_of(st.integers(), hostile), max_size=3),
    )
    if not inspect.iscoroutinefunction(fn):  # hostile text could make a real request
        values = st.one_of(values, hostile)
    else:
        values = values.filter(lambda v: v is not None)
    _call(every, name, param, data.draw(values, label="value"))


# -- invisible characters in names and shown text (item 22) ----------------------------------

INVISIBLE = [
    "\u202e",
    "\u202a",
    "\u2066",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
]
SEPARATORS = ["\u2028", "\u2029"]


def _names(every):
    """Each function that takes a name, as (what, call taking the name)."""
    store, owner = every["store"], every["owner"]
    return [
        ("blueprint", lambda n: blueprints.create(store, owner, every["iid"], name=n)),
        ("blueprint field", lambda n: blueprints.add_field(store, owner, every["bp"].id, name=n)),
        ("playbook", lambda n: playbooks.create(store, owner, name=n)),
        ("data field", lambda n: playbooks.add_data_field(store, owner, every["pb"].id, name=n)),
        ("token", lambda n: tokens.generate(store, owner, every["iid"], name=n)),
        ("user name", lambda n: users.add(store, owner, "carol", name=n)),
        ("login", lambda n: users.add(store, owner, n)),
    ]


@pytest.mark.parametrize("char", INVISIBLE + SEPARATORS, ids=lambda c: f"U+{ord(c):04X}")
def test_names_refuse_invisible_characters_naming_them(every, char):
    store = every["store"]
    described = f"U+{ord(char):04X} {unicodedata.name(char)}"
    before = dump(store)
    for what, create in _names(every):
        with pytest.raises(ValidationError) as refused:
            create(f"Invoice{char}gnp.exe")
        assert described in refused.value.message, what
        assert refused.value.field in ("name", "login"), what
    assert dump(store) == before


def test_name_refusals_say_what_the_character_is(every):
    with pytest.raises(ValidationError) as refused:
        blueprints.create(every["store"], every["owner"], every["iid"], name="Orders\u202etxt.exe")
    assert refused.value.message == (
        "Name contains an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE): remove it."
    )
    with pytest.raises(ValidationError) as refused:
        blueprints.create(every["store"], every["owner"], every["iid"], name="two\u2028lines")
    assert refused.value.message == "Name cannot contain a line break (U+2028 LINE SEPARATOR)."


@pytest.mark.parametrize(
    "char", ["\u202e", "\u202d", "\u2067", "\u2028"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_descriptions_refuse_reordering_characters_and_separators(every, char):
    store, owner = every["store"], every["owner"]
    before = dump(store)
    with pytest.raises(ValidationError) as refused:
        blueprints.create(store, owner, every["iid"], name="B", description=f"a{char}b")
    assert refused.value.field == "description"
    assert f"U+{ord(char):04X} {unicodedata.name(char)}" in refused.value.message
    with pytest.raises(ValidationError):
        playbooks.add_data_field(store, owner, every["pb"].id, name="D", default_value=f"x{char}y")
    assert dump(store) == before


def test_descriptions_keep_what_writing_needs(every):
    """Zero-width joiners (emoji, Indic scripts) and direction marks (Arabic,
    Hebrew) are part of real text: kept in descriptions."""
    store, owner = every["store"], every["owner"]
    text = "👩\u200d💻 team · \u05e9\u05dc\u05d5\u05dd\u200f · \u0915\u094d\u200d\u0937"
    bp = blueprints.create(store, owner, every["iid"], name="Kept", description=text)
    assert blueprints.detail(store, owner.account_id, bp.id).blueprint.description == text


def test_audit_details_show_invisible_characters(every):
    store, owner = every["store"], every["owner"]
    with store.write(owner.account_id) as s:
        audit.record(
            s,
            account_id=owner.account_id,
            actor="test",
            action="test.invisible",
            object_type="test",
            object_name="a\u202eb",
            detail="said \u202egnp.exe\u200b and \u2028 \x1b[2J",
        )
    [entry] = audit.entries(store, owner.account_id, text="test.invisible")
    assert entry.object_name == "a⟨U+202E⟩b"
    assert entry.detail == "said ⟨U+202E⟩gnp.exe⟨U+200B⟩ and ⟨U+2028⟩ ␛[2J"


def test_printable_makes_every_invisible_character_visible():
    for char in INVISIBLE + SEPARATORS:
        assert validate.printable(f"a{char}b") == f"a⟨U+{ord(char):04X}⟩b"
    assert validate.printable("plain\ttext\n") == "plain\ttext\n"


async def test_a_receivers_invisible_characters_are_shown(store, owner, httpserver):
    iid = marketplace.enable(store, owner, CUSTOM_KEY)
    settings.set_allow_private_webhooks(store, owner, True)
    httpserver.expect_request("/ok").respond_with_data(
        "ok \u202egnp.exe zero\u200bwidth line\u2028sep \u2066isolated\u2069".encode()
    )
    hook = webhooks.create(store, owner, iid, url=httpserver.url_for("/ok"))
    await deliveries.send_test(store, owner, hook.id)
    [logged] = deliveries.deliveries(store, hook.id)
    excerpt = deliveries.delivery(store, logged.id).response_excerpt
    assert "ok ⟨U+202E⟩gnp.exe zero⟨U+200B⟩width line⟨U+2028⟩sep" in excerpt
    assert "⟨U+2066⟩isolated⟨U+2069⟩" in excerpt
    assert not any(c in excerpt for c in INVISIBLE + SEPARATORS)


# -- logins that an operating system can have (item 17) ---------------------------------------


@pytest.mark.parametrize(
    "login", ["carol", "first.last", "o_k-1", "carol@example.com", "EXAMPLE\\carol", "josé", "李"]
)
def test_users_add_takes_os_logins(store, owner, login):
    assert users.add(store, owner, login).login == login


@pytest.mark.parametrize(
    ("login", "words"),
    [
        ("carol smith", "A login cannot contain a space"),
        ("carol\tsmith", "control characters"),
        ("-rf", "A login cannot start with '-'"),
        ("carol;rm", "A login cannot contain ';'"),
        ("carol/x", "A login cannot contain '/'"),
        ("a" * 65, "at most 64"),
        ("caro\u200bl", "U+200B ZERO WIDTH SPACE"),
    ],
)
def test_users_add_refuses_what_cannot_be_an_os_login(store, owner, login, words):
    before = dump(store)
    with pytest.raises(ValidationError) as refused:
        users.add(store, owner, login)
    assert refused.value.field == "login" and words in refused.value.message
    assert dump(store) == before
