"""The verification snippets run (issue 18): each is written to a file and run
against a real delivery that the store sent to a real server on loopback; it
accepts the delivery and rejects a tampered one. Python always; Node.js and Go
where the machine has them (skipped with the reason otherwise); the shell one
with openssl. During a key rotation each accepts with the old secret too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from store import deliveries, marketplace, settings, snippets, webhooks

TYPED_KEY = "a typed signing key, 32 chars ok"
RUNNERS = {
    "Python": [sys.executable],
    "Node.js": ["node"],
    "Go": ["go", "run"],
    "Shell": ["sh"],
}
NEEDS = {"Node.js": "node", "Go": "go", "Shell": "openssl"}


@pytest.fixture(autouse=True)
def _clean(receiver):
    yield
    receiver.clear()


@pytest.fixture
def custom(store, owner) -> int:
    iid = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)
    return iid


def _run(snippet: snippets.Snippet, tmp_path, body: bytes, headers: dict, secret: str | None):
    need = NEEDS.get(snippet.language)
    if need and shutil.which(need) is None:
        pytest.skip(f"{need} is not installed on this machine: the {snippet.language} snippet")
    (tmp_path / snippet.file_name).write_text(snippet.code)
    (tmp_path / "body.json").write_bytes(body)
    env = {
        **os.environ,
        "WEBHOOK_ID": headers["Webhook-Id"],
        "WEBHOOK_TIMESTAMP": headers["Webhook-Timestamp"],
        "WEBHOOK_SIGNATURE": headers["Webhook-Signature"],
        "GOCACHE": str(tmp_path / "gocache"),
    }
    env.pop("WEBHOOK_SECRET", None)
    if secret is not None:
        env["WEBHOOK_SECRET"] = secret
    done = subprocess.run(
        [*RUNNERS[snippet.language], snippet.file_name, "body.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, (done.stdout + done.stderr).strip()


@pytest.mark.parametrize("language", list(RUNNERS))
@pytest.mark.parametrize("key_kind", ["generated", "typed"])
async def test_each_snippet_accepts_a_real_delivery_and_rejects_a_tampered_one(
    store, owner, custom, receiver, tmp_path, language, key_kind
):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    key = webhooks.generate_signing_key() if key_kind == "generated" else TYPED_KEY
    w = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"), sign_key=key)
    assert (await deliveries.send_test(store, owner, w.id)).ok
    [(req, _resp)] = receiver.log
    body, headers = req.get_data(), dict(req.headers)
    revealed = webhooks.receiver_secret(webhooks.reveal_key(store, owner, w.id))
    [snippet] = [s for s in snippets.for_webhook(w.url, revealed) if s.language == language]
    assert key not in snippet.code or key_kind == "generated"  # a typed key: its whsec_ form

    # The revealed secret written into the snippet itself.
    rc, out = _run(snippet, tmp_path, body, headers, None)
    assert (rc, out) == (0, "verified")
    tampered = body.replace(b'"contract": {"id": 0}', b'"contract": {"id": 666}')
    assert tampered != body
    rc, out = _run(snippet, tmp_path, tampered, headers, None)
    assert rc == 1 and out.startswith("rejected")

    # The masked form, as the page shows it unrevealed: the secret from the environment.
    masked = webhooks.get(store, owner.account_id, w.id)
    shown = masked.receiver_secret_masked or masked.key_masked
    [snippet] = [s for s in snippets.for_webhook(w.url, shown) if s.language == language]
    assert revealed not in snippet.code
    assert _run(snippet, tmp_path, body, headers, revealed) == (0, "verified")
    rc, _ = _run(snippet, tmp_path, body, headers, webhooks.generate_signing_key())
    assert rc == 1


@pytest.mark.parametrize("language", ["Python", "Shell", "Node.js"])
async def test_snippets_accept_either_key_during_a_rotation(
    store, owner, custom, receiver, tmp_path, language
):
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")
    old = webhooks.generate_signing_key()
    w = webhooks.create(store, owner, custom, url=receiver.url_for("/hook"), sign_key=old)
    webhooks.rotate_key(store, owner, w.id)
    new = webhooks.reveal_key(store, owner, w.id)
    assert (await deliveries.send_test(store, owner, w.id)).ok
    [(req, _resp)] = receiver.log
    [snippet] = [s for s in snippets.for_webhook(w.url, "") if s.language == language]
    for secret in (old, new):
        assert _run(snippet, tmp_path, req.get_data(), dict(req.headers), secret) == (
            0,
            "verified",
        )
