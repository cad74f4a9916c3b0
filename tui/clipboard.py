"""Copying to the clipboard of the person at the keyboard, also over SSH.

Two ways, used together:

- OSC 52 (Textual's ``App.copy_to_clipboard``), always: the terminal emulator
  puts the text on the clipboard of the machine the person sits at, which is
  the only way through an SSH session. tmux needs ``set -g set-clipboard on``;
  some terminals ask for permission or ignore it (macOS Terminal).
- pyperclip, where a local clipboard exists: not when the program runs over
  SSH (``SSH_CONNECTION``/``SSH_TTY``) without a display (``DISPLAY`` or
  ``WAYLAND_DISPLAY``), because that clipboard would be the server's, not
  the person's; nor on Linux without any display server. pyperclip is
  imported only when first used, and a failure is reported, never raised.

The text copied never appears in a message: it may be a secret.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Mapping

from textual.app import App

TERMINAL = "Copied to your terminal's clipboard"
LOCAL_TIMEOUT_S = 2.0


def no_local_clipboard(
    env: Mapping[str, str] | None = None, system: str | None = None, release: str | None = None
) -> str | None:
    """Why there is no local clipboard of the user's here, or None when there is one.

    Over SSH without a forwarded display the local clipboard would be the
    server's, not the person's. On Linux (other than WSL) a clipboard needs a
    display server: without one pyperclip has nothing to talk to.
    """
    env = os.environ if env is None else env
    display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    if display:
        return None
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return "over SSH"
    system = platform.system() if system is None else system
    release = platform.release() if release is None else release
    if system == "Linux" and "microsoft" not in release.lower():
        return "no display"
    return None


def local_clipboard_available(env: Mapping[str, str] | None = None, **kw: str) -> bool:
    """Whether a clipboard on this machine is the user's (see no_local_clipboard)."""
    return no_local_clipboard(env, **kw) is None


def _local_copy(text: str) -> None:
    """Put ``text`` on the local clipboard (replaced in tests)."""
    import pyperclip

    pyperclip.copy(text)


def _describe(exc: BaseException, text: str) -> str:
    name = type(exc).__name__
    if name == "PyperclipException":
        return "no clipboard program was found (install xclip, xsel or wl-clipboard)"
    first = (str(exc).splitlines() or [name])[0]
    if text and text in first:  # never repeat what was copied
        first = first.replace(text, "…")
    return first[:120] or name


def _copy_locally(text: str) -> str | None:
    """Copy with pyperclip in a helper thread; an error text, or None when it worked.

    A clipboard program can hang (an unreachable X display): wait at most
    LOCAL_TIMEOUT_S seconds rather than freeze the interface.
    """
    outcome: dict[str, str | None] = {}

    def work() -> None:
        try:
            _local_copy(text)
            outcome["error"] = None
        except Exception as exc:  # a clipboard failure must never crash the program
            outcome["error"] = _describe(exc, text)

    worker = threading.Thread(target=work, name="local-clipboard", daemon=True)
    worker.start()
    worker.join(LOCAL_TIMEOUT_S)
    if worker.is_alive() or "error" not in outcome:
        return f"it did not answer within {LOCAL_TIMEOUT_S:g} seconds"
    return outcome["error"]


def copy(app: App, text: str, *, notify: bool = True) -> str:
    """Copy ``text`` for the user and return (and, by default, notify) what happened."""
    app.copy_to_clipboard(text)
    reason = no_local_clipboard()
    if reason is not None:
        message = f"{TERMINAL} (OSC 52; {reason}, so no local clipboard)."
        severity = "information"
    else:
        error = _copy_locally(text)
        if error is None:
            message = f"{TERMINAL} and to the local clipboard."
            severity = "information"
        else:
            message = f"{TERMINAL}; the local clipboard failed: {error}."
            severity = "warning"
    if notify:
        app.notify(message, title="Copy", severity=severity)
    return message
