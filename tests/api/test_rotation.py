"""Token rotation through a real API call (issue 18): during the grace both the
old and the new token open the API; after it the old one is refused with 401
and the reason "rotated", never echoing either token. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from store import clock, tokens

from ..contracts_world import World, another_account, build


@pytest.fixture
def world(api_store) -> World:
    return build(api_store, another_account(api_store, f"u{uuid.uuid4().hex[:10]}"))


def _ping(server, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/v1/ping", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_both_tokens_open_the_api_during_the_grace_then_the_old_is_rotated(
    api_store, server, world
):
    old = world.token
    assert _ping(server, old).status_code == 200
    _, new = tokens.rotate(api_store, world.actor, world.token_id, grace_hours=1)
    assert _ping(server, old).status_code == 200
    assert _ping(server, new).status_code == 200

    clock.fix(clock.now() + timedelta(hours=1, seconds=1))
    r = _ping(server, old)
    assert r.status_code == 401, r.text
    body = r.json()
    assert "rotated" in body["detail"] and old not in r.text and new not in r.text
    assert _ping(server, new).status_code == 200
