"""A channel account's rate limit kept in PostgreSQL, so that it holds across worker
processes and Odoo servers, not only inside one process.

At most ``limit`` requests per ``window`` seconds per account, measured from their
answers: a slot is taken when a request leaves (in flight) and counts until one window
after its answer arrives. The state is one row per account in
``multichannel_rate_window``, read and written under a row lock in a short transaction
of its own (never the caller's), with PostgreSQL's clock, so every process and every
server sees the same window. A process killed with requests in flight does not leak
its slots: a slot in flight for longer than ``in_flight_timeout`` is dropped.

Give it a function that opens a database cursor usable as a context manager
(committing on a clean exit), e.g. an Odoo registry's ``cursor``.
"""

import threading
import time
from contextlib import contextmanager

import psycopg2

from .kept_connections import forget_kept_connection, kept_connection
from .transactions import begin_read_committed

TABLE_SQL = """
    CREATE TABLE IF NOT EXISTS multichannel_rate_window (
        account varchar PRIMARY KEY,
        answered double precision[] NOT NULL DEFAULT '{}',
        in_flight double precision[] NOT NULL DEFAULT '{}'
    )
"""
POLL = 0.02
# The window is a moment's state: its short transactions commit without waiting for the
# disk (after a crash of PostgreSQL it may lose its last milliseconds, a slot or two that
# expire within a second anyway), which saves a disk flush on both of them, each call.


class SharedAnswerWindow:
    def __init__(self, cursor_factory, account, limit, window=1.01, in_flight_timeout=120.0, sleep=time.sleep):
        self.cursor_factory = cursor_factory
        self.account = account
        self.limit, self.window, self.in_flight_timeout = limit, window, in_flight_timeout
        self.sleep = sleep

    def acquire(self):
        """Wait for a slot; return its token (when it was taken, on PostgreSQL's clock)."""
        while True:
            with self.cursor_factory() as cr:
                begin_read_committed(cr, durable=False)
                cr.execute(
                    "INSERT INTO multichannel_rate_window (account) VALUES (%s) ON CONFLICT DO NOTHING",
                    (self.account,),
                )
                cr.execute(
                    """
                    SELECT extract(epoch FROM clock_timestamp()), answered, in_flight
                      FROM multichannel_rate_window WHERE account = %s FOR UPDATE
                    """,
                    (self.account,),
                )
                now, answered, in_flight = cr.fetchone()
                now = float(now)
                answered = [stamp for stamp in answered if now - stamp < self.window]
                in_flight = [stamp for stamp in in_flight if now - stamp < self.in_flight_timeout]
                taken = len(answered) + len(in_flight) < self.limit
                if taken:
                    in_flight.append(now)
                cr.execute(
                    "UPDATE multichannel_rate_window SET answered = %s, in_flight = %s WHERE account = %s",
                    (answered, in_flight, self.account),
                )
            if taken:
                return now
            wait = self.window - (now - min(answered)) if answered else POLL
            self.sleep(max(wait, 0.001))

    def release(self, token):
        """The request's answer arrived (or the client gave up): its slot counts from now."""
        with self.cursor_factory() as cr:
            begin_read_committed(cr, durable=False)
            cr.execute(
                """
                UPDATE multichannel_rate_window
                   SET in_flight = array_remove(in_flight, %s::double precision),
                       answered = array_append(answered, extract(epoch FROM clock_timestamp())::double precision)
                 WHERE account = %s
                """,
                (token, self.account),
            )

    @contextmanager
    def slot(self):
        token = self.acquire()
        try:
            yield
        finally:
            self.release(token)


_kept_lock = threading.Lock()


@contextmanager
def kept_cursor(dbname):
    """A cursor on a connection to ``dbname`` this process keeps for the window's short
    transactions (committed on a clean exit, rolled back otherwise): where a cursor of
    Odoo's pool costs a borrow and a reset each time, two per request. One connection
    per process and database, used by one thread at a time; one the server closed, or
    a parent's after a fork, is replaced."""
    with _kept_lock:
        connection = kept_connection(dbname)
        try:
            with connection.cursor() as cr:
                yield cr
            connection.commit()
        except BaseException:
            try:
                connection.rollback()
            except psycopg2.Error:
                forget_kept_connection(dbname)  # broken: the next use opens another
            raise
