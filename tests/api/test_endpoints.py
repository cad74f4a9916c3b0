"""The integration API against a real uvicorn on loopback (httpx as the client),
on SQLite and PostgreSQL: every endpoint's success and refusals, isolation
between integrations and accounts, tokens refused at once, the request log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from store import apiaccess, clock, marketplace, tokens, tokens_format
from store.catalog import CUSTOM_KEY

from ..api_server import requests_logged
from ..contracts_world import World, another_account, build


@pytest.fixture
def world(api_store) -> World:
    """A new account of its own for each test (the server is shared)."""
    return build(api_store, another_account(api_store, f"u{uuid.uuid4().hex[:10]}"))


@pytest.fixture
def client(server, world) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {world.token}"}, timeout=30
    ) as c:
        yield c


def _problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_ping_with_either_header(server, world, client):
    assert client.get("/v1/ping").json() == {}
    r = httpx.get(f"{server.url}/v1/ping", headers={"X-Oneflow-API-Token": world.token})
    assert (r.status_code, r.json()) == (200, {})


@pytest.mark.parametrize(
    ("headers", "words"),
    [
        ({}, "No API token"),
        ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer iadm_short"}, "not a valid API token"),
        ({"X-Oneflow-API-Token": "x" * 40}, "not a valid API token"),
    ],
)
def test_missing_and_malformed_tokens_are_401(server, headers, words):
    body = _problem(httpx.get(f"{server.url}/v1/ping", headers=headers), 401)
    assert words in body["detail"]


def test_unknown_token_is_401_without_echoing_it(server, world):
    forged = tokens_format.new_token()
    r = httpx.get(f"{server.url}/v1/ping", headers={"Authorization": f"Bearer {forged}"})
    body = _problem(r, 401)
    assert "not known" in body["detail"] and forged not in r.text
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("how", ["revoked", "expired", "paused"])
def test_a_token_stops_at_once(api_store, server, world, client, how):
    assert client.get("/v1/ping").status_code == 200
    if how == "revoked":
        tokens.revoke(api_store, world.actor, world.token_id)
    elif how == "paused":
        marketplace.disable(api_store, world.actor, CUSTOM_KEY)
    else:
        clock.fix(clock.now() + timedelta(days=400))
        _, token = tokens.generate(
            api_store, world.actor, world.integration_id, name="Brief", expires_in_days=30
        )
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.get("/v1/ping").status_code == 200
        clock.fix(clock.now() + timedelta(days=31))
    # The very next request, in the same second: refused, saying why, not echoing it.
    r = client.get("/v1/ping")
    body = _problem(r, 401)
    assert how in body["detail"] or (how == "paused" and "disabled" in body["detail"])
    assert world.token not in r.text
    # Refused requests of a known token are logged under its integration.
    logged = requests_logged(api_store, _caller_of(world), at_least=3 if how == "expired" else 2)
    assert logged[0].status == 401 and logged[0].path == "/v1/ping"


def _caller_of(world: World):
    return tokens.ApiCaller(
        token_id=world.token_id,
        token_hint="",
        token_name="",
        integration_id=world.integration_id,
        integration_name="",
        account_id=world.actor.account_id,
    )


def test_blueprints(api_store, world, client):
    listed = client.get("/v1/blueprints").json()
    assert listed == {
        "data": [
            {
                "id": world.blueprint_id,
                "name": "Orders",
                "description": "",
                "fields": [
                    {
                        "id": world.amount_id,
                        "name": "Amount",
                        "description": "",
                        "mapping_required": True,
                    },
                    {
                        "id": world.customer_id,
                        "name": "Customer",
                        "description": "",
                        "mapping_required": False,
                    },
                    {
                        "id": world.notes_id,
                        "name": "Notes",
                        "description": "",
                        "mapping_required": False,
                    },
                ],
            }
        ]
    }
    assert client.get(f"/v1/blueprints/{world.blueprint_id}").json() == listed["data"][0]
    body = _problem(client.get("/v1/blueprints/999999"), 404)
    assert "no blueprint 999999" in body["detail"]


def test_playbooks(world, client):
    [pb] = client.get("/v1/playbooks").json()["data"]
    assert pb["id"] == world.playbook_id and pb["name"] == "Sales"
    assert pb["blueprint_ids"] == [world.blueprint_id]
    assert [(d["name"], d["default_value"]) for d in pb["data_fields"]] == [
        ("Amount", ""),
        ("Customer name", ""),
        ("Currency", "EUR"),
    ]
    assert pb["mappings"] == [
        {
            "blueprint_id": world.blueprint_id,
            "blueprint_field_id": world.amount_id,
            "blueprint_field_name": "Amount",
            "data_field_id": world.df_amount,
        },
        {
            "blueprint_id": world.blueprint_id,
            "blueprint_field_id": world.customer_id,
            "blueprint_field_name": "Customer",
            "data_field_id": world.df_customer,
        },
    ]


def _create(client, world, **values) -> httpx.Response:
    return client.post(
        "/v1/contracts",
        json={"playbook_id": world.playbook_id, "name": "Order 1001", "values": values},
    )


def test_contract_lifecycle(api_store, world, client):
    r = _create(client, world, Amount="1200.00", Customer="Northwind")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["state"] == "draft" and made["playbook_id"] == world.playbook_id
    assert made["data_fields"] == [
        {
            "id": world.df_amount,
            "name": "Amount",
            "value": "1200.00",
            "source": "Custom integration / Orders / Amount",
            "source_field_id": world.amount_id,
        },
        {
            "id": world.df_customer,
            "name": "Customer name",
            "value": "Northwind",
            "source": "Custom integration / Orders / Customer",
            "source_field_id": world.customer_id,
        },
        {
            "id": world.df_currency,
            "name": "Currency",
            "value": "EUR",
            "source": "default",
            "source_field_id": None,
        },
    ]
    cid = made["id"]
    assert client.get(f"/v1/contracts/{cid}").json() == made
    patched = client.patch(f"/v1/contracts/{cid}", json={"values": {"Customer": "Contoso"}})
    assert patched.status_code == 200 and patched.json()["data_fields"][1]["value"] == "Contoso"
    body = _problem(client.post(f"/v1/contracts/{cid}/sign"), 409)
    assert "only a published contract can be signed" in body["detail"]
    assert client.post(f"/v1/contracts/{cid}/publish").json()["state"] == "published"
    _problem(client.post(f"/v1/contracts/{cid}/publish"), 409)
    assert client.post(f"/v1/contracts/{cid}/sign").json()["state"] == "signed"
    _problem(client.post(f"/v1/contracts/{cid}/decline"), 409)
    body = _problem(client.patch(f"/v1/contracts/{cid}", json={"name": "Late"}), 409)
    assert "only a draft or published contract can be changed" in body["detail"]
    other = _create(client, world, Amount="1").json()["id"]
    client.post(f"/v1/contracts/{other}/publish")
    assert client.post(f"/v1/contracts/{other}/decline").json()["state"] == "declined"
    _problem(client.get("/v1/contracts/999999"), 404)


def test_contract_refusals_name_each_field(world, client):
    body = _problem(_create(client, world, Customer="N", Notes="x", Colour="red"), 422)
    assert [e["field"] for e in body["errors"]] == [
        "values.Notes",
        "values.Colour",
        "values.Amount",
    ]
    assert "required" in body["errors"][2]["message"]
    body = _problem(
        client.post("/v1/contracts", json={"playbook_id": 999999, "name": "X", "values": {}}),
        404,
    )
    assert "no playbook 999999" in body["detail"]


def test_other_integrations_and_accounts_get_404(api_store, server, world, client):
    cid = _create(client, world, Amount="1").json()["id"]
    theirs = build(api_store, another_account(api_store, f"e{uuid.uuid4().hex[:10]}"))
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {theirs.token}"}
    ) as stranger:
        for method, path, body in [
            ("GET", f"/v1/contracts/{cid}", None),
            ("PATCH", f"/v1/contracts/{cid}", {"values": {"Amount": "2"}}),
            ("POST", f"/v1/contracts/{cid}/publish", None),
            ("POST", f"/v1/contracts/{cid}/sign", None),
            ("POST", f"/v1/contracts/{cid}/decline", None),
            ("GET", f"/v1/blueprints/{world.blueprint_id}", None),
            (
                "POST",
                "/v1/contracts",
                {"playbook_id": world.playbook_id, "name": "X", "values": {"Amount": "1"}},
            ),
        ]:
            r = stranger.request(method, path, json=body)
            _problem(r, 404)
        assert [b["id"] for b in stranger.get("/v1/blueprints").json()["data"]] == [
            theirs.blueprint_id
        ]
        assert [p["id"] for p in stranger.get("/v1/playbooks").json()["data"]] == [
            theirs.playbook_id
        ]
    # Ours is untouched.
    assert client.get(f"/v1/contracts/{cid}").json()["state"] == "draft"


def test_every_request_is_logged_without_body_or_token(api_store, server, world, client):
    secret_value = "value-" + uuid.uuid4().hex
    client.get("/v1/ping")
    _create(client, world, Amount=secret_value)
    client.get("/v1/contracts/abc")
    client.get("/v1/nowhere")
    caller = _caller_of(world)
    logged = requests_logged(api_store, caller, at_least=4)
    assert [(r.method, r.path, r.status) for r in logged] == [
        ("GET", "/v1/nowhere", 404),
        ("GET", "/v1/contracts/abc", 422),
        ("POST", "/v1/contracts", 201),
        ("GET", "/v1/ping", 200),
    ]
    assert all(r.token_id == world.token_id and r.latency_ms > 0 for r in logged)
    assert all(r.token_hint.startswith("iadm_…") for r in logged)
    assert secret_value not in repr(logged) and world.token not in repr(logged)
    usage = apiaccess.token_usage(api_store, world.actor.account_id, world.integration_id)
    assert usage[world.token_id].requests_24h == 4
    assert usage[world.token_id].last_used_at is not None


def test_openapi_documents_every_endpoint(server):
    spec = httpx.get(f"{server.url}/openapi.json").json()
    paths = spec["paths"]
    assert set(paths) == {
        "/v1/ping",
        "/v1/blueprints",
        "/v1/blueprints/{blueprint_id}",
        "/v1/playbooks",
        "/v1/contracts",
        "/v1/contracts/{contract_id}",
        "/v1/contracts/{contract_id}/publish",
        "/v1/contracts/{contract_id}/sign",
        "/v1/contracts/{contract_id}/decline",
    }
    create = paths["/v1/contracts"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "404", "413", "422", "429"}
    assert create["security"] == [{"bearer": []}, {"oneflowToken": []}]
    schemas = spec["components"]["schemas"]
    assert schemas["ContractCreate"]["examples"][0]["values"]["Amount"] == "1200.00"
    assert schemas["ContractCreate"]["additionalProperties"] is False
    assert "errors" in schemas["ValidationProblem"]["properties"]
    assert spec["components"]["securitySchemes"]["oneflowToken"]["name"] == "X-Oneflow-API-Token"
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
