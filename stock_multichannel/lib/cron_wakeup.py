"""Waking Odoo's cron workers without a new connection each time.

Odoo's cron workers LISTEN on channel ``cron_trigger`` of the ``postgres`` database
(``odoo/service/server.py``): a NOTIFY sent on the transaction's own cursor, in the
merchant's database, would never reach them. ``ir.cron._notifydb`` reaches them
through a connection to ``postgres`` that Odoo's pool never keeps (3-6 ms to open).
This module keeps one such connection per process instead.
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

from .kept_connections import forget_kept_connection, kept_connection

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
# databases whose cron workers this process's notifier thread is to notify, and that thread
_to_notify = set()
_notify_wanted = threading.Condition()
_notifier = (None, None)  # (process id, thread)


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
    global _notifier  # noqa: PLW0603 - one thread per process, started at first use
    with _notify_wanted:
        _to_notify.add(dbname)
        pid, thread = _notifier
        if pid != os.getpid() or not thread.is_alive():  # first use, or a forked worker
            thread = threading.Thread(target=_notify_wanted_databases, name="multichannel-cron-notify", daemon=True)
            _notifier = (os.getpid(), thread)
            thread.start()
        _notify_wanted.notify()


def _notify_wanted_databases():
    while True:
        with _notify_wanted:
            while not _to_notify:
                _notify_wanted.wait()
            databases = sorted(_to_notify)
            _to_notify.clear()
        for dbname in databases:
            notify_cron_workers(dbname)


def _forget_threads_state_after_fork():
    """A forked worker starts with no notifier thread of its own and with locks the
    parent's threads may have held at the fork: new ones."""
    global _lock, _notify_wanted, _notifier  # noqa: PLW0603
    _lock = threading.Lock()
    _notify_wanted = threading.Condition()
    _to_notify.clear()
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
