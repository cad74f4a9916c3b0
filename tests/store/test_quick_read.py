"""``Store.quick_read``'s own connections (the change poll, the API's token
check): kept idle between reads and shared by the threads that come and go,
never one per thread left open. The program reads in a new thread each time
(tui.saving.run_in_daemon): a connection per thread, never closed, was one
more connection (its page cache, three file descriptors on SQLite) at every
change poll, every 2 s."""

from __future__ import annotations

import threading

from store import accounts


def _in_a_thread(fn) -> None:
    failed: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:
            failed.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert not failed, failed


def test_threads_that_come_and_go_share_one_connection(store, owner):
    seen = []
    for _ in range(30):  # thirty change polls, each in a thread of its own
        _in_a_thread(lambda: seen.append(accounts.changes(store, owner.account_id).count))
    assert len(seen) == 30 and len(set(seen)) == 1
    assert len(store._quick_conns) == 1
    assert len(store._quick_idle) == 1


def test_reads_at_once_get_connections_of_their_own(store, owner):
    inside = threading.Barrier(3)
    conns: list[object] = []

    def read() -> None:
        with store.quick_read() as raw:
            conns.append(raw)
            inside.wait(timeout=10)  # all three hold theirs at the same moment
            accounts.changes(store, owner.account_id)  # a nested read takes another

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in conns}) == 3
    assert len(store._quick_conns) == len(store._quick_idle) <= 6
    again = []
    for _ in range(10):
        _in_a_thread(lambda: again.append(accounts.changes(store, owner.account_id)))
    assert len(store._quick_conns) <= 6  # reused, none added


def test_a_thread_gets_back_the_connection_it_used_last(store, owner):
    """The API's threads keep theirs between requests (and what the token check
    keeps with it: tokens.check_quick)."""
    used = []

    def twice() -> None:
        for _ in range(2):
            with store.quick_read() as raw:
                used.append(raw)

    _in_a_thread(lambda: accounts.changes(store, owner.account_id))  # one idle already
    _in_a_thread(lambda: accounts.changes(store, owner.account_id))
    twice()
    assert used[0] is used[1]


def test_dispose_closes_them(store, owner):
    _in_a_thread(lambda: accounts.changes(store, owner.account_id))
    (conn, _busy) = store._quick_conns[0]
    store.dispose()
    assert store._quick_conns == [] and store._quick_idle == {}
    try:
        conn.execute("SELECT 1")
        closed = False
    except Exception:
        closed = True
    assert closed
