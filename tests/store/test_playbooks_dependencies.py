"""What playbooks depend on: fields becoming required, integrations being
disabled (issue 13, item 17).

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from store import blueprints, marketplace, playbooks

from ..helpers import (
    hubspot_playbook,
    make_blueprint,
)

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

    from ..helpers import audit_count

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
