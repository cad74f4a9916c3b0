"""The tables. Rules the database itself can hold (unique names, foreign keys,
non-null) are declared here so they hold even when two processes race.

Times are timezone-aware UTC datetimes (SQLModel stores them as UTC on both
databases and returns them aware).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _fk(target: str, *, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True):
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index
        ),
    )


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself (schema version)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    plan: str = Field(max_length=20)
    limit_custom_blueprints: int = 10
    limit_connected_blueprints: int = 5
    limit_data_fields: int = 300
    limit_playbooks: int = 100
    webhook_timeout_s: int = 10
    allow_private_webhooks: bool = False
    created_at: datetime
    # Schema 4: how long the API request log (and, later, delivery attempts) is kept.
    retention_days: int = 30
    # Schema 5: up by one in every write holding the account's lock (Store.write),
    # so a screen asks "anything changed?" in one small query (store.accounts.changes).
    changes: int = 0


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id")
    login: str = Field(max_length=100, unique=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="member", max_length=20)  # owner | member
    can_manage: bool = False  # "Manage add-ons and integrations"
    created_at: datetime
    last_seen_at: datetime | None = None


class Integration(SQLModel, table=True):
    """An extension of the Marketplace that an account has enabled at least once.

    Disabling pauses (``enabled`` false); nothing below it is deleted.
    """

    __tablename__ = "integration"
    __table_args__ = (UniqueConstraint("account_id", "extension_key"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id")
    extension_key: str = Field(max_length=50)
    enabled: bool = True
    first_enabled_at: datetime
    enabled_at: datetime
    enabled_by: str = Field(max_length=100)


class Blueprint(SQLModel, table=True):
    __tablename__ = "blueprint"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id")
    integration_id: int | None = _fk("integration.id")
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    native: bool = False
    created_at: datetime
    created_by: str = Field(max_length=100)
    version: int = 1


class BlueprintField(SQLModel, table=True):
    __tablename__ = "blueprint_field"
    __table_args__ = (UniqueConstraint("blueprint_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    blueprint_id: int | None = _fk("blueprint.id")
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    mapping_required: bool = False
    position: int = 0
    created_at: datetime
    version: int = 1


class ApiToken(SQLModel, table=True):
    """Only a SHA-256 hash and a display hint are kept; never the token."""

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("integration_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int | None = _fk("integration.id")
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    hint: str = Field(max_length=40)
    managed: bool = False
    created_at: datetime
    created_by: str = Field(max_length=100)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    # Schema 6: the token a rotation replaced (its hash only), verifying until
    # ``previous_until``, then refused as "rotated" (store/migrations/versions/0005).
    previous_hash: str | None = Field(default=None, max_length=64, index=True)
    previous_hint: str | None = Field(default=None, max_length=40)
    previous_until: datetime | None = None


class Webhook(SQLModel, table=True):
    __tablename__ = "webhook"
    id: int | None = Field(default=None, primary_key=True)
    integration_id: int | None = _fk("integration.id")
    url: str = Field(max_length=1000)
    # The signing key is a shared secret the program must use to sign, so it is
    # stored as typed; it never reaches logs, the audit log or the screen unmasked.
    sign_key: str | None = Field(default=None, max_length=500)
    event_types: str = Field(default="*", sa_column=Column(Text, nullable=False, default="*"))
    managed: bool = False
    created_at: datetime
    created_by: str = Field(max_length=100)
    verified: bool = False
    version: int = 1  # schema 2: optimistic concurrency, as on blueprints
    # Schema 5 (issue 17): a paused webhook queues nothing (the outbox skips it).
    paused: bool = False
    # Health, kept by the dispatcher (store/dispatch.py) after every attempt of an event:
    consecutive_failures: int = 0  # attempts failed since the last success
    last_success_at: datetime | None = None
    first_failure_at: datetime | None = None  # the first failure since the last success
    exhausted_in_row: int = 0  # deliveries exhausted since the last delivered one
    # Set when the webhook was disabled automatically (410 Gone, 24 h of failures, 5
    # exhausted in a row): it queues nothing until enabled again. The reason is in words.
    disabled_at: datetime | None = None
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Schema 6: the key a rotation replaced, signing beside the new one until then.
    previous_key: str | None = Field(default=None, max_length=500)
    previous_key_until: datetime | None = None


class Delivery(SQLModel, table=True):
    """One attempt to deliver an event to a webhook (every attempt is kept)."""

    __tablename__ = "delivery"
    # Schema 3: the log's listing order, then every column its filter reads, so
    # that SQLite tests the filter on the index alone (store/migrations/versions/0003).
    __table_args__ = (
        Index(
            "ix_delivery_listed",
            "webhook_id",
            "attempted_at",
            "event_type",
            "callback_id",
            "status_code",
            "success",
            "error",
        ),
        # Schema 9: with the id, so that an event delivery's newest attempt is one
        # step of the index on PostgreSQL too (its ``max(id)`` otherwise walks the
        # primary key backwards, filtering: store/migrations/versions/0009).
        Index("ix_delivery_event_delivery_id", "event_delivery_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int | None = _fk("webhook.id", index=False)
    callback_id: str = Field(max_length=40, index=True)
    event_type: str = Field(max_length=60)
    url: str = Field(max_length=1000)
    attempted_at: datetime
    success: bool = False
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    request_headers: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    request_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    response_excerpt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    resend_of_id: int | None = None
    # Schema 5: the event delivery this is an attempt of (None: a Test, or a resend
    # of one), and its number among that delivery's attempts (1 = the first).
    event_delivery_id: int | None = None  # ix_delivery_event_delivery_id
    attempt: int | None = None


class Event(SQLModel, table=True):
    """Something that happened in the account (a contract signed, a value changed),
    written by the outbox (store/outbox.py) in the same transaction as the change
    that produced it. ``payload`` is JSON: what the event concerns, for the
    administrator (the body sent is built from ``type``, ``id`` and ``contract_id``)."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_account", "account_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id", index=False)
    # The integration whose change produced it (None: the platform itself, or deleted).
    integration_id: int | None = _fk("integration.id", ondelete="SET NULL", nullable=True)
    contract_id: int | None = _fk("contract.id", ondelete="SET NULL", nullable=True)
    type: str = Field(max_length=60)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    created_at: datetime


class EventDelivery(SQLModel, table=True):
    """One event to one subscribed webhook: the queue the dispatcher works from.

    ``state``: pending (never tried) | sending (claimed by a dispatcher until
    ``lease_until``) | delivered | retrying (failed, next try at
    ``next_attempt_at``) | exhausted (10 attempts failed) | cancelled (its webhook
    or integration stopped before it was delivered). The callback id is this
    row's: one per event and webhook, the same on every attempt and replay, so a
    receiver can deduplicate. Each attempt is a ``Delivery`` row pointing here.

    Due work is ``state IN (pending, retrying, sending)`` with ``next_attempt_at``
    passed: while sending, ``next_attempt_at`` equals ``lease_until``, so a claim
    whose dispatcher died comes back by itself, through the same index.
    """

    __tablename__ = "event_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id"),
        Index("ix_event_delivery_due", "state", "next_attempt_at"),
        Index("ix_event_delivery_webhook", "webhook_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    event_id: int | None = _fk("event.id", index=False)  # the unique key leads with it
    webhook_id: int | None = _fk("webhook.id", index=False)  # ix_event_delivery_webhook
    account_id: int | None = _fk("account.id")
    callback_id: str = Field(max_length=40, unique=True)
    event_type: str = Field(max_length=60)
    state: str = Field(default="pending", max_length=20)
    attempts: int = 0
    created_at: datetime
    next_attempt_at: datetime | None = None  # None once delivered, exhausted or cancelled
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = None


class Dispatcher(SQLModel, table=True):
    """A running dispatcher's heartbeat (``last_seen_at`` renewed every few
    seconds; the row is deleted on a clean stop), so that screens can say when
    none has been seen for a minute while deliveries wait."""

    __tablename__ = "dispatcher"
    id: str = Field(primary_key=True, max_length=200)  # host:pid:random
    host: str = Field(max_length=200)
    pid: int
    started_at: datetime
    last_seen_at: datetime


class Playbook(SQLModel, table=True):
    __tablename__ = "playbook"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id")
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime
    created_by: str = Field(max_length=100)
    version: int = 1  # schema 2: optimistic concurrency, as on blueprints


class DataField(SQLModel, table=True):
    __tablename__ = "data_field"
    __table_args__ = (UniqueConstraint("playbook_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    playbook_id: int | None = _fk("playbook.id")
    name: str = Field(max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    default_value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    position: int = 0
    created_at: datetime
    version: int = 1


class PlaybookBlueprint(SQLModel, table=True):
    """A blueprint connected to a playbook. RESTRICT: a connected blueprint
    cannot be deleted (the store refuses first, naming the playbooks)."""

    __tablename__ = "playbook_blueprint"
    __table_args__ = (UniqueConstraint("playbook_id", "blueprint_id"),)
    id: int | None = Field(default=None, primary_key=True)
    playbook_id: int | None = _fk("playbook.id")
    blueprint_id: int | None = _fk("blueprint.id", ondelete="RESTRICT")
    connected_at: datetime


class Mapping(SQLModel, table=True):
    """A blueprint field flowing into a data field of a playbook."""

    __tablename__ = "mapping"
    __table_args__ = (UniqueConstraint("playbook_id", "blueprint_field_id"),)
    id: int | None = Field(default=None, primary_key=True)
    playbook_id: int | None = _fk("playbook.id")
    blueprint_field_id: int | None = _fk("blueprint_field.id")
    data_field_id: int | None = _fk("data_field.id")


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_account_time", "account_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id", index=False)
    at: datetime
    actor: str = Field(max_length=100)
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=40)
    object_id: int | None = None
    object_name: str = Field(default="", max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Contract(SQLModel, table=True):
    """A contract made from a playbook by an integration (schema 4).

    ``playbook_name`` keeps the playbook's name as it was, so a contract whose
    playbook was deleted still says where it came from (``playbook_id`` NULL)."""

    __tablename__ = "contract"
    __table_args__ = (Index("ix_contract_account", "account_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id", index=False)
    integration_id: int | None = _fk("integration.id", ondelete="SET NULL", nullable=True)
    playbook_id: int | None = _fk("playbook.id", ondelete="SET NULL", nullable=True)
    playbook_name: str = Field(max_length=100)
    name: str = Field(max_length=200)
    state: str = Field(max_length=20)  # draft | published | signed | declined
    created_at: datetime
    created_by: str = Field(max_length=100)
    updated_at: datetime
    version: int = 1


class ContractValue(SQLModel, table=True):
    """One data field's value on a contract, and where it came from: a blueprint
    field of an integration (``source_field_id``), or the data field's default."""

    __tablename__ = "contract_value"
    __table_args__ = (UniqueConstraint("contract_id", "data_field_id"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: int | None = _fk("contract.id", index=False)  # the unique key leads with it
    data_field_id: int | None = _fk("data_field.id", ondelete="SET NULL", nullable=True)
    data_field_name: str = Field(max_length=100)
    position: int = 0
    value: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source_integration_id: int | None = _fk(
        "integration.id", ondelete="SET NULL", nullable=True, index=False
    )
    source_field_id: int | None = _fk(
        "blueprint_field.id", ondelete="SET NULL", nullable=True, index=False
    )
    # "Custom integration / Order data / Amount", or "default": as it was when written.
    source: str = Field(default="default", max_length=400)
    updated_at: datetime


class ApiRequest(SQLModel, table=True):
    """One request to the integration API by a known token: never a body or a token."""

    __tablename__ = "api_request"
    __table_args__ = (
        Index("ix_api_request_listed", "integration_id", "at"),
        Index("ix_api_request_token_time", "token_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    account_id: int | None = _fk("account.id")
    integration_id: int | None = _fk("integration.id", index=False)
    token_id: int | None = _fk("api_token.id", index=False)
    token_hint: str = Field(max_length=40)
    at: datetime
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    status: int
    latency_ms: float


class ApiRateWindow(SQLModel, table=True):
    """Requests of a token in one rate-limit window (Unix seconds of its start),
    counted in the database so that every API process shares the count."""

    __tablename__ = "api_rate_window"
    token_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True),
    )
    window_start: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    count: int = 0
