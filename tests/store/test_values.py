"""Listing order: natural and case-insensitive (issue 13, item 16).

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from store import blueprints, marketplace, playbooks
from store.values import natural_key

from ..helpers import (
    custom_integration,
    make_blueprint,
)

# -- natural sort -------------------------------------------------------------------------

NAMES = ["Blueprint 10", "blueprint 2", "Blueprint 1", "Alpha", "alpha 03", "Zed", "b"]
NATURAL = ["Alpha", "alpha 03", "b", "Blueprint 1", "blueprint 2", "Blueprint 10", "Zed"]


def test_natural_key_orders_numbers_by_value_and_ignores_case():
    assert sorted(NAMES, key=natural_key) == NATURAL
    assert sorted(["Item 9", "item 10", "Item 100", "item 1"], key=natural_key) == [
        "item 1",
        "Item 9",
        "item 10",
        "Item 100",
    ]


def test_blueprints_and_playbooks_are_listed_in_natural_order(store, owner):
    integ = custom_integration(store, owner)
    marketplace.enable(store, owner, "slack")  # native blueprints stay first
    ids = {n: blueprints.create(store, owner, integ, name=n).id for n in NAMES}
    listed = [b.name for b in blueprints.all_for_account(store, owner.account_id)]
    assert listed == ["Slack fields", *NATURAL]
    assert [b.name for b in blueprints.for_integration(store, owner.account_id, integ)] == NATURAL

    pbs = {n: playbooks.create(store, owner, name=n).id for n in NAMES}
    assert [p.name for p in playbooks.all_for_account(store, owner.account_id)] == NATURAL
    assert [b.name for b in playbooks.connectable(store, owner.account_id, pbs["Zed"])] == [
        "Slack fields",
        *NATURAL,
    ]

    # A playbook's connections and mapping rows, and a blueprint's playbooks.
    target = pbs["Alpha"]
    for name in ("Blueprint 10", "blueprint 2", "Blueprint 1"):
        blueprints.add_field(store, owner, ids[name], name="Second", mapping_required=True)
        blueprints.add_field(store, owner, ids[name], name="First", mapping_required=True)
        playbooks.connect(store, owner, target, ids[name])
    d = playbooks.detail(store, owner.account_id, target)
    order = ["Blueprint 1", "blueprint 2", "Blueprint 10"]
    assert [c.blueprint_name for c in d.connections] == order
    assert [(r.blueprint_name, r.field_name) for r in d.mappings] == [
        (b, f)
        for b in order
        for f in ("Second", "First")  # fields keep their position
    ]
    c = playbooks.completeness(store, owner.account_id, target)
    assert [m.label for m in c.missing] == [
        f"{b} / {f}" for b in order for f in ("Second", "First")
    ]

    for name in ("Playbook 10", "playbook 2"):
        pbs[name] = playbooks.create(store, owner, name=name).id
        playbooks.connect(store, owner, pbs[name], ids["Blueprint 1"])
    detail = blueprints.detail(store, owner.account_id, ids["Blueprint 1"])
    assert detail.playbooks == ("Alpha", "playbook 2", "Playbook 10")
    assert detail.playbook_ids == (target, pbs["playbook 2"], pbs["Playbook 10"])


def test_data_field_sources_are_in_natural_order(store, owner):
    pb = playbooks.create(store, owner, name="P")
    df = playbooks.add_data_field(store, owner, pb.id, name="Customer")
    integ = custom_integration(store, owner)
    for name in ("CRM 10", "CRM 9"):
        bp, fields = make_blueprint(store, owner, name, [("Customer", False)], integ)
        playbooks.connect(store, owner, pb.id, bp)
        playbooks.set_mapping(store, owner, pb.id, fields["Customer"], df.id)
    [f] = playbooks.detail(store, owner.account_id, pb.id).data_fields
    assert f.sources == ("CRM 9 / Customer", "CRM 10 / Customer")
