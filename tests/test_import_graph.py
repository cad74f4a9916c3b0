"""The packages' import graph: store/ knows neither the screens nor SQL's
callers, tui/ and api/ reach the database only through store/ (api/ and its
web framework stay out of store/ and tui/), no import goes round
in a circle (a circle makes the import order decide what a module sees), and
no module takes another's private (``_name``) names. Imports under
``if TYPE_CHECKING:`` are not imports at run time.

Between store modules, imports deferred into functions (start-up speed) count
too: a deferred circle is a circle that only waits for its first call. In tui/
screens import each other's screens on first use, so there only module-level
imports are counted."""

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


def _imports(name: str, path: Path, *, deferred: bool = False) -> set[str]:
    """Every module named by an import that runs when ``name`` is imported (with
    ``deferred``, also those inside its functions), ``if TYPE_CHECKING:`` left out."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def add(node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
            return
        base = _absolute(package, node)
        out.add(base)
        out.update(f"{base}.{a.name}" for a in node.names)

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                add(node)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if deferred:
                    visit(node.body)
            else:  # a class body runs at import; so do if/try/with/for blocks
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(node, field, []))
                for part in (*getattr(node, "handlers", []), *getattr(node, "cases", [])):
                    visit(part.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return out


def _absolute(package: str, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {
        name: {
            m
            for m in _imports(name, path, deferred=name.startswith("store"))
            if m in mods and m != name
        }
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


def test_no_import_circle() -> None:
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
    # store/: deferred imports count (validate imports db inside a function) ...
    assert "store.db" in graph["store.validate"]
    assert "store.guard" in graph["store.sending"]
    # ... tui/: they do not (the app imports the help screen when it is asked for)
    assert "tui.screens.help" not in graph["tui.app"]

    assert "store.apiaccess" in graph["api.gate"]


def test_deferred_imports_are_found_and_type_checking_ones_left_out() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from . import a\n"
        "if TYPE_CHECKING:\n"
        "    from . import b\n"
        "try:\n"
        "    import c\n"
        "except ImportError:\n"
        "    import d\n"
        "def f():\n"
        "    if True:\n"
        "        from .e import thing\n"
        "class K:\n"
        "    async def g(self):\n"
        "        from ..pkg2 import h\n"
    )
    path = ROOT / "tests" / "_import_graph_sample.py"
    try:
        path.write_text(source, encoding="utf-8")
        now = _imports("store.sample", path)
        later = _imports("store.sample", path, deferred=True)
    finally:
        path.unlink()
    assert {"store.a", "c", "d"} <= now
    assert not {"store.b", "store.e", "pkg2.h"} & now
    assert {"store.a", "c", "d", "store.e", "store.e.thing", "pkg2", "pkg2.h"} <= later
    assert "store.b" not in later


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


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_names_taken(name: str, path: Path, modules: set[str]) -> list[str]:
    """Private names of other project modules that ``name`` imports or reads as
    ``module._name`` (its own are its business; ``__version__`` style names are public)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    bound: dict[str, str] = {}  # a local name -> the project module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(package, node)
            if base.split(".")[0] not in PACKAGES or base == name:
                continue
            for a in node.names:
                if _private(a.name):
                    found.append(f"{name} imports {a.name} from {base}")
                elif f"{base}.{a.name}" in modules:
                    bound[a.asname or a.name] = f"{base}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES and a.asname:
                    bound[a.asname] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound
            and bound[node.value.id] != name
            and _private(node.attr)
        ):
            found.append(f"{name} reads {bound[node.value.id]}.{node.attr}")
    return found


def test_no_module_takes_another_modules_private_names() -> None:
    mods = _modules()
    taken = [t for name, path in mods.items() for t in private_names_taken(name, path, set(mods))]
    assert taken == []


def test_a_private_name_taken_is_found() -> None:
    source = (
        "from . import webhooks, __version__\n"
        "from .blueprints import _infos as infos, infos_where\n"
        "from store.webhooks import _custom_integration\n"
        "import store.guard as guard\n"
        "def f():\n"
        "    webhooks._events_of('*')\n"
        "    guard._cache.clear()\n"
        "    return webhooks.events_of('*'), _own()\n"
    )
    path = ROOT / "tests" / "_private_names_sample.py"
    try:
        path.write_text(source, encoding="utf-8")
        found = private_names_taken("store.sample", path, set(_modules()))
    finally:
        path.unlink()
    assert sorted(found) == [
        "store.sample imports _custom_integration from store.webhooks",
        "store.sample imports _infos from store.blueprints",
        "store.sample reads store.guard._cache",
        "store.sample reads store.webhooks._events_of",
    ]
