"""eMAG's rate limit held across processes: two worker processes of the same account,
each with its own client, share one window kept in PostgreSQL."""

import multiprocessing
import os
import threading
import time
import uuid
from contextlib import contextmanager
from functools import partial

import pytest

from odoo.addons.stock_multichannel.lib.shared_rate_limit import SCHEMA_SQL, SharedAnswerWindow
from odoo.addons.stock_multichannel_emag.api.client import EmagClient
from odoo.addons.stock_multichannel_emag.simulator.emag_simulator import EmagSimulator

DATABASE = os.environ.get("SMC_TEST_DB")
REQUESTS_PER_PROCESS = 6


@contextmanager
def committing_cursor(options="", autocommit=False, isolation=None, connected=None):
    """A cursor on a new connection to the test database, committed on a clean exit.

    ``options``: the session's settings; ``connected(connection)`` is told of it first."""
    import psycopg2

    connection = psycopg2.connect(dbname=DATABASE, options=options)
    connection.autocommit = autocommit
    if isolation is not None:
        connection.set_isolation_level(isolation)
    if connected:
        connected(connection)
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def worker(base_url, account, results):
    client = EmagClient(base_url, "seller", "secret", timeout=10)
    client.limiters = {
        kind: SharedAnswerWindow(committing_cursor, f"{account}:{kind}", limit)
        for kind, limit in (("order", 12), ("other", 3))
    }
    answered = 0
    for _request in range(REQUESTS_PER_PROCESS):
        client.call("product_offer/read", {"currentPage": 1, "itemsPerPage": 1})
        answered += 1
    results.put(answered)


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_two_processes_of_one_account_never_draw_a_429():
    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)
    sim = EmagSimulator(username="seller", password="secret").start()
    try:
        sim.add_offer(1)
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        account = f"test-{uuid.uuid4().hex[:8]}"
        processes = [context.Process(target=worker, args=(sim.base_url, account, results)) for _ in range(2)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=60)
        assert [process.exitcode for process in processes] == [0, 0]
        assert sorted(results.get(timeout=5) for _ in processes) == [REQUESTS_PER_PROCESS] * 2
        reads = sim.requests_to("product_offer/read")
        assert len(reads) == 2 * REQUESTS_PER_PROCESS
        assert not [entry for entry in sim.log if entry.get("status") == 429]
        assert sim.max_rate("other") <= 3
    finally:
        sim.stop()


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_a_slot_left_in_flight_by_a_killed_process_is_freed():
    account = f"test-{uuid.uuid4().hex[:8]}"
    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)
    stale = SharedAnswerWindow(committing_cursor, account, limit=1, in_flight_timeout=0.2)
    stale.acquire()  # and never released: the process died
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        time.sleep(seconds)

    fresh = SharedAnswerWindow(committing_cursor, account, limit=1, in_flight_timeout=0.2, sleep=sleep)
    started = time.monotonic()
    fresh.release(fresh.acquire())
    assert waited, "it waited for the dead slot first"
    assert time.monotonic() - started < 5


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_a_window_changed_by_another_worker_meanwhile_never_fails_an_odoo_cursor():
    """Odoo's cursors are REPEATABLE READ: taking a slot must not fail with "could not
    serialize access" when another worker changed the window after this take began."""
    import psycopg2
    from psycopg2.extensions import ISOLATION_LEVEL_REPEATABLE_READ

    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)
    account = f"test:{uuid.uuid4().hex}"
    other = SharedAnswerWindow(committing_cursor, account, 3)
    other.release(other.acquire())  # the window's row exists

    taker_pids = []
    odoo_like_cursor = partial(
        committing_cursor,
        isolation=ISOLATION_LEVEL_REPEATABLE_READ,
        connected=lambda connection: taker_pids.append(connection.get_backend_pid()),
    )

    def wait_until_the_take_waits_for(holder_pid):
        with committing_cursor() as cr:
            for _poll in range(500):
                if taker_pids:
                    cr.execute("SELECT %s = ANY(pg_blocking_pids(%s))", (holder_pid, taker_pids[0]))
                    if cr.fetchone()[0]:
                        return
                time.sleep(0.01)
        raise AssertionError("the take never waited for the other worker's row")

    # another worker in the middle of its take: the row changed and held, not committed yet
    holder = psycopg2.connect(dbname=DATABASE)
    try:
        holder.cursor().execute(
            "UPDATE multichannel_rate_window SET answered = answered || 0::float8 WHERE account = %s", (account,)
        )
        window = SharedAnswerWindow(odoo_like_cursor, account, 3)
        taken = []
        take = threading.Thread(target=lambda: taken.append(window.acquire()))
        take.start()
        wait_until_the_take_waits_for(holder.get_backend_pid())  # its snapshot taken before the commit
        holder.commit()
        take.join(timeout=10)
    finally:
        holder.close()
    assert taken, "taken once the other worker committed (REPEATABLE READ would have failed)"
    window.release(taken[0])
    with committing_cursor() as cr:
        cr.execute("SELECT cardinality(in_flight) FROM multichannel_rate_window WHERE account = %s", (account,))
        assert cr.fetchone() == (0,), "every slot taken was freed"


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_a_slot_is_given_back_whatever_precision_the_server_prints_floats_with():
    """The token is the moment the slot was taken, as PostgreSQL printed it: printed
    rounded (``extra_float_digits`` 0 or less, a server's or role's setting), it would
    match no slot in flight, and every slot would stay taken for two minutes."""

    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)

    rounding_cursor = partial(committing_cursor, options="-c extra_float_digits=0", autocommit=True)
    account = f"test:{uuid.uuid4().hex}"
    window = SharedAnswerWindow(rounding_cursor, account, 100)
    for _request in range(20):
        window.release(window.acquire())
    with committing_cursor() as cr:
        cr.execute(
            "SELECT cardinality(in_flight), cardinality(answered) FROM multichannel_rate_window WHERE account = %s",
            (account,),
        )
        assert cr.fetchone() == (0, 20)


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_a_window_held_by_something_else_is_a_fault_to_retry_not_a_hang(monkeypatch):
    """Its row is held for the moment of one statement; held longer (by an uninstall
    dropping the table, say), the request is a temporary fault, never a worker waiting."""
    import psycopg2

    from odoo.addons.stock_multichannel.lib import shared_rate_limit
    from odoo.addons.stock_multichannel.lib.adapter import TransportError

    monkeypatch.setattr(shared_rate_limit, "LOCK_TIMEOUT_MS", 200)
    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)

    # without the window's own bound, this test fails instead of hanging
    bounded_cursor = partial(committing_cursor, options="-c statement_timeout=3000")

    account = f"test:{uuid.uuid4().hex}"
    window = SharedAnswerWindow(bounded_cursor, account, 3)
    window.release(window.acquire())
    holder = psycopg2.connect(dbname=DATABASE)
    try:
        holder.cursor().execute("LOCK TABLE multichannel_rate_window IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(TransportError, match="busy"):
            window.acquire()
        assert time.monotonic() - started < 2
    finally:
        holder.close()
    window.release(window.acquire())  # free again


@pytest.mark.skipif(not DATABASE, reason="needs the database setup/test.py made")
def test_a_kept_connection_the_server_closed_costs_no_request():
    """PostgreSQL restarted, an idle timeout, a firewall: the window's kept connection is
    gone. Giving a slot back never fails the request it was for; the next take opens a
    new connection and goes on."""

    from odoo.addons.stock_multichannel.lib import shared_rate_limit
    from odoo.addons.stock_multichannel.lib.kept_connections import kept_connection

    with committing_cursor() as cursor:
        cursor.execute(SCHEMA_SQL)
    window = SharedAnswerWindow(partial(shared_rate_limit.kept_cursor, DATABASE), f"test:{uuid.uuid4().hex}", 10)
    token = window.acquire()

    def server_closes_it():
        kept = kept_connection(DATABASE, autocommit=True, purpose="rate window")
        with committing_cursor() as cr:
            cr.execute("SELECT pg_terminate_backend(%s)", (kept.get_backend_pid(),))
        time.sleep(0.1)

    server_closes_it()
    window.release(token)  # lost with the connection: left to time out, no error raised
    server_closes_it()
    window.release(window.acquire())
    window.release(window.acquire())
