"""The settings file (issue 20): precedence, a bad file's line, profiles on
both databases, ``config`` and ``keys`` on the command line.

Every test writes its settings under a temporary XDG_CONFIG_HOME, where the
program looks for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui import config, keys
from tui.cli import main


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    """Write config.toml under a temporary XDG_CONFIG_HOME; returns its path."""
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    for var in (config.ENV_DB, config.ENV_PROFILE, config.ENV_THEME, config.ENV_DEBUG):
        monkeypatch.delenv(var, raising=False)
    path = home / "integrations-admin" / "config.toml"

    def write(text: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    write.path = path  # type: ignore[attr-defined]
    return write


def test_a_missing_file_is_every_default(cfg):
    s = config.load()
    assert s.path == cfg.path and not s.exists
    assert (s.theme.value, s.theme.source) == ("textual-dark", "default")
    assert (s.db.value, s.db.source) == (None, "default")
    assert s.debug.value is False and s.presenter.value is False
    assert s.keymap == {} and s.notices == []


def test_precedence_flag_over_environment_over_file_over_default(cfg, monkeypatch):
    cfg(
        'theme = "nord"\ndebug = true\nprofile = "file"\n\n'
        '[profiles.file]\ndb = "/data/file.db"\n[profiles.env]\ndb = "/data/env.db"\n'
        '[profiles.flag]\ndb = "/data/flag.db"\n'
    )
    s = config.load()
    assert s.theme.value == "nord" and s.theme.source.endswith("config.toml, line 1")
    assert s.debug.value is True and s.debug.source.endswith("line 2")
    assert s.db.value == "/data/file.db" and "profile 'file'" in s.db.source

    monkeypatch.setenv(config.ENV_THEME, "dracula")
    monkeypatch.setenv(config.ENV_DEBUG, "0")
    monkeypatch.setenv(config.ENV_PROFILE, "env")
    s = config.load()
    assert (s.theme.value, s.theme.source) == ("dracula", "$INTEGRATIONS_ADMIN_THEME")
    assert s.debug.value is False
    assert s.db.value == "/data/env.db" and s.profile.source == "$INTEGRATIONS_ADMIN_PROFILE"
    # A URL in the environment beats a profile named in the environment.
    monkeypatch.setenv(config.ENV_DB, "/data/url.db")
    assert config.load().db.value == "/data/url.db"

    s = config.load(config.Flags(theme="monokai", debug=True, profile="flag"))
    assert (s.theme.value, s.theme.source) == ("monokai", "--theme")
    assert s.debug.value is True and s.debug.source == "--debug"
    assert s.db.value == "/data/flag.db" and s.profile.source == "--profile"
    s = config.load(config.Flags(db="/data/db-flag.db"))
    assert (s.db.value, s.db.source) == ("/data/db-flag.db", "--db")
    with pytest.raises(config.ConfigError, match="use one"):
        config.load(config.Flags(db="x.db", profile="flag"))


def test_a_file_that_is_not_toml_names_its_line(cfg, capsys):
    cfg('theme = "nord"\n\n[profiles.team]\ndb = \n')
    with pytest.raises(config.ConfigError, match=r"line 4"):
        config.load()
    # Every command refuses it (a broken file may hold the profile: never guess).
    assert main(["where"]) == 2
    err = capsys.readouterr().err
    assert "config.toml is not valid TOML" in err and "line 4" in err
    assert main(["config", "check"]) == 2
    assert "line 4" in capsys.readouterr().err
    # `config path` still answers.
    assert main(["config", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(cfg.path)


def test_a_value_of_the_wrong_type_names_its_line(cfg):
    cfg('# settings\n\ntheme = "nord"\npresenter = "yes"\n')
    with pytest.raises(config.ConfigError, match=r"config.toml, line 4: presenter must be true"):
        config.load()
    cfg('[profiles.team]\nurl = "postgresql://x"\n')
    with pytest.raises(config.ConfigError, match=r"line 1: the profile 'team' needs db"):
        config.load()


def test_unknown_profile_lists_the_profiles(cfg, capsys):
    cfg('[profiles.team]\ndb = "t.db"\n[profiles.local]\ndb = "l.db"\n')
    assert main(["--profile", "nope", "where"]) == 2
    err = capsys.readouterr().err
    assert "There is no profile 'nope' (--profile)" in err and "local, team" in err


def test_interpolation_and_a_variable_not_set(cfg, monkeypatch):
    cfg('[profiles.team]\ndb = "postgresql+psycopg://team:${TEAM_PW}@db.example/x$$y"\n')
    with pytest.raises(config.ConfigError, match=r"line 2: the environment variable TEAM_PW"):
        config.load(config.Flags(profile="team"))
    # A profile not in use does not need its variables.
    assert config.load().db.value is None
    monkeypatch.setenv("TEAM_PW", "s3cret")
    s = config.load(config.Flags(profile="team"))
    assert s.db.value == "postgresql+psycopg://team:s3cret@db.example/x$y"


def test_config_show_says_where_each_setting_comes_from_and_hides_passwords(
    cfg, monkeypatch, capsys
):
    cfg(
        '# mine\ntheme = "nord"\n\n[keymap]\n"go.marketplace" = "M"\n\n'
        '[profiles.team]\ndb = "postgresql+psycopg://team:${TEAM_PW}@db.example/integrations"\n'
    )
    monkeypatch.setenv("TEAM_PW", "s3cret-pw")
    assert main(["--profile", "team", "--debug", "config", "show"]) == 0
    out = capsys.readouterr().out
    lines = {
        ln.split()[0] + (" " + ln.split()[1] if ln.startswith(("key", "profile ")) else ""): ln
        for ln in out.splitlines()
    }
    assert "s3cret-pw" not in out
    assert "postgresql+psycopg://team:***@db.example/integrations" in lines["database"]
    assert "profile 'team' (config.toml, line 8)" in lines["database"]
    assert lines["theme"].split()[1:] == ["nord", "config.toml,", "line", "2"]
    assert lines["debug"].split()[1:] == ["on", "--debug"]
    assert lines["presenter"].split()[1:] == ["off", "default"]
    assert "config.toml, line 5" in lines["key go.marketplace"]


def test_config_check_warns_of_what_does_nothing(cfg, capsys):
    cfg('thme = "nord"\n[keymap]\n"go.marketplce" = "M"\n')
    assert main(["config", "check"]) == 1
    err = capsys.readouterr().err
    assert "config.toml, line 1: 'thme' is not a setting" in err
    assert "config.toml, line 3: no key has the id 'go.marketplce'" in err
    cfg('theme = "textual-light"\n')
    assert main(["config", "check"]) == 0
    assert "OK" in capsys.readouterr().out


def test_old_keymap_file_is_still_read_with_a_notice(cfg):
    cfg('[keymap]\n"go.audit" = "A"\n')
    (cfg.path.parent / "keymap.toml").write_text(
        '"go.marketplace" = "M"\n"go.audit" = "x"\n', encoding="utf-8"
    )
    s = config.load()
    assert s.keymap == {"go.marketplace": "M", "go.audit": "A"}  # the settings file wins
    assert any("keymap.toml is still read" in n and "[keymap]" in n for n in s.notices)


def test_theme_is_written_back_keeping_comments(cfg):
    cfg('# my settings\ndebug = false  # not now\n\n[profiles.team]\ndb = "t.db"  # ours\n')
    config.save_theme("textual-light")
    text = cfg.path.read_text(encoding="utf-8")
    assert "# my settings" in text and "# not now" in text and "# ours" in text
    assert config.load().theme.value == "textual-light"
    assert config.load().profiles == {"team": "t.db"}  # not inside [profiles.team]
    config.save_theme("nord")
    assert cfg.path.read_text(encoding="utf-8").count("theme =") == 1


def test_a_profile_opens_its_database(cfg, store, owner, monkeypatch, capsys):
    """On SQLite and on PostgreSQL (TEST_DATABASE_URL): the profile's db, given
    through a variable as a team would keep a password out of the file."""
    monkeypatch.setenv("TEAM_DB", store.url)
    cfg('profile = "team"\n[profiles.team]\ndb = "${TEAM_DB}"\n[profiles.other]\ndb = "o.db"\n')
    assert main(["users", "list"]) == 0  # the file's default profile
    assert capsys.readouterr().out.split()[0] == "alice"
    monkeypatch.setenv(config.ENV_PROFILE, "other")
    assert main(["--profile", "team", "users", "list"]) == 0  # the flag beats the variable
    assert capsys.readouterr().out.split()[0] == "alice"


def test_keys_lists_every_binding_with_the_key_in_force(cfg, capsys):
    cfg('[keymap]\n"go.marketplace" = "M"\n"blueprints.new" = "ctrl+n,f2"\n')
    assert main(["keys"]) == 0
    out = capsys.readouterr().out
    rows = {ln.split()[0]: ln for ln in out.splitlines() if "." in ln.split()[0]}
    program_ids = {i for i in keys.all_binding_ids() if "." in i}
    assert set(rows) == program_ids
    assert rows["go.marketplace"].split()[1:3] == ["M", "*"]
    assert rows["blueprints.new"].split()[1:4] == ["ctrl+n,", "f2", "*"]
    assert rows["go.audit"].split()[1:3] == ["a", "Audit"]
    assert "Quit" in rows["app.quit"]
