"""Waking Odoo's cron workers without a new connection each time.

Odoo's cron workers LISTEN on channel ``cron_trigger`` of the ``postgres`` database
(``odoo/service/server.py``): a NOTIFY sent on the transaction's own cursor, in the
merchant's database, would never reach them. ``ir.cron._notifydb`` reaches them
through a connection to ``postgres`` that Odoo's pool never keeps (3-6 ms to open).
This module keeps one such connection per process instead, and a thread that sends
the notifications, and asks for the wake-ups of work Odoo's own operations committed,
after their commit (``wake_cron_soon``).
"""

import atexit
import logging
import os
import threading
from contextlib import contextmanager, suppress

import psycopg2
from psycopg2 import sql

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

from .kept_connections import forget_kept_connection, kept_connection

_logger = logging.getLogger(__name__)

_lock = threading.Lock()  # the notifications' connection
_wake_lock = threading.Lock()  # the wake-ups' connections
# databases whose cron workers this process's notifier thread is to notify, the crons it
# is to ask a wake-up of ({(database, cron id): user id}), whether it is at work on them,
# and that thread
_to_notify = set()
_to_wake = {}
_working = False
_notify_wanted = threading.Condition()
_notifier = (None, None)  # (process id, thread)

# a transaction of its own, whatever the server's default isolation; a trigger lost with a
# crash of the server before its WAL is flushed costs what the process's crash does (the
# cron's next tick), so its commit does not wait for the flush
WAKE_CRON = """
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    SET LOCAL lock_timeout = '2s';
    SET LOCAL synchronous_commit = off;
    SELECT multichannel_wake_cron(%s, %s)
"""


def notify_cron_workers(dbname):
    """NOTIFY the cron workers that a job of ``dbname`` is due (what ``ir.cron._notifydb`` does)."""
    query = sql.SQL("SELECT {}('cron_trigger', %s)").format(sql.Identifier(ODOO_NOTIFY_FUNCTION))
    with _lock:
        for attempt in (1, 2):
            try:
                with kept_connection("postgres", autocommit=True).cursor() as cr:
                    cr.execute(query, [dbname])
                return True
            except psycopg2.Error:
                # a connection the server closed (restart, idle timeout): one more try on a new one
                forget_kept_connection("postgres", autocommit=True)
                if attempt == 2:
                    _logger.info("cron workers could not be notified; they wake at their next poll", exc_info=True)
    return False


def notify_cron_workers_soon(dbname):
    """Have this process's notifier thread NOTIFY the cron workers of ``dbname`` now.

    Called after a commit that asked for a wake-up: the request that committed does not
    wait for the round trip to ``postgres``. Several commits before the thread gets to
    them make one notification. Lost with the process, as a notification sent by the
    request would be: the trigger is committed, and the workers' next poll finds it.
    """
    with _notify_wanted:
        _to_notify.add(dbname)
        _start_notifier()
        _notify_wanted.notify_all()


def wake_cron_soon(dbname, cron_id, uid):
    """Have this process's notifier thread wake cron ``cron_id`` of ``dbname``: a wake-up
    asked for in a transaction of its own (``multichannel_wake_cron``: none when one is
    pending), then the cron workers notified when it asked for one.

    Called after the commit of a transaction that queued work for that cron (a stock
    operation of Odoo's): that work is committed before the wake-up is looked for, so the
    run that takes it, pending or new, drains that work. The transaction itself neither
    reads nor writes the cron's wake-ups, and commits that come before the thread gets
    to them make one wake-up. Lost with the process: the cron's next tick, a minute at
    most, does the work then.
    """
    with _notify_wanted:
        _to_wake.setdefault((dbname, cron_id), uid)
        _start_notifier()
        _notify_wanted.notify_all()


def wake_cron(dbname, cron_id, uid):
    """Ask for a wake-up of cron ``cron_id`` of ``dbname`` unless one is pending, in a
    transaction of its own on this process's kept connection; True when one was asked.
    A connection the server closed is opened again once; any other failure (a lock held
    by an update of the cron, a database being upgraded) leaves it to the cron's tick."""
    failure = None
    with _wake_lock:
        for _attempt in range(2):
            connection = None
            try:
                connection = kept_connection(dbname, purpose="wake")
                with connection.cursor() as cr:
                    cr.execute(WAKE_CRON, [cron_id, uid])
                    woken = cr.fetchone()[0]
                connection.commit()
                return woken
            except psycopg2.Error as error:
                failure = error
                if connection is not None and not connection.closed:
                    with suppress(psycopg2.Error):
                        connection.rollback()
                    if not connection.closed:
                        break  # the statement failed, not the connection: kept for the next wake-up
                forget_kept_connection(dbname, purpose="wake")
    _logger.info("cron %s could not be woken; it runs at its next tick", cron_id, exc_info=failure)
    return False


def wait_until_sent(timeout=10):
    """Wait until the notifier thread did what it was asked for until now (tests)."""
    with _notify_wanted:
        return _notify_wanted.wait_for(lambda: not (_to_notify or _to_wake or _working), timeout)


def _start_notifier():
    """Start this process's notifier thread (at first use, or in a forked worker); called
    holding ``_notify_wanted``."""
    global _notifier  # noqa: PLW0603 - one thread per process, started at first use
    pid, thread = _notifier
    if pid != os.getpid() or not thread.is_alive():
        thread = threading.Thread(target=_notify_wanted_databases, name="multichannel-cron-notify", daemon=True)
        _notifier = (os.getpid(), thread)
        thread.start()


def _notify_wanted_databases():
    global _working  # noqa: PLW0603 - the notifier thread's state, under _notify_wanted
    while True:
        with _notify_wanted:  # _working is False here: reset by the last batch's finally
            while not (_to_notify or _to_wake):
                _notify_wanted.wait()
            databases, wake_ups = set(_to_notify), dict(_to_wake)
            _to_notify.clear()
            _to_wake.clear()
            _working = True
        try:
            for (dbname, cron_id), uid in sorted(wake_ups.items()):
                with _logged_if_failing():
                    if wake_cron(dbname, cron_id, uid):
                        databases.add(dbname)
            for dbname in sorted(databases):
                with _logged_if_failing():
                    notify_cron_workers(dbname)
        finally:
            with _notify_wanted:
                _working = False
                _notify_wanted.notify_all()


@contextmanager
def _logged_if_failing():
    """One database's wake-up or notification failing never stops the thread nor the others'."""
    try:
        yield
    except Exception:
        _logger.warning("the cron notifier failed; the crons run at their next tick", exc_info=True)


def _wait_before_exit():
    """A worker recycled or stopped gracefully hands its last wake-ups over first."""
    if _notifier[0] == os.getpid():
        wait_until_sent(2)


atexit.register(_wait_before_exit)


def _forget_threads_state_after_fork():
    """A forked worker starts with no notifier thread of its own and with locks the
    parent's threads may have held at the fork: new ones."""
    global _lock, _wake_lock, _notify_wanted, _notifier, _working  # noqa: PLW0603
    _lock = threading.Lock()
    _wake_lock = threading.Lock()
    _notify_wanted = threading.Condition()
    _to_notify.clear()
    _to_wake.clear()
    _working = False
    _notifier = (None, None)


os.register_at_fork(after_in_child=_forget_threads_state_after_fork)


def notify_cron_workers_later(dbname, delay):
    """NOTIFY the cron workers of ``dbname`` in ``delay`` seconds, from a timer thread.

    A trigger due in a moment (a retry after a back-off) notifies nobody when it comes:
    the workers would see it at their next poll, up to a minute later. The timer waits in
    a thread of its own, never in a cron worker; it is lost with the process, and the
    workers' poll still comes then.
    """
    timer = threading.Timer(max(0.0, delay), notify_cron_workers, [dbname])
    timer.daemon = True
    timer.start()
    return timer
