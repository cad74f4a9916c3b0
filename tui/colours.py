"""The colours of what screens say (complete, missing, failed, a revealed key),
from the theme in force.

Rich ``Text`` in a DataTable cell or a Static is drawn with the colour it was
given: a name like ``"green"`` stays the terminal's green whatever the theme,
pale on a light background. So the program never names a colour; it names a
role, and the role's colour is the theme's text variable for it
(``$text-success``, ``$text-error``, ``$text-warning``: Textual makes them
readable on that theme's background). The App sets them when the theme
changes (``use``) and the screen in view is drawn again; ``NO_COLOR`` is
Textual's to honour (it drops every colour, bold stays).
"""

from __future__ import annotations

from collections.abc import Mapping

# role -> the theme variable that colours it
ROLES: dict[str, str] = {
    "good": "text-success",  # complete, active, verified, delivered
    "bad": "text-error",  # missing, failed, revoked
    "warn": "text-warning",  # suspended, expired, testing…, limit reached
    "secret": "text-warning",  # a signing key shown on screen: hard to overlook
}

# textual-dark's values, until the App says which theme is in force.
_colour: dict[str, str] = {
    "good": "#8AD4A1",
    "bad": "#D17E92",
    "warn": "#FFC473",
    "secret": "#FFC473",
}


def use(variables: Mapping[str, str]) -> None:
    """Take the colours of a theme (``App.theme_variables``)."""
    for role, name in ROLES.items():
        value = variables.get(name)
        if value:
            _colour[role] = value


def style(role: str, *attributes: str) -> str:
    """A Rich style: the role's colour and ``attributes`` (``"bold"``)."""
    return " ".join([*attributes, _colour[role]])
