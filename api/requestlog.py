"""The request log's writer: entries queue in memory and a thread writes them
in batches (one transaction per batch, not one per request), at most
``interval_s`` after they were queued; ``close`` writes what is left.

A process that is killed outright loses at most the last ``interval_s`` of
entries; ``ctrl+c`` (uvicorn's graceful shutdown) loses none.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from store import apiaccess
from store.db import Store
from store.errors import DomainError

log = logging.getLogger("integrations_admin.api")

BATCH_MAX = 500


class RequestLog:
    def __init__(self, store: Store, *, interval_s: float = 0.2) -> None:
        self.store = store
        self.interval_s = interval_s
        self._queue: queue.SimpleQueue[apiaccess.LoggedRequest | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="api-request-log", daemon=True)
        self._closed = False
        self._thread.start()

    def add(self, entry: apiaccess.LoggedRequest) -> None:
        if not self._closed:
            self._queue.put(entry)

    def close(self) -> None:
        """Write every queued entry, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[apiaccess.LoggedRequest] = []
            try:
                first = self._queue.get(timeout=self.interval_s)
            except queue.Empty:
                continue
            if first is None:
                stop = True
            else:
                batch.append(first)
            # Whatever else arrived meanwhile goes in the same transaction.
            while len(batch) < BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if not stop and len(batch) < BATCH_MAX:
                # Let the next entries gather for one interval: fewer, larger writes.
                time.sleep(self.interval_s)

    def _write(self, batch: list[apiaccess.LoggedRequest]) -> None:
        if not batch:
            return
        try:
            apiaccess.record_requests(self.store, batch)
        except DomainError as exc:  # the database is busy or away: say so, keep serving
            log.warning("could not write %d API log entries: %s", len(batch), exc)
        except Exception:  # never let the writer die silently
            log.exception("could not write %d API log entries", len(batch))
