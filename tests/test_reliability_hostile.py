"""Hostile input: every store entry point that takes text gets arbitrary text
(unicode, control characters, lone surrogates, 10,000 characters, SQL and
terminal escape sequences, markup). Each call either succeeds (and stores what
the validation kept, read back identically) or raises a DomainError with a
message, and then the database is exactly as before (compared by a full dump).
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from store import (
    accounts,
    audit,
    blueprints,
    deliveries,
    marketplace,
    playbooks,
    settings,
    tokens,
    users,
    webhooks,
)
from store.catalog import CUSTOM_KEY
from store.errors import DomainError, TokenRefused

from .reliability import dump

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


@PROPS
@given(text=hostile)
def test_audit_filter(ctx, text):
    store, owner = ctx["store"], ctx["owner"]
    found = attempt(store, audit.entries, store, owner.account_id, text=text)
    assert found is None or all(isinstance(e.action, str) for e in found)


@PROPS
@given(login=hostile)
def test_sign_in_with_any_login(ctx, login):
    """The OS login of whoever runs the program (any bytes a system allows)."""
    store = ctx["store"]
    actor = attempt(store, accounts.sign_in, store, login)
    assert actor is None or actor.login == login


@PROPS
@given(value=hostile)
def test_audit_export_time_bounds(ctx, value):
    attempt(ctx["store"], audit.parse_time, value, field="since")


@PROPS
@given(text=hostile)
def test_deliveries_filter(ctx, text):
    store = ctx["store"]
    found = attempt(store, deliveries.deliveries, store, ctx["hook"].id, text_filter=text)
    assert found is None or isinstance(found, list)


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
