r"""Make the database of schema version 1 (release 0.1.0) kept in tests/data/.

This script was run ONCE with the code of schema version 1 (commit 9b57b5d,
before any migration existed), not with the current code:

    mkdir /tmp/v1 && git archive 9b57b5d | tar -x -C /tmp/v1
    PYTHONPATH=/tmp/v1 .venv/bin/python tests/data/make_schema_v1.py \
        sqlite:///tests/data/schema_v1.sqlite
    # and for PostgreSQL, into an empty database, then
    pg_dump --inserts --no-owner --no-privileges --no-comments -d ... \
        | sed '/^\\restrict /d;/^\\unrestrict /d' > tests/data/schema_v1.pg.sql

It fills every table with rows a real account would have (native and custom
integrations, a paused one, blueprints, fields, tokens (one revoked), webhooks
with deliveries, playbooks with data fields, connections and mappings, users,
the audit log) with awkward text (unicode, quotes, markup) so the upgrade test
can prove every row survives. The webhook store module did not exist at
version 1, so webhooks and deliveries are written as rows of the v1 models.
The clock is fixed, so the file is reproducible apart from random token hashes.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from store import accounts, blueprints, clock, marketplace, playbooks, tokens
from store.catalog import CUSTOM_KEY
from store.db import SCHEMA_VERSION, Store
from store.models import Delivery, Webhook

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def main(url: str) -> None:
    assert SCHEMA_VERSION == 1, "run this with the code of schema version 1"
    clock.fix(T0)
    store = Store(url)
    owner = accounts.sign_in(store, "alice", name="Alice Ådmin")
    accounts.add_user(store, owner.account_id, by="alice", login="bob", name="Bob Viewer")
    accounts.add_user(
        store, owner.account_id, by="alice", login="carol", name="Carol 管理", can_manage=True
    )
    custom = marketplace.enable(store, owner, CUSTOM_KEY)
    sf = marketplace.enable(store, owner, "salesforce")
    hub = marketplace.enable(store, owner, "hubspot")
    marketplace.disable(store, owner, "hubspot")  # a paused integration
    del sf, hub

    clock.fix(T0 + timedelta(minutes=5))
    orders = blueprints.create(
        store, owner, custom, name="Order data", description="Orders from the ERP\nline two"
    )
    odd = blueprints.create(
        store, owner, custom, name="[bold]Ünïcødé[/] 名前 🚀", description='it\'s "quoted"'
    )
    f1 = blueprints.add_field(store, owner, orders.id, name="Order number", mapping_required=True)
    blueprints.add_field(store, owner, orders.id, name="Amount", description="in €")
    blueprints.add_field(store, owner, odd.id, name="'; DROP TABLE blueprint; --")
    blueprints.update_field(
        store, owner, f1.id, name="Order number", description="ERP key", mapping_required=True
    )

    clock.fix(T0 + timedelta(minutes=10))
    tokens.generate(store, owner, custom, name="ERP sync", expires_in_days=90)
    old, _secret = tokens.generate(store, owner, custom, name="Old script")
    del _secret  # never kept anywhere
    tokens.revoke(store, owner, old.id)

    clock.fix(T0 + timedelta(minutes=15))
    with store.write(owner.account_id) as s:
        hook = Webhook(
            integration_id=custom,
            url="https://hooks.example.com/contracts?team=ops",
            sign_key="v1-typed-signing-key-0123456789",
            event_types="contract:sign,contract:publish",
            created_at=clock.now(),
            created_by="alice",
            verified=True,
        )
        s.add(hook)
        s.flush()
        attempts = [
            (True, 200, None),
            (False, 503, "status 503 Service Unavailable"),
            (False, None, "timeout"),
        ]
        for n, (ok, status, err) in enumerate(attempts):
            s.add(
                Delivery(
                    webhook_id=hook.id,
                    callback_id=f"{n:040x}",
                    event_type="contract:sign",
                    url=hook.url,
                    attempted_at=clock.now() + timedelta(seconds=n),
                    success=ok,
                    status_code=status,
                    latency_ms=40 + n,
                    error=err,
                    request_headers='{"content-type": "application/json"}',
                    request_body='{"callback_id": "...", "events": []}',
                    response_excerpt="ok" if ok else "",
                    resend_of_id=None,
                )
            )

    clock.fix(T0 + timedelta(minutes=20))
    pb = playbooks.create(store, owner, name="Sales contract", description="Default playbook")
    d1 = playbooks.add_data_field(store, owner, pb.id, name="Order no.", default_value="0")
    playbooks.add_data_field(store, owner, pb.id, name="Customer", description="Legal name")
    playbooks.connect(store, owner, pb.id, orders.id)
    playbooks.set_mapping(store, owner, pb.id, f1.id, d1.id)
    playbooks.create(store, owner, name="Empty playbook")
    store.dispose()
    print(f"schema v{SCHEMA_VERSION} database written to {store.display_location}")


if __name__ == "__main__":
    main(sys.argv[1])
