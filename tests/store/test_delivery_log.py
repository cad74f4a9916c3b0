"""The delivery log: a delivery's number within its webhook.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from ..helpers import (
    log_deliveries,
    two_webhooks,
)

# -- a delivery's number within its webhook ------------------------------------------------


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
