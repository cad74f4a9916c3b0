"""The settings file: theme, keys, profiles, presenter mode, diagnostics.

One TOML file in the user configuration folder (platformdirs, so
``XDG_CONFIG_HOME`` counts): ``~/.config/integrations-admin/config.toml`` on
Linux. Nothing in it is required and a missing file is fine. Every setting is
taken from, in this order: a command-line flag, an environment variable, the
file, the default; ``config show`` says which one each came from.

A program concern, not the domain's: nothing here imports Textual or
SQLAlchemy, so ``config`` answers fast and the first paint pays nothing. A
profile resolves to a database URL that ``store`` opens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

APP_NAME = "integrations-admin"
CONFIG_NAME = "config.toml"
OLD_KEYMAP_NAME = "keymap.toml"
ENV_DB = "INTEGRATIONS_ADMIN_DB"  # store.location.ENV_VAR, without importing store
ENV_PROFILE = "INTEGRATIONS_ADMIN_PROFILE"
ENV_THEME = "INTEGRATIONS_ADMIN_THEME"
ENV_DEBUG = "INTEGRATIONS_ADMIN_DEBUG"
DEFAULT_THEME = "textual-dark"  # Textual's own default

# The file's keys: name -> (type, what it is), for checking and for ``config show``.
TOP_LEVEL: dict[str, tuple[type, str]] = {
    "theme": (str, "colour theme (Textual's names: textual-dark, textual-light, nord, ...)"),
    "profile": (str, "the profile used when neither --profile nor $INTEGRATIONS_ADMIN_PROFILE"),
    "presenter": (bool, "presenter mode at start: the keys pressed, in a corner"),
    "debug": (bool, "write a diagnostic log (like --debug)"),
}
TABLES = ("keymap", "profiles")
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """The settings file (or a flag or variable) cannot be used; the message
    names the file and the line."""


@dataclass(frozen=True)
class Value:
    """A setting in force and where it came from (``--theme``,
    ``$INTEGRATIONS_ADMIN_THEME``, ``config.toml, line 3``, ``default``)."""

    value: object
    source: str


@dataclass(frozen=True)
class Flags:
    """What the command line said (None: not given)."""

    db: str | None = None
    profile: str | None = None
    theme: str | None = None
    debug: bool = False
    presenter: bool = False


@dataclass
class Settings:
    path: Path
    exists: bool
    theme: Value
    presenter: Value
    debug: Value
    profile: Value  # the profile's name, or None
    db: Value  # the database URL or SQLite path as given, or None: the default SQLite file
    keymap: dict[str, str] = field(default_factory=dict)
    keymap_sources: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)  # name -> db, as written
    # What is worth saying but stops nothing (keymap.toml to move, an unknown key).
    notices: list[str] = field(default_factory=list)


# -- where ------------------------------------------------------------------------


def config_dir() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def config_path() -> Path:
    """Where the settings file is (read at each start, so XDG_CONFIG_HOME counts)."""
    return config_dir() / CONFIG_NAME


def old_keymap_path() -> Path:
    """Where keymap.toml was kept before the settings file: still read."""
    return config_dir() / OLD_KEYMAP_NAME


def shown_path(path: Path) -> str:
    """The path as the user would type it: ``~/.config/...`` under the home folder."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):
        return str(path)


# -- reading ------------------------------------------------------------------------


def line_of(text: str, table: str, key: str) -> int | None:
    """The line (from 1) where ``key`` is set in ``[table]`` ("" for the top
    level) of the TOML ``text``, for messages; None when not found. tomllib
    keeps no positions; a key is found as a person wrote it: ``key =``,
    ``"key" =``, or ``table.key =`` at the top level."""
    current = ""
    names = {key, f'"{key}"', f"'{key}'"}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\s*([^\[\]]+?)\s*\]", line)
        if header:
            current = header.group(1).replace('"', "").replace("'", "")
            continue
        name = line.split("=", 1)[0].strip() if "=" in line else None
        if name is None:
            continue
        if current == table and name in names:
            return n
        dotted = name.replace('"', "").replace("'", "").replace(" ", "")
        full = f"{current}.{dotted}" if current else dotted
        if full == (f"{table}.{key}" if table else key):
            return n
    return None


def _table_line(path: Path, text: str, table: str) -> str:
    """``path, line N`` of the header ``[table]``."""
    for n, raw in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\[\s*([^\[\]]+?)\s*\]", raw.strip())
        if header and header.group(1).replace('"', "").replace("'", "") == table:
            return f"{shown_path(path)}, line {n}"
    return shown_path(path)


def _where(path: Path, text: str, table: str, key: str) -> str:
    n = line_of(text, table, key)
    return f"{shown_path(path)}, line {n}" if n else shown_path(path)


def read_file(path: Path) -> tuple[dict, str]:
    """The file's TOML as data and its text ({} and "" when there is none).
    Raises ConfigError for a file that cannot be read or is not TOML, naming
    the line (tomllib's own words: ``Expected '=' ... (at line 3, column 7)``)."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, ""
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown_path(path)} is not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise ConfigError(f"{shown_path(path)} cannot be read: {exc.strerror}.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown_path(path)} is not valid TOML: {exc}.") from None


def check_keymap(
    data: Mapping[str, object], where: str, text: str = "", path: Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """A keymap table (binding id -> keys) and what is wrong with it (that
    entry is skipped). Ids may be quoted (``"go.marketplace" = "M"``) or not
    (``go.marketplace = "M"``, a TOML table: the same id)."""
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in _flat(data):
        if not isinstance(keys, str) or not keys.strip() or any(c.isspace() for c in keys):
            n = line_of(text, where, binding_id) if text else None
            at = (
                f"{shown_path(path)}, line {n}"
                if (path and n)
                else (shown_path(path) if path else where)
            )
            problems.append(
                f'{binding_id!r} in {at}: the keys must be text such as "ctrl+n" or '
                f'"M,shift+m" (got {keys!r}); ignored.'
            )
            continue
        keymap[binding_id] = keys
    return keymap, problems


def load_keymap(path: Path) -> tuple[dict[str, str], list[str]]:
    """The keymap file ``path`` (keymap.toml: binding id -> keys, at the top
    level) and what is wrong with it. A missing file is an empty keymap; a file
    that is not TOML remaps nothing and says so."""
    try:
        data, text = read_file(path)
    except ConfigError as exc:
        return {}, [f"{shown_path(path)} was not read: {exc} No key was remapped."]
    return check_keymap(data, "", text, path)


def _flat(data: Mapping[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flat(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def interpolate(value: str, where: str, environ: Mapping[str, str]) -> str:
    """``${VAR}`` replaced by the environment's VAR (``$$`` is one ``$``). A
    variable that is not set is refused, naming it: an empty password would
    only fail later, with a vaguer message."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        if name not in environ:
            raise ConfigError(f"{where}: the environment variable {name} is not set (${{{name}}}).")
        return environ[name]

    return _VAR.sub(one, value)


def _bool_env(name: str, environ: Mapping[str, str]) -> bool | None:
    raw = environ.get(name)
    if raw is None:
        return None
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ConfigError(f"${name} is {raw!r}: use 1 or 0 (true or false).")


def load(
    flags: Flags | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """The settings in force: flags over environment over the file over the
    defaults. Raises ConfigError (with the file's line) for a file that is not
    TOML, a value of the wrong type, a profile that does not exist or a
    ``${VAR}`` that is not set; what stops nothing lands in ``notices``."""
    flags = flags or Flags()
    env = os.environ if environ is None else environ
    path = path or config_path()
    data, text = read_file(path)
    notices: list[str] = []
    shown = shown_path(path)

    def at(table: str, key: str) -> str:
        return _where(path, text, table, key)

    for key, value in data.items():
        if key in TOP_LEVEL:
            kind, _ = TOP_LEVEL[key]
            if not isinstance(value, kind):
                raise ConfigError(
                    f"{at('', key)}: {key} must be {'true or false' if kind is bool else 'text'} "
                    f"(got {value!r})."
                )
        elif key in TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{at('', key)}: {key} must be a table ([{key}]).")
        else:
            notices.append(
                f"{at('', key)}: {key!r} is not a setting (the settings are "
                f"{', '.join([*TOP_LEVEL, *TABLES])}); ignored."
            )

    # Profiles: [profiles.NAME] db = "..."
    profiles: dict[str, str] = {}
    for name, table in data.get("profiles", {}).items():
        if not isinstance(table, dict) or not isinstance(table.get("db"), str):
            where = (
                at(f"profiles.{name}", "db")
                if isinstance(table, dict) and "db" in table
                else at("profiles", name)
                if not isinstance(table, dict)
                else _table_line(path, text, f"profiles.{name}")
            )
            raise ConfigError(
                f'{where}: the profile {name!r} needs db = "a database URL or SQLite file".'
            )
        for extra in sorted(set(table) - {"db"}):
            notices.append(
                f"{at(f'profiles.{name}', extra)}: {extra!r} is not a profile setting (only db); "
                "ignored."
            )
        profiles[name] = table["db"]

    def pick(flag: object, env_name: str, key: str, default: object, *, boolean: bool = False):
        if flag not in (None, False):
            return Value(flag, f"--{key}")
        raw = _bool_env(env_name, env) if boolean else env.get(env_name) or None
        if raw is not None:
            return Value(raw, f"${env_name}")
        if key in data:
            return Value(data[key], at("", key))
        return Value(default, "default")

    theme = pick(flags.theme, ENV_THEME, "theme", DEFAULT_THEME)
    debug = pick(flags.debug, ENV_DEBUG, "debug", False, boolean=True)
    presenter = (
        Value(True, "--presenter")
        if flags.presenter
        else Value(data["presenter"], at("", "presenter"))
        if "presenter" in data
        else Value(False, "default")
    )

    # The database: --db, --profile, $INTEGRATIONS_ADMIN_DB, $INTEGRATIONS_ADMIN_PROFILE,
    # the file's profile, then the default SQLite file.
    if flags.db and flags.profile:
        raise ConfigError("--db and --profile both name a database: use one.")
    profile = Value(None, "default")
    db = Value(None, "default")
    if flags.db:
        db = Value(flags.db, "--db")
    elif flags.profile:
        profile = Value(flags.profile, "--profile")
    elif env.get(ENV_DB):
        db = Value(env[ENV_DB], f"${ENV_DB}")
    elif env.get(ENV_PROFILE):
        profile = Value(env[ENV_PROFILE], f"${ENV_PROFILE}")
    elif "profile" in data:
        profile = Value(data["profile"], at("", "profile"))
    if profile.value is not None:
        name = str(profile.value)
        if name not in profiles:
            known = ", ".join(sorted(profiles)) if profiles else "none yet"
            raise ConfigError(
                f"There is no profile {name!r} ({profile.source}); the profiles in "
                f"{shown} are: {known}. A profile is a table: [profiles.{name}] "
                'db = "postgresql+psycopg://..."'
            )
        where = at(f"profiles.{name}", "db")
        url = interpolate(profiles[name], where, env)
        db = Value(_profile_db(url, path.parent), f"profile {name!r} ({where})")

    # Keys: [keymap] in the file, and keymap.toml as before (the file's wins).
    keymap: dict[str, str] = {}
    sources: dict[str, str] = {}
    old = old_keymap_path() if path == config_path() else path.with_name(OLD_KEYMAP_NAME)
    moved: list[str] = []
    if old.is_file():
        old_map, problems = load_keymap(old)
        notices.extend(problems)
        keymap.update(old_map)
        sources.update(dict.fromkeys(old_map, shown_path(old)))
        moved.append(
            f"{old.name} is still read; move its lines under [keymap] in {path.name} (same folder)."
        )
    new_map, problems = check_keymap(data.get("keymap", {}), "keymap", text, path)
    notices.extend(problems)
    keymap.update(new_map)
    sources.update({k: at("keymap", k) for k in new_map})
    notices.extend(moved)  # after what is wrong, which matters more

    return Settings(
        path=path,
        exists=bool(text) or path.is_file(),
        theme=theme,
        presenter=presenter,
        debug=debug,
        profile=profile,
        db=db,
        keymap=keymap,
        keymap_sources=sources,
        profiles=profiles,
        notices=notices,
    )


def _profile_db(db: str, folder: Path) -> str:
    """A profile's SQLite path is relative to the settings file's folder (not to
    wherever the program was started); a URL is taken as it is."""
    if "://" in db:
        return db
    p = Path(db).expanduser()
    return str(p if p.is_absolute() else folder / p)


# -- writing ------------------------------------------------------------------------


def save_theme(name: str, path: Path | None = None) -> Path:
    """Write ``theme = NAME`` into the settings file, keeping everything else
    in it as written (comments, order, blank lines: tomlkit edits the document,
    it does not re-dump data). Creates the file (and its folder) when there is
    none. Raises ConfigError when the file cannot be read as TOML (it is then
    left as it is) or written."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{shown_path(path)} cannot be read: {exc}.") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{shown_path(path)} is not valid TOML ({exc}); not changed.") from None
    # A new key goes before the first table (tomlkit places it there), so it
    # never lands inside [profiles.x].
    doc["theme"] = name
    new = tomlkit.dumps(doc)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"{shown_path(path)} cannot be written: {exc.strerror}.") from None
    return path


def log_dir() -> Path:
    """Where ``--debug`` writes its log and a crash its report (platformdirs'
    user log directory: ``~/.local/state/integrations-admin/log`` on Linux)."""
    import platformdirs

    return platformdirs.user_log_path(APP_NAME)


def profile_shown(settings: Settings, name: str, environ: Mapping[str, str] | None = None) -> str:
    """A profile's database for display: interpolated where its variables are
    set (the caller hides any password), as written otherwise."""
    env = os.environ if environ is None else environ
    try:
        return _profile_db(interpolate(settings.profiles[name], "", env), settings.path.parent)
    except ConfigError:
        return settings.profiles[name]


def check(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Everything worth fixing in settings that load: the notices, a theme that
    does not exist, key ids that no binding has, a profile whose ``${VAR}`` is
    not set. (Imports every screen, to know every binding id.)"""
    from textual.theme import BUILTIN_THEMES

    from tui import keys

    env = os.environ if environ is None else environ
    problems = list(settings.notices)
    if settings.theme.value not in BUILTIN_THEMES:
        problems.append(
            f"{settings.theme.source}: there is no theme {settings.theme.value!r}; the themes "
            f"are {', '.join(sorted(BUILTIN_THEMES))}."
        )
    known = keys.all_binding_ids()
    for binding_id in keys.unknown_ids(settings.keymap, known):
        problems.append(
            f"{settings.keymap_sources.get(binding_id, shown_path(settings.path))}: no key has "
            f"the id {binding_id!r} (`integrations-admin keys` lists them); it remaps nothing."
        )
    text = ""
    with suppress(OSError, UnicodeDecodeError):
        text = settings.path.read_text(encoding="utf-8")
    for name, db in settings.profiles.items():
        try:
            interpolate(db, _where(settings.path, text, f"profiles.{name}", "db"), env)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
