"""The Marketplace catalog, as data: extensions, the plan each needs, and the
default blueprint fields and managed webhooks of the native integrations."""

from __future__ import annotations

from dataclasses import dataclass

PLANS: tuple[str, ...] = ("Free", "Essentials", "Business", "Enterprise")
CUSTOM_KEY = "custom"


def plan_rank(plan: str) -> int:
    """0 for Free up to 3 for Enterprise; an unknown plan is refused in words."""
    if plan not in PLANS:
        from .errors import ValidationError

        shown = plan if isinstance(plan, str) else type(plan).__name__
        raise ValidationError("plan", f"Unknown plan {shown!r}; choose one of {', '.join(PLANS)}.")
    return PLANS.index(plan)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    description: str
    mapping_required: bool = False


@dataclass(frozen=True)
class Extension:
    key: str
    name: str
    category: str
    description: str
    plan: str  # the lowest plan that includes it
    native: bool
    fields: tuple[FieldSpec, ...] = ()
    webhook_events: tuple[str, ...] = ()  # managed webhook of a native integration

    @property
    def blueprint_name(self) -> str:
        return f"{self.name} fields"


def _f(name: str, description: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, description, required)


_CRM_DEAL_EVENTS = ("contract:publish", "contract:sign", "contract:decline", "data_field:update")

EXTENSIONS: tuple[Extension, ...] = (
    Extension(
        "salesforce",
        "Salesforce",
        "Sales and CRM",
        "Create contracts from opportunities and sync signed values back to Salesforce.",
        "Essentials",
        True,
        (
            _f("Opportunity ID", "The Salesforce opportunity the contract belongs to", True),
            _f("Opportunity name", "Name of the opportunity"),
            _f("Account name", "The customer's account in Salesforce", True),
            _f("Amount", "Opportunity amount"),
            _f("Close date", "Expected close date"),
            _f("Owner email", "Email of the opportunity owner"),
            _f("Stage", "Opportunity stage"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "hubspot",
        "HubSpot",
        "Sales and CRM",
        "Send contracts from HubSpot deals and keep deal properties in sync.",
        "Essentials",
        True,
        (
            _f("Deal ID", "The HubSpot deal record", True),
            _f("Deal name", "Name of the deal"),
            _f("Company name", "Associated company", True),
            _f("Deal amount", "Amount of the deal"),
            _f("Contact email", "Primary contact's email"),
            _f("Pipeline stage", "Stage of the deal in its pipeline"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "dynamics365",
        "Microsoft Dynamics 365",
        "Sales and CRM",
        "Generate contracts from Dynamics 365 opportunities and accounts.",
        "Essentials",
        True,
        (
            _f("Opportunity ID", "Dynamics 365 opportunity GUID", True),
            _f("Account name", "Customer account", True),
            _f("Estimated revenue", "Estimated revenue of the opportunity"),
            _f("Primary contact", "Primary contact's full name"),
            _f("Currency", "Transaction currency"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "pipedrive",
        "Pipedrive",
        "Sales and CRM",
        "Create contracts from Pipedrive deals; signed contracts move the deal forward.",
        "Essentials",
        True,
        (
            _f("Deal ID", "The Pipedrive deal", True),
            _f("Deal title", "Title of the deal"),
            _f("Organization", "The deal's organization", True),
            _f("Value", "Deal value"),
            _f("Person email", "Contact person's email"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "upsales",
        "Upsales",
        "Sales and CRM",
        "Send contracts from Upsales opportunities and orders.",
        "Essentials",
        True,
        (
            _f("Order ID", "The Upsales order", True),
            _f("Client name", "The client company", True),
            _f("Order value", "Value of the order"),
            _f("Salesperson", "Responsible salesperson"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "lime",
        "Lime CRM",
        "Sales and CRM",
        "Create and follow contracts from Lime CRM deals.",
        "Essentials",
        True,
        (
            _f("Deal ID", "The Lime CRM deal", True),
            _f("Company", "The customer company", True),
            _f("Deal value", "Value of the deal"),
            _f("Coworker", "Responsible coworker"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "membrain",
        "Membrain",
        "Sales and CRM",
        "Send contracts from Membrain sales projects.",
        "Essentials",
        True,
        (
            _f("Sales project ID", "The Membrain sales project", True),
            _f("Customer", "The customer company", True),
            _f("Project value", "Value of the sales project"),
            _f("Owner", "Project owner"),
        ),
        _CRM_DEAL_EVENTS,
    ),
    Extension(
        "slack",
        "Slack",
        "Communication",
        "Notify Slack channels when contracts are signed, declined or expire.",
        "Essentials",
        True,
        (
            _f("Channel", "Slack channel that receives notifications", True),
            _f("Mention", "User or group to mention"),
        ),
        ("contract:sign", "contract:decline", "contract:signing_period_expire"),
    ),
    Extension(
        "zapier",
        "Zapier",
        "Workflow",
        "Trigger Zaps on contract events and create contracts from thousands of apps.",
        "Essentials",
        True,
        (
            _f("Zap ID", "The Zap that uses the contract", True),
            _f("Trigger data", "Data passed in by the trigger"),
        ),
        ("contract:publish", "contract:sign", "participant:sign"),
    ),
    Extension(
        "power_automate",
        "Power Automate",
        "Workflow",
        "Build Microsoft Power Automate flows on contract events.",
        "Essentials",
        True,
        (
            _f("Flow ID", "The Power Automate flow", True),
            _f("Environment", "Power Platform environment"),
        ),
        ("contract:publish", "contract:sign", "participant:sign"),
    ),
    Extension(
        CUSTOM_KEY,
        "Custom integration",
        "Developer",
        "Connect your own systems: create blueprints, generate API tokens and webhooks.",
        "Business",
        False,
    ),
)

_BY_KEY = {e.key: e for e in EXTENSIONS}


def extension(key: str) -> Extension:
    return _BY_KEY[key]


def has_extension(key: str) -> bool:
    return key in _BY_KEY


def managed_webhook_url(key: str) -> str:
    return f"https://hooks.integrations.example/{key}/events"


# -- what a plan includes ----------------------------------------------------------

PLAYBOOKS_PLAN = "Essentials"
"""The lowest plan that includes playbooks (every paid plan)."""


def plan_refusal(ext: Extension, account_plan: str) -> str | None:
    """Why the plan does not allow ``ext``, or None when it does."""
    if plan_rank(account_plan) >= plan_rank(ext.plan):
        return None
    return (
        f"{ext.name} needs the {ext.plan} plan or higher; this account is on {account_plan}. "
        "Ask your operator to change the plan."
    )


def suspended_by_plan(key: str, account_plan: str) -> str | None:
    """Why an integration is *suspended by plan* on ``account_plan``, or None
    when the plan includes its extension.

    The platform's rule for a downgrade: what the plan does not include stops
    working exactly as if it were disabled (its API tokens do not verify, its
    webhooks do not send, nothing can be changed under it), nothing is deleted,
    and a plan that includes it again restores everything as it was. It is
    computed from the plan, never stored: every check (store and screens) asks
    this one function.
    """
    ext = extension(key)
    if plan_rank(account_plan) >= plan_rank(ext.plan):
        return None
    return (
        f"{ext.name} is suspended: it needs the {ext.plan} plan or higher and this account "
        f"is on {account_plan}. Nothing was deleted; it works again as it was when the plan "
        "is upgraded (ask your operator)."
    )


def suspension_label(key: str) -> str:
    """A suspension in a few words, for a list's status cell."""
    return f"Suspended: needs {extension(key).plan}"


def playbooks_plan_note(account_plan: str) -> str | None:
    """That ``account_plan`` does not include playbooks, as a list of them says
    it (``playbooks_refusal`` says it of one change); None when it does."""
    if plan_rank(account_plan) >= plan_rank(PLAYBOOKS_PLAN):
        return None
    return (
        f"Playbooks need the {PLAYBOOKS_PLAN} plan or higher; this account is on "
        f"{account_plan}. Ask your operator to change the plan."
    )


def playbooks_refusal(account_plan: str, doing: str) -> str | None:
    """Why ``doing`` (something with playbooks) is refused on ``account_plan``, or None."""
    note = playbooks_plan_note(account_plan)
    if note is None:
        return None
    return f"You cannot {doing}: {note[:1].lower()}{note[1:]}"
