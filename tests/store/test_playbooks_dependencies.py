"""Listing order (natural, case-insensitive) and what playbooks depend on:
fields becoming required, integrations being disabled (issue 13, items 16, 17).

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from store import blueprints, marketplace, playbooks
from store.values import natural_key

from .test_playbooks import custom_integration, make_blueprint

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


# -- a delivery's number within its webhook ------------------------------------------------


def log_deliveries(store, owner, hook: int, n: int, *, resend_of: int | None = None) -> list[int]:
    """Setup only: ``n`` logged deliveries of ``hook``; their ids, oldest first."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from store.models import Delivery

    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    rows = [
        {
            "webhook_id": hook,
            "callback_id": f"{hook:04d}{i:036d}",
            "event_type": "contract:sign",
            "url": "https://hooks.example.com/x",
            "attempted_at": t0 + timedelta(minutes=i),
            "success": True,
            "status_code": 200,
            "latency_ms": 20,
            "error": None,
            "request_headers": "[]",
            "request_body": "{}",
            "response_excerpt": "",
            "resend_of_id": resend_of,
        }
        for i in range(n)
    ]
    with store.write(owner.account_id) as s:
        ids = [s.execute(insert(Delivery).returning(Delivery.id), [r]).scalar_one() for r in rows]
    return ids


def two_webhooks(store, owner) -> tuple[int, int]:
    from store import settings, webhooks

    custom = marketplace.enable(store, owner, "custom")
    settings.set_allow_private_webhooks(store, owner, True)
    first = webhooks.create(store, owner, custom, url="https://hooks.example.com/first").id
    second = webhooks.create(store, owner, custom, url="https://hooks.example.com/second").id
    return first, second


def test_a_delivery_is_numbered_within_its_webhook(store, owner):
    from store import deliveries

    first, second = two_webhooks(store, owner)
    a = log_deliveries(store, owner, first, 3)
    b = log_deliveries(store, owner, second, 2)
    log_deliveries(store, owner, first, 1)  # later ones do not change earlier numbers
    [resend] = log_deliveries(store, owner, second, 1, resend_of=b[0])
    assert [deliveries.delivery(store, i).number for i in a] == [1, 2, 3]
    assert [deliveries.delivery(store, i).number for i in b] == [1, 2]
    d = deliveries.delivery(store, resend)
    assert (d.number, d.resend_of_id, d.resend_of_number) == (3, b[0], 1)
    assert deliveries.delivery(store, b[1]).resend_of_number is None


# -- a field becoming required: which playbooks it leaves incomplete ----------------------


def test_playbooks_made_incomplete_by_a_required_field(store, owner):
    import pytest

    from store.errors import NotFound

    bp, fields = make_blueprint(store, owner, "Order data", [("Order number", False)])
    other, _ = make_blueprint(store, owner, "Other", [], custom_integration_id(store, owner))
    aid = owner.account_id
    assert playbooks.playbooks_made_incomplete(store, aid, bp) == ()  # connected nowhere
    pbs = {
        n: playbooks.create(store, owner, name=n).id for n in ("Playbook 10", "Playbook 9", "NDA")
    }
    for n in ("Playbook 10", "Playbook 9"):
        playbooks.connect(store, owner, pbs[n], bp)
    playbooks.connect(store, owner, pbs["NDA"], other)  # not this blueprint
    # A new required field: missing in every playbook connected to the blueprint.
    assert playbooks.playbooks_made_incomplete(store, aid, bp) == ("Playbook 9", "Playbook 10")
    # An existing field: only where it is not mapped.
    df = playbooks.add_data_field(store, owner, pbs["Playbook 9"], name="Ref")
    playbooks.set_mapping(store, owner, pbs["Playbook 9"], fields["Order number"], df.id)
    field = fields["Order number"]
    assert playbooks.playbooks_made_incomplete(store, aid, bp, field) == ("Playbook 10",)
    # Already required: making it required changes nothing.
    f = blueprints.detail(store, aid, bp).fields[0]
    blueprints.update_field(store, owner, f.id, name=f.name, mapping_required=True)
    assert playbooks.playbooks_made_incomplete(store, aid, bp, field) == ()
    with pytest.raises(NotFound):
        playbooks.playbooks_made_incomplete(store, aid, other, field)  # not its field


def custom_integration_id(store, owner) -> int:
    from store import integrations

    return next(i.id for i in integrations.active(store, owner.account_id) if i.key == "custom")


# -- a disabled integration: the playbook depends on it, its mappings are read-only ------------


def hubspot_playbook(store, owner):
    """A playbook connected to HubSpot's blueprint with every required field mapped."""
    marketplace.enable(store, owner, "hubspot")
    [bp] = [b for b in blueprints.all_for_account(store, owner.account_id) if b.native]
    pb = playbooks.create(store, owner, name="Deals")
    playbooks.connect(store, owner, pb.id, bp.id)
    playbooks.create_data_fields_from_blueprint(store, owner, pb.id, bp.id)
    return pb.id, bp


def test_a_disabled_integration_makes_the_playbook_depend_on_it(store, owner):
    pb, bp = hubspot_playbook(store, owner)
    aid = owner.account_id
    assert playbooks.completeness(store, aid, pb).complete
    marketplace.disable(store, owner, "hubspot")
    c = playbooks.completeness(store, aid, pb)
    assert not c.complete and c.missing == () and c.disabled == ("HubSpot",)
    assert c.summary.startswith("Depends on HubSpot, which is disabled: its mappings are read-only")
    d = playbooks.detail(store, aid, pb)
    assert d.completeness == c and not d.complete
    info = next(p for p in playbooks.all_for_account(store, aid) if p.id == pb)
    assert info.disabled_integrations == ("HubSpot",) and not info.complete
    assert playbooks.get(store, aid, pb).disabled_integrations == ("HubSpot",)
    assert d.playbook.disabled_integrations == ("HubSpot",)
    [conn] = d.connections
    assert conn.read_only_reason == (
        f"{bp.name!r} belongs to HubSpot, which is disabled: its mappings are read-only until "
        "HubSpot is enabled again in the Marketplace."
    )
    # Enabling it again restores everything as it was.
    marketplace.enable(store, owner, "hubspot")
    assert playbooks.completeness(store, aid, pb) == playbooks.Completeness(True)
    assert playbooks.get(store, aid, pb).complete


def test_mappings_of_a_disabled_integration_are_refused_with_its_words(store, owner):
    import pytest

    from store.errors import Conflict

    from .test_playbooks import audit_count

    pb, bp = hubspot_playbook(store, owner)
    aid = owner.account_id
    d = playbooks.detail(store, aid, pb)
    row = d.mappings[0]
    other = playbooks.add_data_field(store, owner, pb, name="Elsewhere")
    marketplace.disable(store, owner, "hubspot")
    before = (playbooks.detail(store, aid, pb).mappings, audit_count(store))
    words = f"{bp.name!r} belongs to HubSpot, which is disabled: its mappings are read-only"
    for target in (None, other.id):  # unmapping and mapping
        with pytest.raises(Conflict) as e:
            playbooks.set_mapping(store, owner, pb, row.field_id, target)
        assert e.value.message.startswith(words)
    with pytest.raises(Conflict) as e:
        playbooks.preview_from_blueprint(store, owner, pb, bp.id)
    assert e.value.message.startswith(words)
    with pytest.raises(Conflict):
        playbooks.create_data_fields_from_blueprint(store, owner, pb, bp.id)
    assert (playbooks.detail(store, aid, pb).mappings, audit_count(store)) == before
    marketplace.enable(store, owner, "hubspot")
    assert playbooks.set_mapping(store, owner, pb, row.field_id, None).data_field_id is None
