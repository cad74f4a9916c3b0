"""A workaround for Textualize/textual#6666 (open): a widget that watches a
longer-lived object (``self.watch(self.app, "sub_title", ...)``, as every
Header does, or ``data_bind``, as every Footer key does) stays in that
object's private watcher list after it is removed, until the watched value
changes, which for a title or a footer's ``compact`` is never. Each screen
opened and closed then leaked its header and footer keys (about ten thousand
objects), which made every later garbage collection slower."""

from __future__ import annotations


def drop_closed_watchers(obj: object) -> None:
    """Forget the watchers of ``obj`` that belong to removed widgets (Textual
    itself does this only when the watched value changes)."""
    for watchers in getattr(obj, "__watchers", {}).values():
        watchers[:] = [(n, cb) for n, cb in watchers if not (n._closing or n._closed)]
