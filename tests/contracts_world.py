"""An account ready for the integration API, built through the store's own
functions: the Custom integration with a blueprint "Orders" (Amount required,
Customer, Notes left unmapped), a playbook "Sales" with data fields Amount,
Customer name and Currency (default "EUR"), mapped, and a generated token.

Shared by the contract store tests and the API tests."""

from __future__ import annotations

from dataclasses import dataclass

from store import (
    accounts,
    apiaccess,
    blueprints,
    clock,
    marketplace,
    playbooks,
    tokens,
)
from store.accounts import Actor
from store.catalog import CUSTOM_KEY
from store.db import Store
from store.models import Account, User
from store.tokens import ApiCaller


@dataclass(frozen=True)
class World:
    actor: Actor
    integration_id: int
    blueprint_id: int
    amount_id: int  # blueprint field, required, mapped to data field "Amount"
    customer_id: int  # blueprint field, mapped to "Customer name"
    notes_id: int  # blueprint field, not mapped
    playbook_id: int
    df_amount: int
    df_customer: int
    df_currency: int  # receives nothing: default "EUR"
    token: str
    token_id: int

    def caller(self, store: Store) -> ApiCaller:
        return apiaccess.authenticate(store, self.token)


def another_account(store: Store, login: str = "eve") -> Actor:
    """A second account in the same database, with ``login`` its owner."""
    with store.write() as s:
        acct = Account(name=f"Account of {login}", plan="Business", created_at=clock.now())
        s.add(acct)
        s.flush()
        s.add(
            User(
                account_id=acct.id,
                login=login,
                name=login,
                role="owner",
                can_manage=True,
                created_at=clock.now(),
            )
        )
    return accounts.sign_in(store, login)


def build(
    store: Store, actor: Actor, *, blueprint: str = "Orders", playbook: str = "Sales"
) -> World:
    iid = marketplace.enable(store, actor, CUSTOM_KEY)
    bp = blueprints.create(store, actor, iid, name=blueprint)
    amount = blueprints.add_field(store, actor, bp.id, name="Amount", mapping_required=True)
    customer = blueprints.add_field(store, actor, bp.id, name="Customer")
    notes = blueprints.add_field(store, actor, bp.id, name="Notes")
    pb = playbooks.create(store, actor, name=playbook)
    df_amount = playbooks.add_data_field(store, actor, pb.id, name="Amount")
    df_customer = playbooks.add_data_field(store, actor, pb.id, name="Customer name")
    df_currency = playbooks.add_data_field(
        store, actor, pb.id, name="Currency", default_value="EUR"
    )
    playbooks.connect(store, actor, pb.id, bp.id)
    playbooks.set_mapping(store, actor, pb.id, amount.id, df_amount.id)
    playbooks.set_mapping(store, actor, pb.id, customer.id, df_customer.id)
    info, token = tokens.generate(store, actor, iid, name=f"{blueprint} sync")
    return World(
        actor=actor,
        integration_id=iid,
        blueprint_id=bp.id,
        amount_id=amount.id,
        customer_id=customer.id,
        notes_id=notes.id,
        playbook_id=pb.id,
        df_amount=df_amount.id,
        df_customer=df_customer.id,
        df_currency=df_currency.id,
        token=token,
        token_id=info.id,
    )
