"""Waiting for a frame: until what was just changed is on the terminal."""

from __future__ import annotations

import asyncio
import contextlib

from textual.message_pump import MessagePump


async def painted(node: MessagePump, *, timeout: float = 0.5, settle: float = 0.004) -> None:
    """Until what was just changed under ``node`` (a screen, or the app) is drawn
    and handed to the terminal: its next refresh (``timeout`` at most), then
    ``settle`` seconds for Textual's writer thread, which writes the frame.

    Awaited by an action (a key's), it holds the keys typed next until then:
    they reach what the key opens, not what it showed first."""
    done = asyncio.Event()
    node.call_after_refresh(done.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout)
    await asyncio.sleep(settle)
