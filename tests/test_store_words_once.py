"""A rule and its words live once, in store/: no message of the store is written
again in tui/ (a screen shows the store's words, it does not copy them, or the
copies drift). Read from the sources with ``ast``: the store's messages are its
string literals and the literal parts of its f-strings that read as sentences
(at least 20 characters, with punctuation or six words), and its named text
constants (``PERMISSION``, ``ALLOW_PRIVATE_LABEL``...; not the demo account's data); none
may appear inside a string literal of tui/."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_CHARS = 20
CONSTANT_MIN_CHARS = 16


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def literals(source: str) -> Iterator[tuple[str, int]]:
    """Every string literal of ``source`` (implicit concatenations joined, as
    Python joins them) and every literal part of its f-strings; no docstrings."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                skip.add(id(part))
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    yield part.value, node.lineno
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            yield node.value, node.lineno


def reads_as_a_message(text: str) -> bool:
    text = text.strip()
    if len(text) < MIN_CHARS or " " not in text:
        return False
    return bool(re.search(r"[.:;?!]", text)) or text.count(" ") >= 5


def named_constants(source: str) -> Iterator[str]:
    """Module-level text constants (``PERMISSION = "Manage add-ons and integrations"``)."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            named = isinstance(value, str) and any(n.isupper() for n in names)
            if named and len(value) >= CONSTANT_MIN_CHARS and " " in value:
                yield value


def store_messages(root: Path = ROOT) -> dict[str, str]:
    """The store's messages: text -> where it is written (module:line)."""
    found: dict[str, str] = {}
    for path in sorted((root / "store").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(root).as_posix()
        for text, line in literals(source):
            if reads_as_a_message(text):
                found.setdefault(text.strip(), f"{where}:{line}")
        if path.name == "demo.py":
            continue  # the demo account's data (its name...), not words of a rule
        for text in named_constants(source):
            found.setdefault(text.strip(), f"{where} (a constant: use its name)")
    return found


def copies_in_tui(root: Path = ROOT) -> list[str]:
    messages = store_messages(root)
    copies = []
    for path in sorted((root / "tui").rglob("*.py")):
        where = path.relative_to(root).as_posix()
        for text, line in literals(path.read_text(encoding="utf-8")):
            for message, origin in messages.items():
                if message in text:
                    copies.append(f"{where}:{line} copies {origin}: {message!r}")
    return copies


def test_no_store_message_is_written_in_tui() -> None:
    copies = copies_in_tui()
    assert not copies, "Show the store's words (a refusal function, a constant):\n" + "\n".join(
        copies
    )


def test_the_check_finds_a_copied_message(tmp_path: Path) -> None:
    """The check would fail: a tree whose screen copies a refusal of the store,
    its named constant, or a part of an f-string message, is caught each time."""
    (tmp_path / "store").mkdir()
    (tmp_path / "tui").mkdir()
    store_source = (ROOT / "store" / "refusals.py").read_text(encoding="utf-8")
    (tmp_path / "store" / "refusals.py").write_text(store_source, encoding="utf-8")
    screen = tmp_path / "tui" / "screen.py"
    for copied in (
        # refusals.manage_refusal's words, as a screen would have written them
        "f\"You cannot {doing}: it needs the permission '{PERM}'. Ask an owner of the account "
        'to grant it."',
        # the PERMISSION constant's text, written out
        '"Manage add-ons and integrations (space toggles)"',
        # user_remove_refusal, whole
        '"You cannot remove yourself: ask another owner, or use the command line."',
    ):
        screen.write_text(f"def say(doing):\n    return {copied}\n", encoding="utf-8")
        assert copies_in_tui(tmp_path), copied
    screen.write_text(
        "from store.refusals import manage_refusal\n\n"
        "def say(actor):\n    return manage_refusal(actor, 'create blueprints')\n",
        encoding="utf-8",
    )
    assert copies_in_tui(tmp_path) == []
