"""Contracts in the store (SQLite and PostgreSQL): values routed through the
playbook's mappings, required fields, refusals that write nothing, states,
sources, and what another integration or account can reach."""

from __future__ import annotations

import pytest

from store import apiaccess, audit, blueprints, contracts, marketplace, playbooks, tokens
from store.errors import Conflict, Invalid, NotFound, TokenRefused
from store.tokens import ApiCaller

from ..contracts_world import World, another_account, build
from ..reliability import dump


@pytest.fixture
def world(store, owner) -> World:
    return build(store, owner)


@pytest.fixture
def caller(store, world) -> ApiCaller:
    return world.caller(store)


def _values(detail: contracts.ContractDetail) -> dict[str, tuple[str, str]]:
    return {v.name: (v.value, v.source) for v in detail.values}


def test_create_routes_values_by_name_and_id_and_fills_defaults(store, world, caller):
    made = contracts.create(
        store,
        caller,
        playbook_id=world.playbook_id,
        name="  Order 1001 ",
        values={"Amount": "120.50", str(world.customer_id): "Northwind"},
    )
    c = made.contract
    assert (c.name, c.state, c.playbook_id, c.playbook_name) == (
        "Order 1001",
        "draft",
        world.playbook_id,
        "Sales",
    )
    assert c.integration_name == "Custom integration"
    assert _values(made) == {
        "Amount": ("120.50", "Custom integration / Orders / Amount"),
        "Customer name": ("Northwind", "Custom integration / Orders / Customer"),
        "Currency": ("EUR", "default"),
    }
    by_name = {v.name: v for v in made.values}
    assert by_name["Amount"].source_field_id == world.amount_id
    assert by_name["Currency"].is_default and by_name["Currency"].source_field_id is None
    assert [v.data_field_id for v in made.values] == [
        world.df_amount,
        world.df_customer,
        world.df_currency,
    ]
    # The administrator's reads see the same.
    assert contracts.detail(store, world.actor.account_id, c.id) == made
    assert contracts.get_for_caller(store, caller, c.id) == made
    [listed] = contracts.all_for_account(store, world.actor.account_id)
    assert listed == c
    # The audit entry names the token by its hint, never the token.
    [entry, *_] = audit.entries(store, world.actor.account_id)
    assert entry.action == "contract.create" and entry.object_id == c.id
    assert caller.token_hint in entry.actor and "Custom integration" in entry.actor
    assert world.token not in repr(dump(store))


def test_field_names_match_ignoring_case_and_spaces(store, world, caller):
    made = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="X", values={" amount ": "5"}
    )
    assert _values(made)["Amount"][0] == "5"


def _refused(store, call) -> Invalid:
    before = dump(store)
    with pytest.raises(Invalid) as refused:
        call()
    assert dump(store) == before, "a refusal writes nothing"
    return refused.value


def test_each_missing_required_field_is_named(store, world, caller):
    second = blueprints.add_field(
        store, world.actor, world.blueprint_id, name="Order number", mapping_required=True
    )
    df = playbooks.add_data_field(store, world.actor, world.playbook_id, name="Number")
    playbooks.set_mapping(store, world.actor, world.playbook_id, second.id, df.id)
    err = _refused(
        store,
        lambda: contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values={"Customer": "N"}
        ),
    )
    assert [f for f, _ in err.problems] == ["values.Amount", "values.Order number"]
    assert "'Amount' (Orders)" in err.problems[0][1]
    assert "required" in err.problems[0][1]
    # An empty value is no value.
    err = _refused(
        store,
        lambda: contracts.create(
            store,
            caller,
            playbook_id=world.playbook_id,
            name="X",
            values={"Amount": "  ", "Order number": "7"},
        ),
    )
    assert [f for f, _ in err.problems] == ["values.Amount"]


def test_unmapped_unknown_and_bad_values_are_all_refused_at_once(store, world, caller):
    err = _refused(
        store,
        lambda: contracts.create(
            store,
            caller,
            playbook_id=world.playbook_id,
            name="",
            values={
                "Amount": "1",
                "Notes": "goes nowhere",
                "Colour": "red",
                str(world.customer_id): 5,  # type: ignore[dict-item]
            },
        ),
    )
    fields = [f for f, _ in err.problems]
    assert fields == ["name", "values.Notes", "values.Colour", f"values.{world.customer_id}"]
    messages = [m for _, m in err.problems]
    assert "not mapped to a data field in the playbook 'Sales'" in messages[1]
    assert "named or numbered 'Colour'" in messages[2]
    assert "must be text" in messages[3]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("x" * 10_001, "10,001 characters long; at most 10,000"),
        ("a\x1b[31mred", "control characters"),
        ("a\x00b", "control characters"),
        ("Trojan\u202eSource", "reorders the text"),
    ],
)
def test_value_limits_and_control_characters(store, world, caller, value, words):
    err = _refused(
        store,
        lambda: contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values={"Amount": value}
        ),
    )
    assert err.problems[0][0] == "values.Amount" and words in err.problems[0][1]


def test_values_up_to_the_limits_are_kept_exactly(store, world, caller):
    text = "[bold]x[/] <b>&amp;</b> line\nnext\ttab " + "é" * 9_000
    made = contracts.create(
        store,
        caller,
        playbook_id=world.playbook_id,
        name="[red]Markup[/]",
        values={"Amount": text[:10_000]},
    )
    assert _values(made)["Amount"][0] == text[:10_000].strip()
    assert made.contract.name == "[red]Markup[/]"


def test_more_than_300_values_are_refused(store, world, caller):
    values = {f"f{i}": "v" for i in range(301)}
    err = _refused(
        store,
        lambda: contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values=values
        ),
    )
    assert err.problems == (("values", "At most 300 values are allowed; this has 301."),)


def test_two_fields_reaching_one_data_field_and_ambiguous_names(store, world, caller):
    # A second blueprint of the same integration with a field also named Amount,
    # mapped to the same data field.
    other = blueprints.create(store, world.actor, world.integration_id, name="Invoices")
    amount2 = blueprints.add_field(store, world.actor, other.id, name="Amount")
    playbooks.connect(store, world.actor, world.playbook_id, other.id)
    playbooks.set_mapping(store, world.actor, world.playbook_id, amount2.id, world.df_amount)
    err = _refused(
        store,
        lambda: contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values={"Amount": "1"}
        ),
    )
    assert "Several connected blueprints have a field named 'Amount'" in err.problems[0][1]
    assert f"{world.amount_id} (Orders)" in err.problems[0][1]
    err = _refused(
        store,
        lambda: contracts.create(
            store,
            caller,
            playbook_id=world.playbook_id,
            name="X",
            values={str(world.amount_id): "1", str(amount2.id): "2"},
        ),
    )
    assert "both reach the same data field" in err.problems[0][1]
    playbooks.set_mapping(store, world.actor, world.playbook_id, amount2.id, world.df_currency)
    made = contracts.create(
        store,
        caller,
        playbook_id=world.playbook_id,
        name="X",
        values={str(world.amount_id): "1", str(amount2.id): "USD"},
    )
    assert _values(made)["Currency"] == ("USD", "Custom integration / Invoices / Amount")


def test_an_incomplete_playbook_is_refused_naming_the_missing_mapping(store, world, caller):
    playbooks.set_mapping(store, world.actor, world.playbook_id, world.amount_id, None)
    err = _refused(
        store,
        lambda: contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values={"Customer": "N"}
        ),
    )
    assert err.problems[0][0] == "playbook_id"
    assert "incomplete" in err.problems[0][1] and "'Amount' (Orders)" in err.problems[0][1]


def test_states_and_transitions(store, world, caller):
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="X", values={"Amount": "1"}
    ).contract.id
    with pytest.raises(Conflict, match="only a published contract can be signed"):
        contracts.sign(store, caller, cid)
    with pytest.raises(Conflict, match="only a published contract can be declined"):
        contracts.decline(store, caller, cid)
    assert contracts.publish(store, caller, cid).contract.state == "published"
    with pytest.raises(Conflict, match="is published: only a draft contract can be published"):
        contracts.publish(store, caller, cid)
    assert contracts.sign(store, caller, cid).contract.state == "signed"
    for action in (contracts.publish, contracts.sign, contracts.decline):
        with pytest.raises(Conflict, match="is signed"):
            action(store, caller, cid)
    with pytest.raises(Conflict, match="only a draft or published contract can be changed"):
        contracts.update(store, caller, cid, values={"Amount": "2"})
    other = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="Y", values={"Amount": "1"}
    ).contract.id
    contracts.publish(store, caller, other)
    assert contracts.decline(store, caller, other).contract.state == "declined"
    actions = [e.action for e in audit.entries(store, world.actor.account_id)][:6]
    assert actions == [
        "contract.decline",
        "contract.publish",
        "contract.create",
        "contract.sign",
        "contract.publish",
        "contract.create",
    ]


def test_update_changes_values_and_their_source(store, world, caller):
    made = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="X", values={"Amount": "1"}
    )
    cid = made.contract.id
    # A data field added to the playbook after the contract was made.
    extra_field = blueprints.add_field(store, world.actor, world.blueprint_id, name="Region")
    extra = playbooks.add_data_field(store, world.actor, world.playbook_id, name="Region")
    playbooks.set_mapping(store, world.actor, world.playbook_id, extra_field.id, extra.id)
    contracts.publish(store, caller, cid)
    after = contracts.update(
        store, caller, cid, name="Renamed", values={"Customer": "Contoso", "Region": "North"}
    )
    assert after.contract.name == "Renamed" and after.contract.state == "published"
    assert after.contract.version == made.contract.version + 2
    assert _values(after) == {
        "Amount": ("1", "Custom integration / Orders / Amount"),
        "Customer name": ("Contoso", "Custom integration / Orders / Customer"),
        "Currency": ("EUR", "default"),
        "Region": ("North", "Custom integration / Orders / Region"),
    }
    [entry, *_] = audit.entries(store, world.actor.account_id)
    assert entry.action == "contract.update"
    assert entry.detail == "changed name, Customer name, Region"
    # Emptying a required field, or an unmapped one: refused, nothing written.
    err = _refused(store, lambda: contracts.update(store, caller, cid, values={"Amount": ""}))
    assert "required" in err.problems[0][1]
    _refused(store, lambda: contracts.update(store, caller, cid, values={"Notes": "x"}))
    # The same values again change nothing, not even the version.
    same = contracts.update(store, caller, cid, values={"Customer": "Contoso"})
    assert same.contract.version == after.contract.version


def test_other_integrations_and_accounts_see_nothing(store, owner, world, caller):
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="Ours", values={"Amount": "1"}
    ).contract.id
    # A native integration of the same account, through its managed token.
    hubspot = marketplace.enable(store, owner, "hubspot")
    with store.read() as s:
        from sqlmodel import select

        from store.models import ApiToken

        managed = s.exec(select(ApiToken).where(ApiToken.integration_id == hubspot)).one()
    native = ApiCaller(
        token_id=managed.id,
        token_hint=managed.hint,
        token_name=managed.name,
        integration_id=hubspot,
        integration_name="HubSpot",
        account_id=owner.account_id,
    )
    # Another account, with the same shape of data.
    eve = another_account(store)
    theirs = build(store, eve, blueprint="Orders of Eve", playbook="Sales of Eve")
    their_caller = theirs.caller(store)
    before = dump(store)
    for stranger in (native, their_caller):
        with pytest.raises(NotFound):
            contracts.get_for_caller(store, stranger, cid)
        for action in (contracts.publish, contracts.sign, contracts.decline):
            with pytest.raises(NotFound):
                action(store, stranger, cid)
        with pytest.raises(NotFound):
            contracts.update(store, stranger, cid, values={"Amount": "2"})
        with pytest.raises(NotFound):
            contracts.create(
                store, stranger, playbook_id=world.playbook_id, name="X", values={"Amount": "1"}
            )
    # Eve's own playbook is not ours either, nor is a field of hers reachable by id.
    with pytest.raises(NotFound):
        contracts.create(
            store, caller, playbook_id=theirs.playbook_id, name="X", values={"Amount": "1"}
        )
    err = _refused(
        store,
        lambda: contracts.create(
            store,
            caller,
            playbook_id=world.playbook_id,
            name="X",
            values={"Amount": "1", str(theirs.customer_id): "x"},
        ),
    )
    assert err.problems[0][0] == f"values.{theirs.customer_id}"
    assert dump(store) == before
    with pytest.raises(NotFound):
        contracts.detail(store, eve.account_id, cid)
    assert contracts.all_for_account(store, eve.account_id) == []
    assert apiaccess.blueprints_for(store, their_caller)[0].name == "Orders of Eve"
    assert [b.name for b in apiaccess.blueprints_for(store, native)] == ["HubSpot fields"]
    assert apiaccess.playbooks_for(store, native) == []


def test_a_token_revoked_meanwhile_changes_nothing(store, world, caller):
    tokens.revoke(store, world.actor, world.token_id)
    before = dump(store)
    with pytest.raises(TokenRefused) as refused:
        contracts.create(
            store, caller, playbook_id=world.playbook_id, name="X", values={"Amount": "1"}
        )
    assert refused.value.reason == "revoked"
    assert dump(store) == before


def test_a_deleted_playbook_leaves_its_contracts_readable(store, world, caller):
    cid = contracts.create(
        store, caller, playbook_id=world.playbook_id, name="Kept", values={"Amount": "9"}
    ).contract.id
    playbooks.delete(store, world.actor, world.playbook_id)
    kept = contracts.detail(store, world.actor.account_id, cid)
    assert kept.contract.playbook_id is None and kept.contract.playbook_name == "Sales"
    assert {v.name: v.value for v in kept.values} == {
        "Amount": "9",
        "Customer name": "",
        "Currency": "EUR",
    }
    assert all(v.data_field_id is None for v in kept.values)
    with pytest.raises(Conflict, match=r"playbook .* was deleted"):
        contracts.update(store, caller, cid, values={"Amount": "1"})


def test_list_filter(store, world, caller):
    for name in ("Alpha deal", "Beta deal", "Gamma"):
        contracts.create(
            store, caller, playbook_id=world.playbook_id, name=name, values={"Amount": "1"}
        )
    aid = world.actor.account_id
    assert [c.name for c in contracts.all_for_account(store, aid)] == [
        "Gamma",
        "Beta deal",
        "Alpha deal",
    ]
    assert [c.name for c in contracts.all_for_account(store, aid, text_filter="DEAL")] == [
        "Beta deal",
        "Alpha deal",
    ]
    assert len(contracts.all_for_account(store, aid, text_filter="draft")) == 3
    assert len(contracts.all_for_account(store, aid, text_filter="custom integ")) == 3
    assert len(contracts.all_for_account(store, aid, text_filter="sales")) == 3
    assert contracts.all_for_account(store, aid, text_filter="100%_") == []
    assert contracts.count_for_account(store, aid) == 3
