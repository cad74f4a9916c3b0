"""The packages' import graph: store/ knows neither the screens nor SQL's
callers, tui/ and api/ reach the database only through store/ (api/ and its
web framework stay out of store/ and tui/), and no module-level
import goes round in a circle (a circle makes the import order decide what a
module sees). Imports under ``if TYPE_CHECKING:`` are not imports at run time.

Imports inside functions are deliberately deferred (start-up speed) and are not
counted here; the circle they still make between store.deliveries and
store.webhooks is issue 14's to remove."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("store", "tui", "api")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts:
                continue
            name = ".".join(rel.parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _module_level_imports(name: str, path: Path) -> set[str]:
    """Every module named by an import that runs when ``name`` is imported."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If | ast.Try | ast.With):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {
        name: {m for m in _module_level_imports(name, path) if m in mods and m != name}
        for name, path in mods.items()
    }


def circles(graph: dict[str, set[str]]) -> list[str]:
    """Every circle a depth-first walk of ``graph`` meets, as ``a -> b -> a``."""
    found: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                found.append(" -> ".join([*path[path.index(dep) :], dep]))
            elif dep not in state:
                walk(dep, [*path, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    return found


def test_no_module_level_import_circle() -> None:
    assert circles(_graph()) == []


def test_a_circle_is_found() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a -> b -> c -> a"]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_is_read_at_all() -> None:
    # A check that reads nothing would pass: the known edges must be there.
    graph = _graph()
    assert "store.db" in graph["store.blueprints"]
    assert "tui.widgets.filter_table" in graph["tui.screens.integrations"]
    assert "store.textmatch" not in graph["tui.app"]
    assert "store.apiaccess" in graph["api.gate"]


def test_store_imports_no_screen_and_tui_no_sql() -> None:
    mods = _modules()
    bad: list[str] = []
    for name, path in mods.items():
        # Every import, deferred ones included: the rule is about the layers.
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for imported in names:
                top = imported.split(".")[0]
                web = {"fastapi", "starlette", "uvicorn"}
                if name.startswith("store") and top in {"textual", "tui", "api", *web}:
                    bad.append(f"{name} imports {imported}")
                if name.startswith(("tui", "api")) and top in {"sqlalchemy", "sqlmodel"}:
                    bad.append(f"{name} imports {imported}")
                if name.startswith("tui") and top in web:
                    bad.append(f"{name} imports {imported}")
                if name.startswith("api") and top in {"textual", "tui"}:
                    bad.append(f"{name} imports {imported}")
    assert bad == []
