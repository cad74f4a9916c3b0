"""Copying to the clipboard of the person at the keyboard, also over SSH.

Two ways, used together:

- OSC 52 (Textual's ``App.copy_to_clipboard``), always: the terminal emulator
  puts the text on the clipboard of the machine the person sits at, which is
  the only way through an SSH session. tmux needs ``set -g set-clipboard on``;
  some terminals ask for permission or ignore it (macOS Terminal).
- pyperclip, where a local clipboard exists: not when the program runs over
  SSH (``SSH_CONNECTION``/``SSH_TTY``) without a display (``DISPLAY`` or
  ``WAYLAND_DISPLAY``), because that clipboard would be the server's, not
  the person's. pyperclip is imported only when first used.

The text copied never appears in a message: it may be a secret.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from textual.app import App

TERMINAL = "Copied to your terminal's clipboard"
LOCAL_TIMEOUT_S = 2.0


def local_clipboard_available(env: Mapping[str, str] | None = None) -> bool:
    """Whether a clipboard on this machine is the user's (not a remote server's)."""
    env = os.environ if env is None else env
    remote = bool(env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    display = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return display or not remote


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
    if not local_clipboard_available():
        message = f"{TERMINAL} (OSC 52; over SSH there is no local clipboard to use)."
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
