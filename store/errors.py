"""One hierarchy of domain errors, each with a message for the administrator.

A call that raises one of these has changed nothing.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the store makes."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """Bad input; ``field`` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Invalid(ValidationError):
    """Several problems found at once (a contract's values): ``problems`` lists
    each as (field, message); ``field`` and the message are the first one's,
    and ``str()`` says them all."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems[0][0], problems[0][1])
        self.problems = tuple(problems)
        self.message = " ".join(m for _, m in problems)


class LimitReached(DomainError):
    def __init__(self, what: str, limit: int, message: str | None = None) -> None:
        super().__init__(message or f"{what}: the limit of {limit} is reached.")
        self.what = what
        self.limit = limit


class PermissionDenied(DomainError):
    pass


class PlanRequired(DomainError):
    def __init__(self, plan: str, message: str) -> None:
        super().__init__(message)
        self.plan = plan


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The object changed or is in use; the message says how."""


class UnknownUser(DomainError):
    pass


class StoreUnavailable(DomainError):
    """The database cannot be reached or written (server down, read-only, disk full)."""


class Unreachable(StoreUnavailable):
    """The database server cannot be reached now (down, or the network away):
    the same call may succeed a moment later. ``where``: the server (host:port)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where


class GaveUp(DomainError):
    """The administrator gave up waiting (for another administrator's change to
    finish); nothing was saved."""


class NoDatabase(StoreUnavailable):
    """A command that needs an existing database was pointed at a SQLite file that
    does not exist (nothing was created)."""


class DatabaseDamaged(StoreUnavailable):
    """The file is not a SQLite database, is truncated or damaged, or carries a
    schema version that is not a number; the message names the file."""


class SchemaTooNew(DomainError):
    pass


class DeliveryFailed(DomainError):
    pass


class TokenRefused(DomainError):
    """``verify`` refused a token; ``reason`` is one of TokenRefused.REASONS.

    The message names the reason, never the token itself.
    """

    REASONS = ("malformed", "unknown", "revoked", "expired", "rotated", "paused", "suspended")

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        # The token's tokens.ApiCaller when it is known (revoked, expired, paused,
        # suspended): the API logs the refused request under its integration.
        self.caller: object | None = None


class RateLimited(DomainError):
    """A token made more requests in the current window than the rate limit
    allows; ``retry_after`` is the seconds until the window ends."""

    def __init__(self, message: str, retry_after: int, caller: object | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.caller = caller
