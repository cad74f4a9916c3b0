"""`integrations-admin users ...` and `audit export` for scripted set-up (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from store import accounts, audit, clock, users
from tui import cli

from ..helpers import people


def run(store, capsys, *args: str) -> tuple[int, str, str]:
    rc = cli.main(["--db", store.url, *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_users_commands(store, owner, capsys, monkeypatch):
    monkeypatch.setattr(cli.getpass, "getuser", lambda: "root")
    assert run(store, capsys, "users", "add", "bob", "--name", "Bob B")[:2] == (
        0,
        "Added bob (member, permission: no)\n",
    )
    assert run(store, capsys, "users", "grant", "bob")[0] == 0
    assert run(store, capsys, "users", "promote", "bob")[1] == "bob is now an owner\n"
    assert run(store, capsys, "users", "demote", "alice")[1] == "alice is now a member\n"
    assert people(store, owner.account_id) == [("alice", "member", True), ("bob", "owner", True)]

    # The last owner stays, whoever asks.
    rc, out, err = run(store, capsys, "users", "demote", "bob")
    assert (rc, out) == (2, "")
    assert err == (
        "integrations-admin: bob is the last owner of the account and cannot be demoted: "
        "promote another user to owner first.\n"
    )
    rc, _, err = run(store, capsys, "users", "remove", "bob")
    assert rc == 2 and "cannot be removed" in err
    assert run(store, capsys, "users", "remove", "alice")[1] == "Removed alice\n"
    assert people(store, owner.account_id) == [("bob", "owner", True)]
    rc, out, _ = run(store, capsys, "users", "list")
    assert rc == 0 and out.startswith("bob                  owner   manage=yes")
    actors = {e.actor for e in audit.entries(store, owner.account_id, text="user.")}
    assert actors == {"operator:root"}


def test_audit_export_with_time_bounds(store, owner, capsys, tmp_path):
    for day in (1, 2, 3):
        clock.fix(datetime(2026, 2, day, 12, tzinfo=UTC))
        users.add(store, owner, f"user{day}")
    rc, out, _ = run(
        store, capsys, "audit", "export", "--since", "2026-02-02", "--until", "2026-02-03"
    )
    assert rc == 0
    [line] = [json.loads(x) for x in out.splitlines()]
    assert (line["at"], line["action"], line["object_name"]) == (
        "2026-02-02T12:00:00+00:00",
        "user.add",
        "user2",
    )
    target = tmp_path / "audit.jsonl"
    rc, out, err = run(
        store,
        capsys,
        "audit",
        "export",
        "--since",
        "2026-02-02",
        "--until",
        "2026-02-28",
        "-o",
        str(target),
    )
    assert (rc, out, err) == (0, "", f"Wrote 2 audit entries to {target}\n")
    assert [json.loads(x)["object_name"] for x in target.read_text().splitlines()] == [
        "user2",
        "user3",
    ]
    rc, out, err = run(store, capsys, "audit", "export", "--until", "soon")
    assert (rc, out) == (2, "")
    assert "--until 'soon' is not a date or time" in err


# -- account set: a downgrade or a limit below use is said first, and confirmed ----------


def _downgrade_setup(store, owner):
    from store import blueprints, marketplace

    custom = marketplace.enable(store, owner, "custom")
    blueprints.create(store, owner, custom, name="Orders")
    return custom


def test_account_set_downgrade_without_yes_and_no_tty_changes_nothing(
    store, owner, capsys, monkeypatch
):
    _downgrade_setup(store, owner)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    entries = audit.count(store, owner.account_id)

    rc, out, err = run(store, capsys, "account", "set", "--plan", "Free")

    assert rc == 1 and out == ""
    said = " ".join(err.split())  # the warnings are wrapped to the terminal
    assert "Custom integration will be suspended: it needs the Business plan" in said
    assert "Playbooks need the Essentials plan or higher" in said
    assert err.endswith("nothing changed. Run it again with --yes to confirm.\n")
    assert accounts.account_info(store, owner.account_id).plan == "Business"
    assert audit.count(store, owner.account_id) == entries


def test_account_set_downgrade_with_yes_warns_and_applies(store, owner, capsys, monkeypatch):
    _downgrade_setup(store, owner)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    rc, out, err = run(store, capsys, "account", "set", "--plan", "Free", "--yes")

    assert rc == 0
    assert "Custom integration will be suspended" in " ".join(err.split())
    assert "Plan      Free" in out
    assert "Custom integration     Suspended: needs Business\n" in out
    assert accounts.account_info(store, owner.account_id).plan == "Free"

    # Upgrading needs no confirmation and says what works again.
    rc, out, err = run(store, capsys, "account", "set", "--plan", "Business")
    assert rc == 0 and err == ""
    assert "Custom integration works again: the Business plan includes it." in out


def test_account_set_asks_on_a_terminal(store, owner, capsys, monkeypatch):
    _downgrade_setup(store, owner)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")

    rc, _, err = run(store, capsys, "account", "set", "--limit", "custom_blueprints=0")

    assert rc == 1 and err.endswith("integrations-admin: nothing changed.\n")
    assert "custom_blueprints 0 is below current use: the account already has 1 custom " in (
        " ".join(err.split())
    )
    assert accounts.account_info(store, owner.account_id).limit_custom_blueprints == 10

    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    rc, out, _ = run(store, capsys, "account", "set", "--limit", "custom_blueprints=0")
    assert rc == 0 and "Custom blueprints      1/0" in out
