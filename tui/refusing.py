"""Refusals known before asking, and a footer that tells the truth.

A screen (or a tab, a dialog) whose keys the store may refuse says why in
``refusal(action)``: the store's own words (``store.refusals``,
``catalog.playbooks_refusal``, ``marketplace.plan_refusal``...), asked with
what the screen already loaded, no store round trip. From that one answer:

- the footer (Textual's ``check_action``): a key refused for good here (no
  permission, a native integration's read-only tab) is hidden; a key refused
  for now (a full limit, the plan, this row) is dimmed;
- a press of such a key (a key, a footer click, the command palette: all go
  through ``App.run_action``) says the refusal at once and opens nothing;
- an action method asks ``refused(action)`` first; a refusal by who acts is
  checked again in a worker (an owner may have granted the permission
  meanwhile), and the action runs then if it may.

The store refuses too (it is the authority: two administrators race); the
screen only asks earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from store import catalog, refusals

if TYPE_CHECKING:
    from tui.app import IntegrationsAdmin


@dataclass(frozen=True)
class Refusal:
    """Why a key cannot work now: ``words`` (the store's; "" rings the bell:
    nothing to say, e.g. no row to act on), the notice's ``title``, and
    whether the key is ``hidden`` (it can never work for this user here) or
    dimmed (a change of state could allow it)."""

    words: str
    title: str = "Not possible"
    hidden: bool = False


def read_only(words: str | None) -> Refusal | None:
    """A refusal for good here: the key is hidden (a native integration's
    read-only object, a managed webhook)."""
    return Refusal(words, "Read-only", hidden=True) if words else None


def for_now(words: str | None, title: str = "Not possible") -> Refusal | None:
    """A refusal a change of state could lift: the key is dimmed."""
    return Refusal(words, title) if words else None


def limit(words: str | None) -> Refusal | None:
    """A full limit (``refusals.limit_refusal``'s words): dimmed."""
    return Refusal(words, "Limit reached") if words else None


def plan(words: str | None) -> Refusal | None:
    """The plan does not include it (the operator may change the plan): dimmed."""
    return Refusal(words, "Plan required") if words else None


NOTHING_SELECTED = Refusal("")  # dimmed, and a press rings the bell


def first(*found: Refusal | None) -> Refusal | None:
    """The first refusal, in the order the store checks them."""
    return next((r for r in found if r is not None), None)


class Refuses:
    """Mixed into a screen, tab or dialog: its ``refusal`` drives its keys
    (see the module's docstring). Put it before the Textual class in the bases."""

    def refusal(self, action: str) -> Refusal | None:
        """Why ``action`` (a binding's action name, without parameters) cannot
        run now, from what is on screen; None when it may. No store call here:
        the footer asks it each time it draws."""
        return None

    def refusal_now(self, action: str) -> Refusal | None:
        """``refusal`` on a press, where words may need a store read (the
        playbooks a blueprint is connected to); by default ``refusal``."""
        return self.refusal(action)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        found = self.refusal(action)
        if found is not None:
            return False if found.hidden else None
        return super().check_action(action, parameters)  # type: ignore[misc]

    @property
    def admin(self) -> IntegrationsAdmin:
        return cast("IntegrationsAdmin", self.app)  # type: ignore[attr-defined]

    def on_data_table_row_highlighted(self) -> None:
        # A refusal may depend on the row (this blueprint is connected, this
        # user is you): the footer follows the cursor.
        self.refresh_bindings()  # type: ignore[attr-defined]

    def refused(self, action: str) -> bool:
        """Before a form or confirmation opens: say the refusal at once if there
        is one. True when refused (open nothing). No store call on the UI
        thread: a refusal for good here (``hidden``: who acts lacks the
        permission, or is not an owner) may be out of date (an owner granted it
        meanwhile), so who acts is read again in a worker first, and the action
        runs again if it is allowed now; otherwise the refusal is said then."""
        admin = self.admin
        found = self.refusal_now(action)
        if found is None:
            return False
        if not found.hidden or not admin.store_is_open:
            self._say(found)
            return True
        from store import accounts
        from tui.reading import read_then

        def fresh(actor: object) -> None:
            changed = actor != admin.actor
            admin.actor = actor  # type: ignore[assignment]
            if changed:
                self.refresh_bindings()  # type: ignore[attr-defined]
            now = self.refusal_now(action)
            if now is None and hasattr(self, f"action_{action}"):
                # Allowed now: the action again, through App.run_action as a key.
                admin.call_later(admin.run_action, action, self)
            elif now is not None:
                self._say(now)

        read_then(
            self,  # type: ignore[arg-type]
            accounts.refresh_actor,
            admin.store,
            admin.actor,
            on_done=fresh,
        )
        return True

    def _say(self, found: Refusal) -> None:
        admin = self.admin
        if found.words:
            admin.notify(found.words, title=found.title, severity="warning", timeout=8)
        else:
            admin.bell()


# -- the refusals screens share --------------------------------------------------


def permission(admin: IntegrationsAdmin, doing: str) -> Refusal | None:
    """The acting user lacks *Manage add-ons and integrations*: hidden."""
    words = refusals.manage_refusal(admin.actor, doing)
    return Refusal(words, "Read-only", hidden=True) if words else None


def owner(admin: IntegrationsAdmin, doing: str) -> Refusal | None:
    """Only an owner manages users: hidden for the others."""
    words = refusals.owner_refusal(admin.actor, doing)
    return Refusal(words, "Read-only", hidden=True) if words else None


def playbooks_plan(admin: IntegrationsAdmin, doing: str) -> Refusal | None:
    """Playbooks are created and changed on a paid plan (the plan the header
    shows, read each time a screen is shown): dimmed."""
    account_plan = admin.account_plan
    return plan(catalog.playbooks_refusal(account_plan, doing) if account_plan else None)


def suspended(words: str) -> Refusal | None:
    """The plan suspends the integration (``IntegrationInfo.suspended``, the
    store's words; "" when it runs): dimmed."""
    return plan(words or None)
