"""How the sync crons use their database transactions."""

from contextlib import contextmanager

import psycopg2
from psycopg2.extensions import (
    ISOLATION_LEVEL_READ_COMMITTED,
    ISOLATION_LEVEL_REPEATABLE_READ,
    TRANSACTION_STATUS_IDLE,
)

from odoo.sql_db import Cursor

# another worker holds or has just changed the row: routine, left to that worker or the next run
CONCURRENT_ERRORS = (
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.UniqueViolation,
)
# what a cron run rolls back and leaves to its next run: those, and a deadlock with another
# transaction that wrote the same rows in another order (a user's edit of several listings)
ROUTINE_RUN_ERRORS = (*CONCURRENT_ERRORS, psycopg2.errors.DeadlockDetected)


@contextmanager
def read_committed(cr, auto_commit=True):
    """Run cron work that commits as it goes in READ COMMITTED.

    Odoo's cursors are REPEATABLE READ: a transaction that writes a row another worker
    changed after it began fails with "could not serialize access". A price push that
    waits for the channel's answer while the stock push settles the same listings would
    fail so after the channel accepted the prices. In READ COMMITTED each statement sees
    what was committed before it and a write waits for the other writer instead. What
    must not run twice is kept apart by the channels' advisory locks and PostgreSQL's
    unique constraints, not by the snapshot.

    Work done so far is committed first (the isolation level is chosen per transaction);
    REPEATABLE READ is back when the block ends, committed or rolled back. Without
    ``auto_commit``, or where a test keeps its one transaction open (its cursor does not
    commit), nothing changes.
    """
    if not (auto_commit and commit_own_transaction(cr)):
        yield  # or the commit was a test's stand-in: still one transaction
        return
    cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
    try:
        yield
        cr.commit()  # pylint: disable=invalid-commit
    except BaseException:
        cr.rollback()
        raise
    finally:
        cr.connection.set_isolation_level(ISOLATION_LEVEL_REPEATABLE_READ)


def commit_own_transaction(cr):
    """Commit the work done so far on a cron's own cursor: True when it was committed
    (False where a test keeps its one transaction open: its cursor does not commit)."""
    if not isinstance(cr, Cursor):
        return False
    cr.commit()  # pylint: disable=invalid-commit
    return cr.connection.info.transaction_status == TRANSACTION_STATUS_IDLE


def own_transaction_prefix(cr, lock_timeout_ms=None):
    """The statements that open a short transaction of the cursor's own, to send in one
    query string with the statement it is for (one round trip): READ COMMITTED, not
    waiting for the disk, waiting for a lock ``lock_timeout_ms`` at most. Empty when the
    cursor shares a transaction already under way (a test's): it is left as it is.

    For a statement or two on a row every worker and server writes (the shared rate
    window): each must see the row as last committed and wait for the worker holding it,
    where REPEATABLE READ would fail with "could not serialize access". Its commit may be
    taken back by a crash of PostgreSQL, a few milliseconds of a moment's state. On a
    connection in autocommit, a query string of several statements is one transaction.
    """
    connection = getattr(cr, "connection", None)
    if connection is None or connection.info.transaction_status != TRANSACTION_STATUS_IDLE:
        return ""
    return (
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO OFF; "
        # floats as sent back exactly, whatever the server's default
        "SET LOCAL extra_float_digits TO 3; "
        + (f"SET LOCAL lock_timeout TO {int(lock_timeout_ms)}; " if lock_timeout_ms else "")
    )
