"""A channel account's rate limit kept in PostgreSQL, so that it holds across worker
processes and Odoo servers, not only inside one process.

At most ``limit`` requests per ``window`` seconds per account, measured from their
answers: a slot is taken when a request leaves (in flight) and counts until one window
after its answer arrives. The state is one row per account in
``multichannel_rate_window``, read and written under a row lock in a short transaction
of its own (never the caller's): one statement to take a slot, one to give it back, on
PostgreSQL's clock, so every process and every server sees the same window. A process
killed with requests in flight does not leak its slots: a slot in flight for longer
than ``in_flight_timeout`` is dropped.

Give it a function that opens a database cursor usable as a context manager
(committing on a clean exit), e.g. an Odoo registry's ``cursor``.
"""

import logging
import threading
import time
from contextlib import contextmanager

import psycopg2

from .adapter import TransportError
from .kept_connections import kept_connection
from .messages import translatable
from .transactions import own_transaction_prefix

_logger = logging.getLogger(__name__)
_lt = translatable(__name__)

SCHEMA_SQL = """
    CREATE TABLE IF NOT EXISTS multichannel_rate_window (
        account varchar PRIMARY KEY,
        answered double precision[] NOT NULL DEFAULT '{}',
        in_flight double precision[] NOT NULL DEFAULT '{}'
    );
    -- a slot taken in one statement, under the account's row lock, on PostgreSQL's clock:
    -- the answers older than a window and the requests in flight for too long forgotten
    CREATE OR REPLACE FUNCTION multichannel_rate_take(
        rate_account varchar, rate_limit integer, rate_window double precision, flight_timeout double precision,
        OUT taken_at double precision, OUT taken boolean, OUT oldest_answer double precision)
    LANGUAGE plpgsql AS $$
    DECLARE
        answers double precision[];
        flying double precision[];
    BEGIN
        INSERT INTO multichannel_rate_window (account) VALUES (rate_account) ON CONFLICT DO NOTHING;
        SELECT w.answered, w.in_flight INTO answers, flying
          FROM multichannel_rate_window w WHERE w.account = rate_account FOR UPDATE;
        taken_at := extract(epoch FROM clock_timestamp());
        answers := ARRAY(SELECT s FROM unnest(answers) s WHERE taken_at - s < rate_window);
        flying := ARRAY(SELECT s FROM unnest(flying) s WHERE taken_at - s < flight_timeout);
        taken := cardinality(answers) + cardinality(flying) < rate_limit;
        IF taken THEN
            flying := flying || taken_at;
        END IF;
        UPDATE multichannel_rate_window SET answered = answers, in_flight = flying WHERE account = rate_account;
        oldest_answer := (SELECT min(s) FROM unnest(answers) s);
    END
    $$;
"""
DROP_SQL = """
    DROP FUNCTION IF EXISTS multichannel_rate_take(varchar, integer, double precision, double precision);
    DROP TABLE IF EXISTS multichannel_rate_window;
"""
POLL = 0.02
# the account's row is held for the moment of one statement: waiting longer means
# something else holds the table (an uninstall), and the request is tried again later
LOCK_TIMEOUT_MS = 5000
# The window is a moment's state: its statements commit without waiting for the disk
# (after a crash of PostgreSQL it may lose its last milliseconds, a slot or two that
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
            now, taken, oldest = self._take()
            if taken:
                return now
            wait = self.window - (now - oldest) if oldest is not None else POLL
            self.sleep(max(wait, 0.001))

    def _take(self, lost=False):
        try:
            with self.cursor_factory() as cr:
                cr.execute(
                    own_transaction_prefix(cr, LOCK_TIMEOUT_MS)
                    + "SELECT * FROM multichannel_rate_take(%s, %s, %s, %s)",
                    (self.account, self.limit, self.window, self.in_flight_timeout),
                )
                return cr.fetchone()
        except psycopg2.errors.LockNotAvailable:
            raise TransportError(
                _lt("the shared request window of the channel's account is busy"), maybe_applied=False
            ) from None
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            if lost:
                raise TransportError(
                    _lt("the database connection of the shared request window was lost"), maybe_applied=False
                ) from None
            # a kept connection the server closed (a restart, an idle timeout): once more on a new one
            return self._take(lost=True)

    def release(self, token):
        """The request's answer arrived (or the client gave up): its slot counts from now."""
        try:
            with self.cursor_factory() as cr:
                cr.execute(
                    own_transaction_prefix(cr, LOCK_TIMEOUT_MS)
                    + """
                    UPDATE multichannel_rate_window
                       SET in_flight = array_remove(in_flight, %s::double precision),
                           answered = array_append(answered, extract(epoch FROM clock_timestamp())::double precision)
                     WHERE account = %s
                    """,
                    (token, self.account),
                )
        except psycopg2.Error as error:
            # never in place of the channel's answer, here already: the slot counts as in flight until it times out
            _logger.warning("%s: a request's slot could not be given back (%s)", self.account, type(error).__name__)

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
    """A cursor on a connection to ``dbname`` this process keeps for the window's
    statements, in autocommit: each query string its own transaction, sent in one round
    trip (where a cursor of Odoo's pool costs a borrow and a reset each time). One
    connection per process and database, used by one thread at a time; one the server
    closed, or a parent's after a fork, is replaced."""
    with _kept_lock, kept_connection(dbname, autocommit=True, purpose="rate window").cursor() as cr:
        yield cr
