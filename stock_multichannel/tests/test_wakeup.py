import os
import select
import signal
import threading
import time
import warnings
from contextlib import suppress
from functools import partial
from unittest.mock import MagicMock, patch

import psycopg2

from odoo import sql_db
from odoo.addons.stock_multichannel.lib import cron_wakeup, kept_connections
from odoo.tests import tagged
from odoo.tools import SQL

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestWakeUp(MultichannelCase):
    """What one stock operation or one imported order costs in queue rows, statements,
    cron triggers and NOTIFY connections: so it cannot creep back."""

    def setUp(self):
        super().setUp()
        self.channel.write({"stock_schedule": "realtime", "order_schedule": "off"})
        self.second = self.channel.copy({"name": "Second marketplace", "stock_schedule": "realtime"})
        self.third = self.channel.copy({"name": "Third marketplace", "stock_schedule": "realtime"})
        for channel, suffix in ((self.second, "2"), (self.third, "3")):
            self._listing(self.chair, f"ext-chair-{suffix}", channel=channel)
        self.cron = self.env.ref("stock_multichannel.ir_cron_push_stock")
        self._changes_committed()
        self.env.cr.execute("DELETE FROM multichannel_sync_request; DELETE FROM multichannel_stock_change")
        self.env.cr.execute("DELETE FROM ir_cron_trigger")
        # a run took its wake-ups in this transaction: the last serial drawn is one it sees
        # (a run rolled back by an earlier test drew one no transaction sees)
        self.env["multichannel.channel"]._consume_wakeups("stock")

    def _cost(self, operation):
        """Run ``operation`` and what its commit runs; count what it queued and woke: the
        triggers of the stock push in the transaction, the wake-ups it hands to the
        notifier thread after its commit (cron ids) and its notifications after commit."""
        cr = self.env.cr
        statements = []
        execute = type(cr).execute

        def counting(cursor, query, params=None, log_exceptions=True):
            code = query.code if isinstance(query, SQL) else str(query)
            if "INSERT INTO multichannel_sync_request" in code or "INSERT INTO multichannel_stock_change" in code:
                statements.append(code)
            return execute(cursor, query, params, log_exceptions)

        cr.postcommit.clear()
        with patch.object(type(cr), "execute", counting):
            operation()
            self._changes_committed()
        notifications = [
            func
            for func in cr.postcommit._funcs
            if getattr(func, "__name__", "") == "_notifydb"
            or (isinstance(func, partial) and func.func is cron_wakeup.notify_cron_workers_soon)
        ]
        after_commit = self._wake_ups_after_commit()
        cr.execute("SELECT binding_id FROM multichannel_sync_request WHERE kind = 'stock'")
        rows = [binding_id for (binding_id,) in cr.fetchall()]
        cr.execute("SELECT product_id FROM multichannel_stock_change")
        products = [product_id for (product_id,) in cr.fetchall()]
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        counts = {"products": len(products), "rows": len(rows), "listings": len(set(rows))}
        return dict(counts, statements=len(statements)), triggers, after_commit, notifications

    def _listing_requests(self):
        """The push's side: the products whose stock moved turned into requests, by listing."""
        self.env["multichannel.sync.request"]._fan_out_stock_changes()
        self.env.cr.execute("SELECT binding_id FROM multichannel_sync_request WHERE kind = 'stock' ORDER BY binding_id")
        return [binding_id for (binding_id,) in self.env.cr.fetchall()]

    def test_one_stock_move(self):
        counts, triggers, after_commit, notifications = self._cost(lambda: self._deliver(self.chair, 1))
        self.assertEqual(
            counts,
            {"products": 1, "rows": 0, "listings": 0, "statements": 1},
            "one row for the product however many channels list it, one statement",
        )
        self.assertEqual(triggers, 0, "the operation's transaction neither reads nor writes the cron's wake-ups")
        self.assertEqual(after_commit, [self.cron.id], "one wake-up of the stock push, asked for after the commit")
        self.assertEqual(notifications, [], "notified by the thread that asks for the wake-up, if it asks for one")
        chair_listings = self.env["multichannel.product.binding"].search([("product_id", "=", self.chair.id)])
        self.assertEqual(len(chair_listings), 3)
        self.assertTrue(all(chair_listings.mapped("queued")), "each listing shows its change queued")
        self.assertEqual(self._listing_requests(), sorted(chair_listings.ids), "the push asks for each listing once")
        self.env.cr.execute("SELECT count(*) FROM multichannel_stock_change")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the product's row is taken by the push")

    def test_a_product_listed_on_no_channel_in_real_time_wakes_nothing(self):
        self.env["multichannel.channel"].search([]).write({"stock_schedule": "5min"})
        counts, triggers, after_commit, notifications = self._cost(lambda: self._set_stock(self.chair, 1))
        self.assertEqual(counts["products"], 1, "queued for the channels' next scheduled push")
        self.assertEqual((triggers, after_commit, notifications), (0, [], []))
        unlisted = self.env["product.product"].create({"name": "Unlisted stool", "is_storable": True})
        self.channel.stock_schedule = "realtime"
        counts, triggers, after_commit, notifications = self._cost(lambda: self._set_stock(unlisted, 1))
        self.assertEqual(counts["products"], 1, "a product no channel lists is not queued")
        self.assertEqual((triggers, after_commit, notifications), (0, [], []), "nothing to wake")
        self.assertEqual(len(self._listing_requests()), 3)

    def test_a_channel_archived_meanwhile_gets_its_listings_looked_at_again_when_restored(self):
        self._cost(lambda: self._set_stock(self.chair, 1))
        self.second.active = False
        requested = self.env["multichannel.product.binding"].browse(self._listing_requests())
        self.assertNotIn(self.second, requested.channel_id, "an archived channel is asked for nothing")
        self.second.active = True
        self.env.cr.execute("SELECT binding_id FROM multichannel_sync_request WHERE cause = 'channel settings change'")
        restored = self.env["multichannel.product.binding"].browse({row[0] for row in self.env.cr.fetchall()})
        self.assertEqual(restored.channel_id, self.second, "restored: each of its listings looked at again")
        listing = restored.filtered(lambda b: b.product_id == self.chair)
        listing.active = False
        listing.sudo().write({"stock_pending": False, "price_pending": False})
        listing.active = True
        self.assertTrue(listing.stock_pending and listing.price_pending, "a listing restored is looked at again")

    def test_a_product_changed_by_several_transactions_is_requested_from_its_first_change(self):
        self._cost(lambda: self._set_stock(self.chair, 1))
        self._cost(lambda: self._set_stock(self.chair, 2))
        self.env.cr.execute("SELECT min(requested_at), count(*) FROM multichannel_stock_change")
        first, count = self.env.cr.fetchone()
        self.assertEqual(count, 2, "one row per transaction")
        self.assertEqual(len(self._listing_requests()), 3, "one request per listing")
        self.env.cr.execute("SELECT DISTINCT requested_at FROM multichannel_sync_request")
        self.assertEqual(self.env.cr.fetchall(), [(first,)], "the push latency counts from the first change")

    def test_a_run_s_own_wake_up_while_one_is_pending(self):
        """What a cron's run asks for in its own transaction (``_trigger_realtime``), through
        the function the notifier thread calls for Odoo's operations after their commit."""
        Channel = self.env["multichannel.channel"]

        def wake():
            _counts, _triggers, after_commit, notifications = self._cost(lambda: Channel._trigger_realtime("stock"))
            self.assertEqual(after_commit, [])
            return self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]), len(notifications)

        self.assertEqual(wake(), (1, 1))
        self.assertEqual(wake(), (1, 0), "the pending wake-up is enough")
        # a run starts: it takes the wake-ups asked for until now, then drains the queue
        Channel._consume_wakeups("stock")
        # the taken trigger stays for Odoo's scheduler to delete when the run ends; a new one is asked for
        self.assertEqual(wake(), (2, 1), "what comes after the drain wakes the next run")
        self.assertEqual(wake(), (2, 0), "and that new one is pending again")

    def test_one_imported_order(self):
        def receive():
            order = self.env["multichannel.order"]._receive(self.channel, order_data("W-1"))
            self.assertEqual(order.state, "done", order.error)

        counts, triggers, after_commit, notifications = self._cost(receive)
        self.assertEqual(counts["products"], 1, "one row for the ordered product, savepoints or not")
        self.assertEqual(counts["rows"], 0)
        # the order stored, its sale order confirmed, the order closed, each in savepoints
        # that flush: all of it queued in one statement
        self.assertEqual(counts["statements"], 1, "one statement for the order's transaction")
        self.assertEqual((triggers, after_commit, notifications), (0, [self.cron.id], []))
        self.assertEqual(len(self._listing_requests()), 3, "one request per listing of the ordered product")

    def test_orders_imported_in_one_commit_queue_their_stock_in_one_statement(self):
        """The orders an import commits together queue their stock changes once, just before
        the commit: the push is woken once, and never waits for the import's wake-up."""

        def receive():
            self.channel._receive_orders([order_data("W-3"), order_data("W-4")], auto_commit=False)

        counts, triggers, after_commit, notifications = self._cost(receive)
        orders = self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "in", ["W-3", "W-4"])]
        )
        self.assertEqual(orders.mapped("state"), ["done", "done"])
        self.assertEqual(counts["statements"], 1, "one statement for the two orders")
        self.assertEqual((triggers, after_commit, notifications), (0, [self.cron.id], []))

    def test_one_order_imported_from_a_channel_that_lowers_its_own_stock(self):
        """A marketplace lowers what it shows by itself when it sells: that channel's
        listings are re-sent whatever they show, so they are asked for one by one."""

        def receive():
            order = self.env["multichannel.order"]._receive(self.channel, order_data("W-2"))
            self.assertEqual(order.state, "done", order.error)

        with patch.object(self.adapter_class, "lowers_stock_on_order", True):
            counts, triggers, after_commit, notifications = self._cost(receive)
        self.assertEqual(counts, {"products": 0, "rows": 3, "listings": 3, "statements": 1})
        self.assertEqual((triggers, after_commit, notifications), (0, [self.cron.id], []))
        self.env.cr.execute("SELECT count(*) FROM multichannel_sync_request WHERE channel_moved")
        self.assertEqual(self.env.cr.fetchone()[0], 1, "the selling channel's own listing is marked moved")

    def test_a_request_rolled_back_with_its_savepoint_is_queued_again(self):
        Queue = self.env["multichannel.sync.request"]
        with self.env.cr.savepoint() as savepoint:
            Queue._queue("stock", "test", product_ids=self.chair.ids)
            self.assertEqual(self.env["multichannel.sync.request"].search_count([]), 3)
            savepoint.rollback()
        self.env.invalidate_all()
        Queue._queue("stock", "test", product_ids=self.chair.ids)
        Queue._queue("stock", "test", product_ids=self.chair.ids)
        self.assertEqual(self.env["multichannel.sync.request"].search_count([]), 3)

    def test_held_changes_outlive_a_savepoint_rolled_back(self):
        """What a held block collected before a savepoint that rolls back is still queued."""
        Queue = self.env["multichannel.sync.request"]
        other = self.env["product.product"].create({"name": "Stool", "is_storable": True})
        self._listing(other, "ext-stool")

        def operation():
            with Queue._holding_stock():
                Queue._queue_stock_at_commit(self.chair.ids)
                with self.assertRaises(ZeroDivisionError), self.env.cr.savepoint():
                    Queue._queue_stock_at_commit(other.ids)
                    _fail = 1 / 0

        counts, _triggers, _after_commit, _notifications = self._cost(operation)
        self.assertEqual(counts["statements"], 1)
        # the chair; the stool may come along (a push that finds nothing changed sends nothing)
        self.assertIn(counts["products"], (1, 2))
        self.env.cr.execute("SELECT product_id FROM multichannel_stock_change")
        self.assertIn(self.chair.id, [product_id for (product_id,) in self.env.cr.fetchall()])

    def test_held_changes_queued_when_the_block_fails(self):
        Queue = self.env["multichannel.sync.request"]

        def operation():
            # not assertRaises: Odoo's rolls back a savepoint, and with it what the block queued
            with suppress(ValueError), Queue._holding_stock():
                Queue._queue_stock_at_commit(self.chair.ids)
                raise ValueError

        counts, _triggers, _after_commit, _notifications = self._cost(operation)
        self.assertEqual(counts, {"products": 1, "rows": 0, "listings": 0, "statements": 1})

    def test_a_notified_order_wakes_the_inbox_once(self):
        """A webhook or callback stored for the inbox cron: one trigger and one notification on
        the kept connection (Odoo's ``_trigger`` opened a new connection for each); none
        more while that wake-up is pending; a new one once a run took it."""
        cron = self.env.ref("stock_multichannel.ir_cron_process_inbox")
        self.env.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        self.env["multichannel.channel"]._consume_wakeups("inbox")  # a first run: the cron's serial
        Inbox = self.env["multichannel.inbox"]

        def wake_ups(operation):
            _counts, _triggers, _after_commit, notifications = self._cost(operation)
            triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
            self.assertFalse([f for f in notifications if getattr(f, "__name__", "") == "_notifydb"])
            return triggers, len(notifications)

        self.assertEqual(wake_ups(lambda: Inbox._receive_later(self.channel, "N-1")), (1, 1))
        self.assertEqual(wake_ups(lambda: Inbox._receive_later(self.channel, "N-2")), (1, 0), "pending: enough")
        self.env["multichannel.channel"]._consume_wakeups("inbox")
        self.assertEqual(wake_ups(lambda: Inbox._receive_later(self.channel, "N-3")), (2, 1), "after a run took it")

    def test_a_commit_never_waits_for_its_notification(self):
        """The notification goes from a thread of the process: a commit that asked for a
        wake-up returns at once; commits meanwhile make one notification; it does reach
        the cron workers listening on ``postgres``."""
        cron_wakeup.wait_until_sent()
        self.addCleanup(cron_wakeup.wait_until_sent)
        listener = sql_db.db_connect("postgres").cursor()
        self.addCleanup(listener.close)
        listener.execute("LISTEN cron_trigger")
        listener.commit()  # pylint: disable=invalid-commit
        connection = listener._cnx
        gate = threading.Event()
        sent = []
        original = cron_wakeup.notify_cron_workers

        def slow_notify(dbname):
            gate.wait(10)
            sent.append(dbname)
            return original(dbname)

        with patch.object(cron_wakeup, "notify_cron_workers", slow_notify):
            started = time.monotonic()
            for _commit in range(3):
                cron_wakeup.notify_cron_workers_soon(self.env.cr.dbname)
            self.assertLess(time.monotonic() - started, 1.0, "no commit waited for the NOTIFY")
            gate.set()
            deadline = time.monotonic() + 10
            while not connection.notifies and time.monotonic() < deadline:
                if select.select([connection], [], [], 0.2)[0]:
                    connection.poll()
        self.assertIn(self.env.cr.dbname, [notify.payload for notify in connection.notifies])
        self.assertLessEqual(len(sent), 2, "the commits made while one was sent make one more at most")

    def test_a_forked_worker_notifies_whatever_the_parents_threads_held(self):
        """Odoo's prefork server forks its workers: a lock a thread of the parent held at
        that moment must not leave the worker stuck on its first notification."""
        with cron_wakeup._lock, cron_wakeup._notify_wanted, warnings.catch_warnings():
            # the very case under test: Python warns of a fork while threads run
            warnings.simplefilter("ignore", DeprecationWarning)
            child = os.fork()
            if child == 0:  # the worker: exits 0 once both ways of notifying returned
                code = 1
                try:
                    signal.alarm(10)
                    cron_wakeup.notify_cron_workers_soon(self.env.cr.dbname)
                    code = 0 if cron_wakeup.notify_cron_workers(self.env.cr.dbname) else 2
                finally:
                    os._exit(code)
        deadline = time.monotonic() + 20
        while (finished := os.waitpid(child, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        if finished == (0, 0):
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        self.assertNotEqual(finished, (0, 0), "the forked worker got stuck")
        self.assertEqual(os.waitstatus_to_exitcode(finished[1]), 0)

    def test_a_wake_up_that_cannot_be_asked_for_waits_for_the_cron_s_tick(self):
        """The notifier thread's connection lost, and the one it opens again failing too:
        nothing raised in the thread, nothing logged as an error, no notification."""
        cron_wakeup.wait_until_sent()  # what earlier tests asked for, before the patches
        refused = psycopg2.OperationalError("the server closed the connection")
        with (
            patch.object(cron_wakeup, "kept_connection", side_effect=refused) as connect,
            patch.object(cron_wakeup, "notify_cron_workers") as notify,
            patch.object(cron_wakeup, "_logger") as logger,
        ):
            cron_wakeup.wake_cron_soon(self.env.cr.dbname, self.cron.id, self.env.uid)
            self.assertTrue(cron_wakeup.wait_until_sent())
        self.assertEqual(connect.call_count, 2, "tried again once on a new connection")
        self.assertFalse(notify.called)
        self.assertEqual([call[0] for call in logger.method_calls], ["info"])
        self.assertIn("runs at its next tick", logger.info.call_args.args[0])

    def test_a_wake_up_refused_by_the_database_keeps_its_connection(self):
        """The wake-up's statement failing on a working connection (a lock held too long):
        rolled back, not tried again, the connection kept for the next wake-up."""
        cron_wakeup.wait_until_sent()
        connection = MagicMock(closed=0)
        connection.cursor.return_value.__enter__.return_value.execute.side_effect = psycopg2.OperationalError(
            "canceling statement due to lock timeout"
        )
        with (
            patch.object(cron_wakeup, "kept_connection", return_value=connection) as connect,
            patch.object(cron_wakeup, "forget_kept_connection") as forget,
            patch.object(cron_wakeup, "_logger") as logger,
        ):
            self.assertFalse(cron_wakeup.wake_cron(self.env.cr.dbname, self.cron.id, self.env.uid))
        self.assertEqual(connect.call_count, 1)
        self.assertTrue(connection.rollback.called)
        self.assertFalse(forget.called)
        self.assertIn("runs at its next tick", logger.info.call_args.args[0])

    def test_the_notifier_outlives_a_failure_of_its_own(self):
        """A failure that is not the database's (a bug): logged, the thread goes on with the
        next wake-ups instead of dying with them."""
        cron_wakeup.wait_until_sent()
        with (
            patch.object(cron_wakeup, "wake_cron", side_effect=[RuntimeError("bug"), False]) as wake,
            patch.object(cron_wakeup, "_logger") as logger,
        ):
            cron_wakeup.wake_cron_soon(self.env.cr.dbname, self.cron.id, self.env.uid)
            self.assertTrue(cron_wakeup.wait_until_sent(), "not left working forever")
            cron_wakeup.wake_cron_soon(self.env.cr.dbname, self.cron.id, self.env.uid)
            self.assertTrue(cron_wakeup.wait_until_sent())
            woken = wake.call_count
        self.assertEqual(woken, 2, "the same thread took the next wake-up")
        self.assertEqual([call[0] for call in logger.method_calls], ["warning"])

    def test_notifications_share_one_connection(self):
        kept_connections.forget_kept_connection("postgres", autocommit=True)
        self.addCleanup(kept_connections.forget_kept_connection, "postgres", autocommit=True)
        with patch.object(kept_connections.psycopg2, "connect", wraps=kept_connections.psycopg2.connect) as connect:
            sent = [cron_wakeup.notify_cron_workers(self.env.cr.dbname) for _i in range(3)]
        self.assertEqual(sent, [True, True, True])
        self.assertEqual(connect.call_count, 1)
