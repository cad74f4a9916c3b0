"""Hostile input to the API on a real uvicorn (SQLite and PostgreSQL):
malformed JSON, wrong types, huge bodies, 10,000 values, unknown fields, markup
and control characters, path ids that are not numbers or are 2**63. A clear
4xx every time, nothing written but the request log's line (method, path,
status), never a 500; and Hypothesis over the contract body."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store import contracts

from ..api_server import requests_logged
from ..contracts_world import World, another_account, build
from ..reliability import dump

# Tables the API writes for every request, refused or not.
PER_REQUEST = {"api_request", "api_rate_window", "api_token"}


@pytest.fixture(scope="module")
def world(api_store) -> World:
    return build(api_store, another_account(api_store, f"h{uuid.uuid4().hex[:10]}"))


@pytest.fixture
def client(server, world) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {world.token}"}, timeout=60
    ) as c:
        yield c


def _data(store) -> dict:
    return {k: v for k, v in dump(store).items() if k not in PER_REQUEST}


def _caller(world):
    from store.tokens import ApiCaller

    return ApiCaller(
        token_id=world.token_id,
        token_hint="",
        token_name="",
        integration_id=world.integration_id,
        integration_name="",
        account_id=world.actor.account_id,
    )


BIG_VALUE = "x" * (1024 * 1024)


def _cases(world: World) -> list[tuple[str, str, bytes | str, int, str]]:
    """(method, path, body, expected status, words in the detail)."""
    pb = world.playbook_id

    def j(obj) -> str:
        return json.dumps(obj)

    return [
        ("POST", "/v1/contracts", '{"playbook_id": 1,', 400, "not valid JSON"),
        ("POST", "/v1/contracts", b"\xff\xfe\x00", 400, "not valid JSON"),
        ("POST", "/v1/contracts", "", 422, "required"),
        ("POST", "/v1/contracts", "[]", 422, "JSON object"),
        ("POST", "/v1/contracts", '"text"', 422, "JSON object"),
        ("POST", "/v1/contracts", "null", 422, ""),
        ("POST", "/v1/contracts", j({"playbook_id": str(pb), "name": "X"}), 422, "whole number"),
        ("POST", "/v1/contracts", j({"playbook_id": True, "name": "X"}), 422, "whole number"),
        ("POST", "/v1/contracts", j({"playbook_id": 1.5, "name": "X"}), 422, "whole number"),
        ("POST", "/v1/contracts", j({"playbook_id": 2**63, "name": "X"}), 422, "id from 1"),
        ("POST", "/v1/contracts", j({"playbook_id": -1, "name": "X"}), 422, "id from 1"),
        ("POST", "/v1/contracts", j({"playbook_id": pb, "name": 5}), 422, "text"),
        ("POST", "/v1/contracts", j({"playbook_id": pb, "name": ["X"]}), 422, "text"),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": 5}}),
            422,
            "text",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": ["Amount"]}),
            422,
            "JSON object",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": "1"}, "owner": "me"}),
            422,
            "Unknown field 'owner'",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": "a\x1b]0;pwned\x07"}}),
            422,
            "control characters",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X\x00Y", "values": {"Amount": "1"}}),
            422,
            "control characters",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": "\ud800"}}),
            422,
            "not valid text",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": "y" * 10_001}}),
            422,
            "at most 10,000",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {f"f{i}": "v" for i in range(10_000)}}),
            422,
            "At most 300 values",
        ),
        (
            "POST",
            "/v1/contracts",
            j({"playbook_id": pb, "name": "X", "values": {"Amount": BIG_VALUE}}),
            413,
            "larger than the limit of 1 MiB",
        ),
        ("GET", "/v1/contracts/abc", "", 422, "whole number"),
        ("GET", f"/v1/contracts/{2**63}", "", 422, "id from 1"),
        ("GET", f"/v1/contracts/{2**31}", "", 422, "id from 1"),
        ("GET", "/v1/contracts/0", "", 422, "id from 1"),
        ("GET", "/v1/contracts/-5", "", 422, "id from 1"),
        ("GET", "/v1/contracts/1e3", "", 422, "whole number"),
        ("POST", f"/v1/contracts/{2**63}/sign", "", 422, "id from 1"),
        ("PATCH", f"/v1/contracts/{2**63}", "{}", 422, "id from 1"),
        ("GET", f"/v1/blueprints/{2**63}", "", 422, "id from 1"),
        ("GET", "/v1/blueprints/%00", "", 422, "whole number"),
        ("DELETE", "/v1/contracts/1", "", 405, ""),
        ("GET", "/v1/%1b[2J", "", 404, "There is no"),
    ]


def test_hostile_requests_get_a_clear_4xx_and_write_nothing(api_store, world, client):
    before = _data(api_store)
    cases = _cases(world)
    for method, path, body, status, words in cases:
        r = client.request(method, path, content=body if body != "" else None)
        assert r.status_code == status, (method, path, r.text[:300])
        problem = r.json()
        assert problem["status"] == status and problem["title"], problem
        assert words in problem["detail"], (path, problem)
        assert "Traceback" not in r.text and world.token not in r.text
        if status == 422 and r.json().get("errors"):
            assert all(set(e) == {"field", "message"} for e in problem["errors"])
    assert _data(api_store) == before, "a refused request writes nothing"
    # The log has the request line of each, and nothing of their bodies.
    logged = requests_logged(api_store, _caller(world), at_least=len(cases))
    assert [(r.method, r.status) for r in reversed(logged[: len(cases)])] == [
        (m, s) for m, _, _, s, _ in cases
    ]
    text = repr(logged)
    assert "pwned" not in text and "yyyy" not in text and "f9999" not in text
    assert "/v1/␛[2J" in text  # a path is kept with its control characters shown


def test_a_huge_chunked_body_is_413_without_reading_it_all(world, client):
    def chunks():
        for _ in range(64):
            yield b"x" * 65536  # 4 MiB in all, no Content-Length

    r = client.post("/v1/contracts", content=chunks())
    assert r.status_code == 413 and "1 MiB" in r.json()["detail"]


def test_markup_and_unicode_are_kept_literally(api_store, world, client):
    text = "[bold]x[/] <script>alert(1)</script> ${jndi:x} 'OR 1=1;-- 名前 🚀\nline\ttab"
    r = client.post(
        "/v1/contracts",
        json={"playbook_id": world.playbook_id, "name": "[red]Deal[/]", "values": {"Amount": text}},
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "[red]Deal[/]"
    assert r.json()["data_fields"][0]["value"] == text
    stored = contracts.detail(api_store, world.actor.account_id, r.json()["id"])
    assert stored.values[0].value == text


# -- Hypothesis over the contract body ---------------------------------------------

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["Amount", "Customer", "Notes", "", " ", "[b]", "\x1b[31m", "\u202e"])
_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


_VALID = st.sampled_from(["Order 1001", "[b]Deal[/b] <i>", "名前 🚀", "x" * 200, "a\nb\tc"])
_mostly_valid = st.one_of(_VALID, _VALID, _text)


@st.composite
def contract_bodies(draw, playbook_id: int):
    """A valid body, then none to three mutations: a key dropped, a value of
    any JSON type or any text, an unknown key."""
    values = {"Amount": draw(_mostly_valid)}
    for key in draw(st.lists(st.sampled_from(["Customer", "Notes", "Colour", "2"]), max_size=2)):
        values[key] = draw(_text)
    body: dict = {"playbook_id": playbook_id, "name": draw(_mostly_valid), "values": values}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        kind = draw(st.sampled_from(["drop", "replace", "value", "extra"]))
        key = draw(st.sampled_from(["playbook_id", "name", "values"]))
        if kind == "drop":
            body.pop(key, None)
        elif kind == "replace":
            body[key] = draw(_json)
        elif kind == "value" and isinstance(body.get("values"), dict):
            body["values"][draw(_text)] = draw(_json)
        else:
            body[draw(_text)] = draw(_json)
    return body


def test_any_contract_body(api_store, world, client):
    count = len(contracts.all_for_account(api_store, world.actor.account_id, limit=10_000))
    seen: set[int] = set()

    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,  # the same bodies on every run: a failure is reproducible
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(body=contract_bodies(world.playbook_id))
    def check(body):
        nonlocal count
        r = client.post("/v1/contracts", json=body)
        seen.add(r.status_code)
        assert r.status_code in (201, 400, 404, 422), (body, r.text[:300])
        now = len(contracts.all_for_account(api_store, world.actor.account_id, limit=10_000))
        if r.status_code == 201:
            made = r.json()
            by_name = {d["name"]: d["value"] for d in made["data_fields"]}
            assert by_name["Amount"] == body["values"]["Amount"].strip()
            assert made["name"] == body["name"].strip()
            count += 1
        else:
            problem = r.json()
            assert problem["status"] == r.status_code and problem["detail"]
        assert now == count, "only a 201 writes a contract"

    check()
    print("statuses seen:", sorted(seen))
    assert {201, 422} <= seen
