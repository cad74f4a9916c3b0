"""The keys in force: the user's keymap, and the key a binding has now.

Every binding has an id (``go.marketplace``, ``blueprints.new``, ...) and the
user may give it other keys under ``[keymap]`` in the settings file
(``tui.config``: ``$XDG_CONFIG_HOME/integrations-admin/config.toml``, by
default ``~/.config/integrations-admin/`` on Linux; the older ``keymap.toml``
beside it is still read). Whatever names a key to the user
(footer, help, empty states, hints) asks ``key_for`` rather than writing the
default key, so it names the key in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.keys import format_key, key_to_character

from tui.config import shown_path as shown_path  # re-exported: the help names the file
from tui.textual_compat import bindings_of, keymap

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

APP_NAME = "integrations-admin"
KEYMAP_NAME = "keymap.toml"


def keymap_path() -> Path:
    """Where keymap.toml lives, the keymap of before the settings file (still
    read; read at each start, so XDG_CONFIG_HOME counts)."""
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / KEYMAP_NAME


def load_keymap(path: Path) -> tuple[dict[str, str], list[str]]:
    """The keymap in ``path`` (binding id -> keys) and what is wrong with it.

    Ids may be quoted (``"go.marketplace" = "M"``) or not (``go.marketplace =
    "M"``, a TOML table). A missing file is an empty keymap. Bad TOML, or an
    entry whose value is not a key string, is reported (and that entry
    skipped), never silently ignored.
    """
    from tui import config

    return config.load_keymap(path)


def unknown_ids(keymap: Iterable[str], known: set[str]) -> list[str]:
    """The keymap's binding ids that no binding of the program has."""
    return sorted(set(keymap) - known)


def all_binding_ids() -> set[str]:
    """Every binding id of the program and of Textual's widgets (imports every
    screen: call it away from the first paint)."""
    return {b.id for _cls, b in _every_binding() if b.id}


@dataclass(frozen=True)
class BindingRow:
    """One line of ``integrations-admin keys``."""

    binding_id: str
    keys: str  # the keys in force, as prose names them ("M, shift+m")
    does: str
    where: str  # the class that declares it
    remapped: bool


def binding_table(user_keymap: Mapping[str, str]) -> list[BindingRow]:
    """Every binding id of the program (ids with a dot: Textual's own widgets'
    ids have none), its keys in force with ``user_keymap`` applied, and what it
    does, sorted by id. A binding id declared by several classes (``screen.back``
    of every screen) is one row: the first declaration's words."""
    rows: dict[str, BindingRow] = {}
    declared: dict[str, list[str]] = {}
    for cls, b in _every_binding():
        if not b.id or "." not in b.id or not cls.__module__.startswith("tui."):
            continue
        declared.setdefault(b.id, [])
        if b.key not in declared[b.id]:
            declared[b.id].append(b.key)
        if b.id not in rows:
            rows[b.id] = BindingRow(b.id, "", _does(b), cls.__name__, False)
    table: list[BindingRow] = []
    for binding_id in sorted(rows):
        row = rows[binding_id]
        remapped = user_keymap.get(binding_id)
        names = remapped.split(",") if remapped else ",".join(declared[binding_id]).split(",")
        keys = ", ".join(say_key(k.strip()) for k in names if k.strip())
        table.append(BindingRow(row.binding_id, keys, row.does, row.where, remapped=bool(remapped)))
    return table


def _does(b: Binding) -> str:
    """What a binding does, in words: its tooltip, else its footer description,
    else its action."""
    return b.tooltip or b.description or b.action.replace("_", " ")


def _every_binding() -> Iterable[tuple[type, Binding]]:
    """(class, binding) for every class of the program and of Textual's widgets
    (imports every screen)."""
    import pkgutil
    from importlib import import_module

    import tui

    for mod in pkgutil.walk_packages(tui.__path__, "tui."):
        if mod.name.rsplit(".", 1)[-1] in {"cli", "screenshots", "demo"}:
            continue  # entry points, not screens
        import_module(mod.name)
    todo: list[type] = [DOMNode]
    seen: set[type] = set()
    while todo:
        cls = todo.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(sorted(cls.__subclasses__(), key=lambda c: (c.__module__, c.__qualname__)))
        for binding in bindings_of(cls):
            yield cls, binding


# -- the key in force ------------------------------------------------------------


def say_key(key: str, *, short: bool = False) -> str:
    """A key as prose names it: ``M``, ``ctrl+n``, ``?``, ``enter``, ``/``
    (``short``: ``esc`` for escape, as buttons say it)."""
    *modifiers, name = key.split("+")
    if short and name == "escape":
        return "+".join([*modifiers, "esc"])
    char = key_to_character(name)
    if char is not None and char.isprintable() and not char.isspace():
        name = char
    elif name not in {"enter", "escape", "tab", "space", "backspace", "delete"}:
        name = format_key(name)
    return "+".join([*modifiers, name])


def _bindings_of(where: DOMNode | type[DOMNode]) -> Iterable[Binding]:
    nodes: Iterable = [where] if isinstance(where, type) else where.ancestors_with_self
    for node in nodes:
        yield from bindings_of(node)


def keys_for(
    app: App, where: DOMNode | type[DOMNode] | None, binding_id: str, *, default: str = ""
) -> list[str]:
    """The keys (Textual's names) that run binding ``binding_id`` now: the user's
    keymap if it names the id, else the binding's own. ``where`` is the node that
    has the binding (or one of its descendants), or its class; or None with the
    binding's ``default`` key, where importing the class would slow the first paint."""
    remapped = keymap(app).get(binding_id)  # set_keymap keeps it normalised
    if remapped:
        return [k.strip() for k in remapped.split(",") if k.strip()]
    if where is None:
        return [default] if default else []
    return [b.key for b in _bindings_of(where) if b.id == binding_id]


def key_for(
    app: App,
    where: DOMNode | type[DOMNode] | None,
    binding_id: str,
    *,
    default: str = "",
    short: bool = False,
) -> str:
    """The key in force for ``binding_id``, as prose names it (``press M``).
    ``?`` when no binding has that id (a slip in the program, shown not hidden)."""
    keys = keys_for(app, where, binding_id, default=default)
    return say_key(keys[0], short=short) if keys else "?"


def tab_key(app: App, n: int) -> str:
    """The key in force for the ``n``-th tab of a screen with tabs."""
    from tui.screens.tabs import TabbedScreen

    return key_for(app, TabbedScreen, f"tabs.{n}")


def ordered_bindings(screen: Screen) -> list[ActiveBinding]:
    """The screen's active bindings in the order they are declared: the focused
    widget's first, then its containers', the screen's, the app's.

    Textual's ``active_bindings`` moves a remapped key to the end of its node's
    keys (the keymap re-adds it), so a remapped section key fell off the end of
    the footer; the declared order keeps every key where it belongs.
    """
    active = list(screen.active_bindings.values())
    rank: dict[int, dict[str, int]] = {}

    def position(ab: ActiveBinding) -> tuple[int, int]:
        node = ab.node
        order = rank.get(id(node))
        if order is None:
            order = {}
            for i, b in enumerate(bindings_of(node)):
                order.setdefault(b.id or f"{b.action}\0{b.key}", i)
            rank[id(node)] = order
        b = ab.binding
        index = order.get(b.id or f"{b.action}\0{b.key}", len(order))
        depth = sum(1 for _ in node.ancestors)
        return (-depth, index)

    return sorted(active, key=position)
