import select
import threading
import time
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.api import Transaction
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..lib import cron_wakeup
from ..models import multichannel_channel_cron as cron_module
from ..models import multichannel_channel_order_import as order_import_module
from ..models import multichannel_channel_push as push_module
from .common import FakeAdapter, FakeRemote, connect_manual_channels, order_data


class SlowPriceAnswerAdapter(FakeAdapter):
    """Applies the prices on the channel, then answers only once released."""

    answered = release = None

    def push_prices(self, updates):
        results = super().push_prices(updates)
        self.answered.set()
        self.release.wait(30)
        return results


@tagged("post_install", "-at_install")
class TestConcurrency(TransactionCase):
    """Real concurrency: separate database connections, committed data, threads."""

    @classmethod
    def _env(cls, cr):
        """An environment on a connection of its own.

        The registry is handed over explicitly: looking it up by name waits for the
        registry lock, which the test runner holds while tests run.
        """
        cr.transaction = Transaction(cls.registry)
        return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.remote = FakeRemote()
        adapter = type("ConcurrencyAdapter", (FakeAdapter,), {"remote": cls.remote})
        cls.channel_class = type(cls.env["multichannel.channel"])
        for patcher in connect_manual_channels(cls.channel_class, adapter):
            cls.startClassPatcher(patcher)
        cls.db = sql_db.db_connect(cls.env.cr.dbname)
        with cls.db.cursor() as cr:
            env = cls._env(cr)
            euro = env.ref("base.EUR")
            euro.active = True
            product = env["product.product"].create(
                {
                    "name": "Concurrent chair",
                    "default_code": "CC-CHAIR",
                    "is_storable": True,
                    "list_price": 50.0,
                    "taxes_id": [Command.clear()],
                }
            )
            warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 100
            )  # never oversold: no incident for the reports
            pricelist = env["product.pricelist"].create({"name": "Concurrency EUR", "currency_id": euro.id})
            channel = env["multichannel.channel"].create(
                {
                    "name": "Concurrency Channel",
                    "warehouse_ids": [Command.set(warehouse.ids)],
                    "pricelist_id": pricelist.id,
                    "retry_delay": 0.0,
                    "customer_country_id": env.ref("base.ro").id,
                }
            )
            env["multichannel.product.binding"].create(
                {"channel_id": channel.id, "product_id": product.id, "external_id": "cc-1"}
            )
            cls.channel_id, cls.product_id = channel.id, product.id

    @classmethod
    def tearDownClass(cls):
        with cls.db.cursor() as cr:
            cr.execute("UPDATE multichannel_channel SET active = false WHERE id = %s", (cls.channel_id,))
        super().tearDownClass()

    def _data(self, external_id, listing="cc-1"):
        return order_data(
            external_id,
            currency="EUR",
            total=None,
            shipping=[],
            lines=[{"listing_external_id": listing, "quantity": 1, "unit_price": 50.0, "tax_rate": None}],
        )

    def setUp(self):
        super().setUp()
        # the wake-ups the notifier thread asks for after the commits of a test land in it
        self.addCleanup(cron_wakeup.wait_until_sent)

    @staticmethod
    def _wake_ups_for_the_next_run(cr, cron_id):
        """Triggers of the cron asked for since its last run took its wake-ups (those asked
        for after the commits until now included)."""
        cron_wakeup.wait_until_sent()
        cr.execute(
            """
            SELECT count(*) FROM ir_cron_trigger t
              JOIN multichannel_cron_wakeup w ON w.cron_id = t.cron_id
             WHERE t.cron_id = %s AND t.call_at > w.taken_at
            """,
            [cron_id],
        )
        return cr.fetchone()[0]

    def _committed_stock_change(self):
        """A stock operation of the product, committed: its product row queued."""
        with self.db.cursor() as change:
            self._env(change)["multichannel.sync.request"]._queue_stock_changes([self.product_id])
            change.commit()  # pylint: disable=invalid-commit
        self.assertTrue(cron_wakeup.wait_until_sent(), "its wake-up asked for")

    def _listening_as_the_cron_workers(self):
        """A connection LISTENing where Odoo's cron workers do (closed with the test)."""
        listener = sql_db.db_connect("postgres").cursor()
        self.addCleanup(listener.close)
        listener.execute("LISTEN cron_trigger")
        listener.commit()  # pylint: disable=invalid-commit
        return listener._cnx

    def _in_parallel(self, work):
        """Run ``work(env)`` in two threads, each on its own connection, started together."""
        barrier = threading.Barrier(2)
        errors = []

        def worker():
            try:
                with self.db.cursor() as cr:
                    env = self._env(cr)
                    barrier.wait(timeout=30)
                    work(env)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertEqual(errors, [])

    def _count(self, model, domain):
        with self.db.cursor() as cr:
            env = self._env(cr)
            return env[model].search_count(domain)

    def test_two_imports_of_the_same_order_create_one(self):
        self._in_parallel(
            lambda env: env["multichannel.order"]._receive(
                env["multichannel.channel"].browse(self.channel_id), self._data("C-1")
            )
        )
        self.assertEqual(self._count("multichannel.order", [("external_id", "=", "C-1")]), 1)
        self.assertEqual(
            self._count(
                "sale.order",
                [("multichannel_external_ref", "=", "C-1"), ("multichannel_channel_id", "=", self.channel_id)],
            ),
            1,
        )

    def test_two_retries_of_the_same_staged_order_create_one(self):
        with self.db.cursor() as cr:
            env = self._env(cr)
            channel = env["multichannel.channel"].browse(self.channel_id)
            data = self._data("C-2")
            data["lines"][0]["listing_external_id"] = "cc-unknown"
            order = env["multichannel.order"]._receive(channel, data)
            self.assertEqual(order.state, "error")
            order.payload = self._data("C-2")  # as a re-read from the channel would
            order_id = order.id
        self._in_parallel(lambda env: env["multichannel.order"].browse(order_id)._process())
        self.assertEqual(
            self._count(
                "sale.order",
                [("multichannel_external_ref", "=", "C-2"), ("multichannel_channel_id", "=", self.channel_id)],
            ),
            1,
        )
        self.assertEqual(self._count("multichannel.order", [("id", "=", order_id), ("state", "=", "done")]), 1)

    def test_two_workers_never_push_the_same_channel_at_once(self):
        remote = FakeRemote()
        adapter = type("LockTestAdapter", (FakeAdapter,), {"remote": remote})
        with (
            patch.object(self.channel_class, "_adapter_class", lambda channel: adapter),
            self.db.cursor() as first,
            self.db.cursor() as second,
        ):
            first_worker = self._env(first)["multichannel.channel"].browse(self.channel_id)
            second_worker = self._env(second)["multichannel.channel"].browse(self.channel_id)
            self.assertTrue(first_worker._try_lock("stock"))
            second_worker._push("stock")
            self.assertEqual(remote.calls, [], "the first worker holds the channel")
            # a cron's run comes back a moment later: that push may have drained before its wake-up
            cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
            second.execute("SELECT now() AT TIME ZONE 'UTC'")
            now = second.fetchone()[0]
            with patch.object(cron_module, "notify_cron_workers_later"):
                second_worker.with_context(multichannel_cron=True)._push("stock")
            second.execute("SELECT call_at FROM ir_cron_trigger WHERE cron_id = %s AND call_at > %s", [cron_id, now])
            self.assertEqual(len(second.fetchall()), 1, "a run in a few seconds")
            self.assertEqual(remote.calls, [])
            first.rollback()  # the first worker is done
            second_worker._push("stock")
            self.assertEqual(remote.calls, [("stock", 1)])
            self.assertIn("cc-1", remote.stock)
            second.rollback()

    def test_a_button_says_when_another_worker_was_doing_its_work(self):
        remote = FakeRemote()
        adapter = type("BusyButtonAdapter", (FakeAdapter,), {"remote": remote})
        with (
            patch.object(self.channel_class, "_adapter_class", lambda channel: adapter),
            self.db.cursor() as scheduled,
            self.db.cursor() as user,
        ):
            scheduled_worker = self._env(scheduled)["multichannel.channel"].browse(self.channel_id)
            user_channel = self._env(user)["multichannel.channel"].browse(self.channel_id)
            for kind in ("stock", "price", "order", "audit"):
                self.assertTrue(scheduled_worker._try_lock(kind))
            for action, skipped in (
                ("action_push_stock", "another stock push"),
                ("action_push_prices", "another price push"),
                ("action_reconcile", "nothing sent again, another stock push"),
                ("action_import_orders", "another order import"),
                ("action_audit", "another comparison with the channel"),
            ):
                params = getattr(user_channel, action)()["params"]
                self.assertEqual(params["type"], "warning", action)
                if "nothing sent again" not in skipped:
                    skipped = f"not done now, {skipped}"
                self.assertIn(f"Concurrency Channel: {skipped}", params["message"], action)
            self.assertEqual(remote.calls, [], "nothing was sent while the scheduled runs held the channel")
            scheduled.rollback()  # the scheduled runs are over
            params = user_channel.action_reconcile()["params"]
            self.assertEqual((params["type"], params["message"]), ("success", "Every listing was sent again."))
            self.assertEqual(remote.calls, [("stock", 1), ("price", 1)])
            user.rollback()

    def test_the_push_cron_commits_what_it_pushed(self):
        self.remote.calls.clear()
        with self.db.cursor() as cr:
            self._env(cr)["multichannel.channel"]._cron_push_stock()
        with self.db.cursor() as cr:
            listing = self._env(cr)["multichannel.product.binding"].search([("external_id", "=", "cc-1")])
            self.assertFalse(listing.stock_pending)
            self.assertTrue(listing.stock_pushed_at)
            self.assertEqual(listing.pushed_qty, self.remote.stock["cc-1"])
            self.assertTrue(listing.channel_id.stock_pushed_at)

    def _listings_of_a_channel_of_their_own(self, count):
        """``count`` products in stock, listed on a channel of their own (committed,
        archived after the test): (channel id, the listings' external ids)."""
        with self.db.cursor() as cr:
            env = self._env(cr)
            channel = env["multichannel.channel"].browse(self.channel_id).copy({"name": "Batches Channel"})
            products = env["product.product"].create(
                [{"name": f"Batch chair {n}", "is_storable": True, "list_price": 50.0} for n in range(count)]
            )
            for index, product in enumerate(products):
                env["stock.quant"]._update_available_quantity(product, channel.warehouse_ids.lot_stock_id, 5 + index)
            # in stock before they are listed: no stock change queued
            cr.commit()  # pylint: disable=invalid-commit
            external_ids = [f"batch-{n}" for n in range(count)]
            env["multichannel.product.binding"].create(
                [
                    {"channel_id": channel.id, "product_id": product.id, "external_id": external_id}
                    for product, external_id in zip(products, external_ids, strict=True)
                ]
            )
        self.addCleanup(self._archive_channel, channel.id)
        return channel.id, external_ids

    def _archive_channel(self, channel_id):
        with self.db.cursor() as cr:
            cr.execute("UPDATE multichannel_channel SET active = false WHERE id = %s", (channel_id,))

    def _cron_stock_push(self, channel_id, adapter):
        """The stock push as the cron runs it, for one channel talking through ``adapter``:
        {external id: (pending, pushed quantity, the ledger's transaction start or None)}."""
        with patch.object(self.channel_class, "_adapter_class", lambda channel: adapter), self.db.cursor() as cr:
            channel = self._env(cr)["multichannel.channel"].browse(channel_id)
            channel._run_isolated("stock", lambda c: c._push("stock", auto_commit=True))
        with self.db.cursor() as cr:
            cr.execute(
                """
                SELECT b.external_id, b.stock_pending, b.pushed_qty, max(l.create_date)
                  FROM multichannel_product_binding b
                  LEFT JOIN multichannel_ledger l ON l.binding_id = b.id AND l.kind = 'stock'
                 WHERE b.channel_id = %s
                 GROUP BY b.id
                """,
                [channel_id],
            )
            return {external_id: rest for external_id, *rest in cr.fetchall()}

    def test_a_fast_channel_s_batches_are_recorded_without_a_commit_each(self):
        """Each commit empties Odoo's cache, which then reads the listings and the channel
        again: a push whose channel answers fast records its batches together."""
        channel_id, external_ids = self._listings_of_a_channel_of_their_own(3)
        remote = FakeRemote()
        one_by_one = type("OneByOne", (FakeAdapter,), {"remote": remote, "batch_size": 1})
        with patch.object(push_module, "PUSH_COMMIT_SECONDS", 3600):  # however slow this machine
            pushed = self._cron_stock_push(channel_id, one_by_one)
        self.assertEqual(remote.calls, [("stock", 1)] * 3)
        self.assertEqual(
            {name: (pending, qty) for name, (pending, qty, _at) in pushed.items()},
            {name: (False, remote.stock[name]) for name in external_ids},
        )
        self.assertEqual(len({at for _pending, _qty, at in pushed.values()}), 1, "one transaction")

        # a channel slower than the commit interval: each batch recorded as it is answered
        with self.db.cursor() as cr:
            cr.execute(
                "UPDATE multichannel_product_binding SET stock_pending = true, stock_pushed_at = NULL "
                "WHERE channel_id = %s",
                [channel_id],
            )
        with patch.object(push_module, "PUSH_COMMIT_SECONDS", 0):
            pushed = self._cron_stock_push(channel_id, one_by_one)
        self.assertEqual(remote.calls, [("stock", 1)] * 6)
        self.assertEqual(len({at for _pending, _qty, at in pushed.values()}), 3, "a commit each")

    def test_a_user_moving_a_listing_while_it_is_pushed_has_it_sent_to_its_new_id(self):
        """While the push sends its batches a user moves a listing to another of the channel's
        ids: the edit waits at most for the push's next commit, is not undone by it, and the
        next run sends the listing to its new id."""
        channel_id, external_ids = self._listings_of_a_channel_of_their_own(2)
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT id FROM multichannel_product_binding WHERE channel_id = %s AND external_id = %s",
                [channel_id, external_ids[0]],
            )
            first_id = cr.fetchone()[0]
        db, env_of = self.db, self._env
        edits, errors = [], []

        def user_edit():
            # as Odoo serves a user's request: tried again when a concurrent update aborts it
            for _attempt in range(5):
                try:
                    with mute_logger("odoo.sql_db"), db.cursor() as cr:  # its "bad query" when aborted
                        cr.execute("SET LOCAL lock_timeout = '10s'")
                        listing = env_of(cr)["multichannel.product.binding"].search(
                            [("channel_id", "=", channel_id), ("id", "=", first_id)]
                        )
                        listing.write({"external_id": "moved-0"})
                    return
                except psycopg2.errors.SerializationFailure:
                    continue
                except Exception as error:  # noqa: BLE001 - reported by the test below
                    errors.append(error)
                    return
            errors.append("aborted five times")

        class UserEditsTheFirstListing(FakeAdapter):
            remote, batch_size = FakeRemote(), 1

            def push_stock(self, updates):
                if len(self.remote.calls) == 1:  # the first listing settled, the second on its way
                    edits.append(threading.Thread(target=user_edit))
                    edits[0].start()
                    time.sleep(0.2)  # the edit waits for the push's commit
                return FakeAdapter.push_stock(self, updates)

        remote = UserEditsTheFirstListing.remote
        with patch.object(push_module, "PUSH_COMMIT_SECONDS", 3600):  # both batches in one commit
            self._cron_stock_push(channel_id, UserEditsTheFirstListing)
        edits[0].join(timeout=30)
        self.assertEqual(errors, [])
        self.assertEqual(sorted(remote.stock), external_ids, "sent where they were")
        pushed = self._cron_stock_push(channel_id, UserEditsTheFirstListing)
        self.assertEqual(remote.calls[2:], [("stock", 1)], "the moved listing only")
        self.assertEqual(pushed["moved-0"][:2], [False, remote.stock["moved-0"]])

    def test_calls_of_a_push_that_stopped_in_their_middle_are_covered_once_they_cannot_arrive(self):
        """A worker killed while a call waits for its answer: the call may still reach the
        channel after what the next run sends, and the requests to send its listings again
        after such a call were rolled back with the worker's transaction."""
        channel_id, external_ids = self._listings_of_a_channel_of_their_own(2)

        class WorkerKilled(BaseException):
            pass

        remote = FakeRemote()

        class KilledWaitingForTheAnswer(FakeAdapter):
            batch_size = 1

            def push_stock(self, updates):
                FakeAdapter.push_stock(self, updates)  # the channel takes it; its answer never comes
                raise WorkerKilled

        KilledWaitingForTheAnswer.remote = remote
        with self.assertRaises(WorkerKilled):
            self._cron_stock_push(channel_id, KilledWaitingForTheAnswer)
        self.assertEqual(remote.calls, [("stock", 1)])
        answering = type("Answering", (FakeAdapter,), {"remote": remote, "batch_size": 1})
        before = datetime.now(timezone.utc).replace(tzinfo=None)
        pushed = self._cron_stock_push(channel_id, answering)
        self.assertEqual(
            {name: pending for name, (pending, _qty, _at) in pushed.items()}, dict.fromkeys(external_ids, False)
        )
        with self.db.cursor() as cr:
            cr.execute(
                """
                SELECT b.external_id, r.cause, r.due_at FROM multichannel_sync_request r
                  JOIN multichannel_product_binding b ON b.id = r.binding_id
                 WHERE b.channel_id = %s AND r.kind = 'stock' ORDER BY b.external_id
                """,
                [channel_id],
            )
            again = cr.fetchall()
            cr.execute("SELECT count(*) FROM multichannel_push_under_way WHERE channel_id = %s", [channel_id])
            notes_left = cr.fetchone()[0]
        self.assertEqual(
            [(name, cause) for name, cause, _due in again], [(name, "unanswered call") for name in external_ids]
        )
        late = FakeAdapter.late_arrival_seconds
        for _name, _cause, due in again:
            self.assertAlmostEqual(due, before + timedelta(seconds=late), delta=timedelta(seconds=30))
        self.assertEqual(notes_left, 0, "a run that ends leaves no note")
        calls = len(remote.calls)
        self._cron_stock_push(channel_id, answering)
        self.assertEqual(len(remote.calls), calls, "nothing sent before the late calls can no longer arrive")

    def test_a_stock_push_sends_no_quantity_up_while_another_worker_imports_the_orders(self):
        """The order cron read the channel's new sales and imports them (not committed yet):
        a quantity going up sent meanwhile undid them on the channel, which had lowered its
        stock by itself. What goes down is sent; the rest once the import is over."""
        channel_id, (up, down) = self._listings_of_a_channel_of_their_own(2)
        remote = FakeRemote()
        adapter = type("LowersOnOrder", (FakeAdapter,), {"remote": remote, "lowers_stock_on_order": True})
        self._cron_stock_push(channel_id, adapter)
        shown = dict(remote.stock)
        with self.db.cursor() as cr:
            env = self._env(cr)
            listings = env["multichannel.product.binding"].search([("channel_id", "=", channel_id)])
            stock = env["multichannel.channel"].browse(channel_id).warehouse_ids.lot_stock_id
            for listing in listings:
                delta = 3 if listing.external_id == up else -2
                env["stock.quant"]._update_available_quantity(listing.product_id, stock, delta)
        lock_key = self.env["multichannel.channel"]._lock_key("order", channel_id)
        with self.db.cursor() as importing:
            importing.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock_key)
            pushed = self._cron_stock_push(channel_id, adapter)
            self.assertEqual(remote.stock, {up: shown[up], down: shown[down] - 2}, "only what goes down")
            self.assertEqual((pushed[up][0], pushed[down][0]), (True, False))
            importing.rollback()  # the import is over
        self._cron_stock_push(channel_id, adapter)
        self.assertEqual(remote.stock, {up: shown[up] + 3, down: shown[down] - 2})

    def test_a_listing_matched_to_another_product_after_its_value_was_worked_out_is_not_sent_it(self):
        """The push works out a chunk's quantities, then sends them batch by batch, committing
        in between: a listing a user matched to another product meanwhile was sent the old
        product's quantity, and settled with it."""
        channel_id, (first, second) = self._listings_of_a_channel_of_their_own(2)
        db, env_of = self.db, self._env
        with db.cursor() as cr:
            env = env_of(cr)
            other = env["product.product"].create({"name": "Other chair", "is_storable": True, "list_price": 50.0})
            stock = env["multichannel.channel"].browse(channel_id).warehouse_ids.lot_stock_id
            env["stock.quant"]._update_available_quantity(other, stock, 2)
            other_id = other.id

        class UserRematchesTheSecond(FakeAdapter):
            remote, batch_size = FakeRemote(), 1

            def push_stock(self, updates):
                if not self.remote.calls:  # the second listing's quantity is worked out already
                    with db.cursor() as cr:
                        listing = env_of(cr)["multichannel.product.binding"].search(
                            [("channel_id", "=", channel_id), ("external_id", "=", second)]
                        )
                        listing.product_id = other_id
                return FakeAdapter.push_stock(self, updates)

        remote = UserRematchesTheSecond.remote
        with patch.object(push_module, "PUSH_COMMIT_SECONDS", 0):  # a commit after each batch
            pushed = self._cron_stock_push(channel_id, UserRematchesTheSecond)
        self.assertEqual(list(remote.stock), [first], "not sent the old product's quantity")
        self.assertTrue(pushed[second][0], "pending, for its new product")
        self._cron_stock_push(channel_id, UserRematchesTheSecond)
        self.assertEqual(remote.stock[second], 2)
        self.assertEqual(self._cron_stock_push(channel_id, UserRematchesTheSecond)[second][:2], [False, 2])

    def test_a_push_takes_its_listings_in_the_order_of_their_ids(self):
        """Within one commit a push locks listings in ascending ids, as every push does, so
        that a stock push and a price push of the same listings never deadlock: listings
        below those it holds are taken after a commit."""
        channel_id, _external_ids = self._listings_of_a_channel_of_their_own(3)

        def locked_elsewhere(listing_id):
            with self.db.cursor() as other:
                try:
                    other.execute(
                        "SELECT id FROM multichannel_product_binding WHERE id = %s FOR NO KEY UPDATE NOWAIT",
                        [listing_id],
                        log_exceptions=False,
                    )
                except psycopg2.errors.LockNotAvailable:
                    return True
                return False

        with self.db.cursor() as cr:
            channel = self._env(cr)["multichannel.channel"].browse(channel_id)
            first, second, third = (
                channel.env["multichannel.product.binding"].search([("channel_id", "=", channel_id)], order="id").ids
            )
            held = push_module.HeldListings(channel, "stock", auto_commit=True)
            self.assertTrue(held.hold([second]) and held.hold([third]))
            self.assertEqual([locked_elsewhere(i) for i in (first, second, third)], [False, True, True])
            self.assertTrue(held.hold([first]))
            self.assertEqual(
                [locked_elsewhere(i) for i in (first, second, third)], [True, False, False], "after a commit"
            )
            cr.rollback()

    def test_a_push_failing_midway_sends_again_what_it_had_not_recorded(self):
        """The channel accepted two batches, then the run failed: what was not committed is
        rolled back, and those listings are still pending, so the next run sends them again."""
        channel_id, external_ids = self._listings_of_a_channel_of_their_own(3)

        class FailingThirdBatch(FakeAdapter):
            remote, batch_size = FakeRemote(), 1

            def push_stock(self, updates):
                if len(self.remote.calls) == 2:
                    self.remote.calls.append(("stock", len(updates)))
                    raise RuntimeError("a bug in the third batch")
                return FakeAdapter.push_stock(self, updates)

        remote = FailingThirdBatch.remote
        for interval, recorded in ((3600, []), (0, external_ids[:2])):
            with self.subTest(commit_every=interval):
                remote.calls.clear()
                remote.stock.clear()
                with self.db.cursor() as cr:
                    cr.execute(
                        "UPDATE multichannel_product_binding SET stock_pending = true, stock_pushed_at = NULL, "
                        "pushed_qty = 0 WHERE channel_id = %s",
                        [channel_id],
                    )
                    cr.execute("DELETE FROM multichannel_ledger WHERE channel_id = %s", [channel_id])
                with (
                    patch.object(push_module, "PUSH_COMMIT_SECONDS", interval),
                    self.assertLogs("odoo.addons.stock_multichannel.models.multichannel_channel_cron", "WARNING"),
                ):
                    pushed = self._cron_stock_push(channel_id, FailingThirdBatch)
                self.assertEqual(sorted(remote.stock), external_ids[:2], "the channel accepted two batches")
                self.assertEqual(
                    sorted(name for name, (pending, _qty, at) in pushed.items() if not pending and at), recorded
                )
                remote.calls.append(("a later run", 0))  # the next run's calls all succeed
                pushed = self._cron_stock_push(channel_id, FailingThirdBatch)
                sent_again = [name for name in external_ids if name not in recorded]
                self.assertEqual(remote.calls[4:], [("stock", 1)] * len(sent_again))
                self.assertEqual(
                    {name: (pending, qty) for name, (pending, qty, _at) in pushed.items()},
                    {name: (False, remote.stock[name]) for name in external_ids},
                    "every listing recorded as the channel shows it",
                )

    def _cron_order_import(self, external_ids, adapter=None, listing="cc-1"):
        """The order import as the cron runs it, the channel answering ``external_ids``
        (an order of one unit of ``listing`` each): {external id: (state, its sale order's
        transaction start or None)}, and the channel's watermark."""
        adapter = adapter or type("OrderAdapter", (FakeAdapter,), {"remote": self.remote, "acknowledges_orders": True})
        self.remote.orders = [self._data(external_id, listing) for external_id in external_ids]
        self.addCleanup(setattr, self.remote, "orders", [])
        with patch.object(self.channel_class, "_adapter_class", lambda channel: adapter), self.db.cursor() as cr:
            channel = self._env(cr)["multichannel.channel"].browse(self.channel_id)
            channel._run_isolated("order", lambda c: c._import_orders(auto_commit=True))
        with self.db.cursor() as cr:
            cr.execute(
                """
                SELECT o.external_id, o.state, s.create_date
                  FROM multichannel_order o
                  LEFT JOIN sale_order s ON s.id = o.sale_order_id
                 WHERE o.channel_id = %s AND o.external_id = ANY(%s)
                """,
                [self.channel_id, external_ids],
            )
            imported = {external_id: (state, at) for external_id, state, at in cr.fetchall()}
            cr.execute("SELECT order_watermark FROM multichannel_channel WHERE id = %s", [self.channel_id])
            return imported, cr.fetchone()[0]

    def test_a_fast_channel_s_orders_are_committed_together(self):
        """Each commit empties Odoo's cache, which the next order then reads again: orders
        of a channel that answers fast are imported in one transaction, each in its own
        savepoint. Past the commit interval, or after an order whose calls to the channel
        were slow (its rows would be held through the next order's calls), each order is
        committed on its own."""
        cases = (
            ("fast", 3600, 3600, 1, ["T-1", "T-2", "T-3"]),
            ("past the interval", 0, 3600, 3, ["T-4", "T-5", "T-6"]),
            ("slow calls", 3600, 0, 3, ["T-7", "T-8", "T-9"]),
        )
        for case, interval, slow_call, transactions, external_ids in cases:
            with (
                self.subTest(case),
                patch.object(order_import_module, "ORDER_COMMIT_SECONDS", interval),
                patch.object(order_import_module, "SLOW_CALL_SECONDS", slow_call),
            ):
                imported, _watermark = self._cron_order_import(external_ids)
                self.assertEqual([state for state, _at in imported.values()], ["done"] * 3)
                self.assertEqual(len({at for _state, at in imported.values()}), transactions)

    def test_stock_another_transaction_changed_between_two_orders_of_one_commit_is_read_again(self):
        """Odoo reserves by writing a quant's reserved quantity as read plus the new units; the
        import runs in READ COMMITTED and keeps its cache between orders of one commit. A
        reservation another transaction committed between two orders, on a quant the first
        order read but did not take, is not written over by the second."""
        with self.db.cursor() as cr:
            env = self._env(cr)
            warehouse = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            shelf = env["stock.location"].create({"name": "Shelf 2", "location_id": warehouse.lot_stock_id.id})
            product = env["product.product"].create({"name": "Two-shelf chair", "is_storable": True})
            Quant = env["stock.quant"]
            # the first quant (oldest) holds one unit: the first order takes it, the second the shelf's
            Quant._update_available_quantity(product, warehouse.lot_stock_id, 1, in_date=datetime(2020, 1, 1))
            Quant._update_available_quantity(product, shelf, 5, in_date=datetime(2021, 1, 1))
            env["multichannel.product.binding"].create(
                {"channel_id": self.channel_id, "product_id": product.id, "external_id": "shelves-1"}
            )
            shelf_id = shelf.id
        db, other_reservations = self.db, []

        class AnotherDeliveryReservesBetween(FakeAdapter):
            remote, acknowledges_orders = self.remote, True

            def acknowledge_order(self, external_id):
                if external_id == "Q-2":  # the first order reserved; another delivery reserves 2 on the shelf
                    with db.cursor() as cr:
                        cr.execute(
                            "UPDATE stock_quant SET reserved_quantity = reserved_quantity + 2 WHERE location_id = %s",
                            [shelf_id],
                        )
                        other_reservations.append(cr.rowcount)
                return FakeAdapter.acknowledge_order(self, external_id)

        with patch.object(order_import_module, "ORDER_COMMIT_SECONDS", 3600):  # both orders in one commit
            imported, _watermark = self._cron_order_import(["Q-1", "Q-2"], AnotherDeliveryReservesBetween, "shelves-1")
        self.assertEqual(other_reservations, [1])
        self.assertEqual(len({at for _state, at in imported.values()}), 1, "one transaction")
        with self.db.cursor() as cr:
            cr.execute("SELECT reserved_quantity FROM stock_quant WHERE location_id = %s", [shelf_id])
            self.assertEqual(cr.fetchone()[0], 3, "the other delivery's 2 and the second order's 1")

    def _set_watermark(self, watermark):
        with self.db.cursor() as cr:
            cr.execute(
                "UPDATE multichannel_channel SET order_watermark = %s WHERE id = %s", [watermark, self.channel_id]
            )

    def test_an_order_import_failing_midway_reads_again_what_it_had_not_committed(self):
        """Two orders imported, then the run fails (between orders: the worker, not an
        order): what was not committed is rolled back, the watermark with it, so the next
        run reads those orders again, asks the channel to acknowledge them again and
        imports each once."""
        seconds_on_calls = self.channel_class._seconds_on_calls
        for interval, kept, names in ((3600, [], ["F-1", "F-2", "F-3"]), (0, ["F-4", "F-5"], ["F-4", "F-5", "F-6"])):
            with (
                self.subTest(commit_every=interval),
                patch.object(order_import_module, "ORDER_COMMIT_SECONDS", interval),
            ):
                self.remote.acknowledged.clear()
                readings = []

                def failing_before_the_third_order(channel, readings=readings):
                    readings.append(1)
                    if len(readings) == 5:  # read before and after each order
                        raise RuntimeError("the worker failed after two orders")
                    return seconds_on_calls(channel)

                self._set_watermark("before the run")
                with (
                    patch.object(self.channel_class, "_seconds_on_calls", failing_before_the_third_order),
                    self.assertLogs(cron_module._logger.name, "WARNING"),
                ):
                    imported, watermark_after = self._cron_order_import(names)
                self.assertEqual(sorted(imported), kept, "only what was committed")
                self.assertEqual(watermark_after, "before the run")
                self.assertEqual(self.remote.acknowledged, names[:2])

                imported, watermark_after = self._cron_order_import(names)
                self.assertEqual({name: state for name, (state, _at) in imported.items()}, dict.fromkeys(names, "done"))
                self.assertEqual(
                    self._count(
                        "sale.order",
                        [("multichannel_external_ref", "in", names), ("multichannel_channel_id", "=", self.channel_id)],
                    ),
                    3,
                )
                self.assertEqual(self.remote.acknowledged, names[:2] + [name for name in names if name not in kept])
                self.assertEqual(watermark_after, "3")

    def test_an_order_failing_the_import_keeps_the_orders_before_it(self):
        """An order that cannot even be stored fails the run, as it did when each order was
        committed on its own: the orders imported before it in the same commit are kept,
        the watermark stays, and the next run goes on from there."""
        order_class = type(self.env["multichannel.order"])
        receive = order_class._receive

        def failing_on_the_second(orders, channel, data):
            if data["external_id"] == "P-2":
                raise RuntimeError("an order nothing can store")
            return receive(orders, channel, data)

        names = ["P-1", "P-2", "P-3"]
        self._set_watermark("before the run")
        with (
            patch.object(order_import_module, "ORDER_COMMIT_SECONDS", 3600),
            patch.object(order_class, "_receive", failing_on_the_second),
            self.assertLogs(cron_module._logger.name, "WARNING"),
        ):
            imported, watermark_after = self._cron_order_import(names)
        self.assertEqual({name: state for name, (state, _at) in imported.items()}, {"P-1": "done"})
        self.assertEqual(watermark_after, "before the run")
        imported, watermark_after = self._cron_order_import(names)
        self.assertEqual({name: state for name, (state, _at) in imported.items()}, dict.fromkeys(names, "done"))
        self.assertEqual(watermark_after, "3")

    def test_an_order_import_losing_its_channel_at_a_commit_leaves_the_rest_to_the_other_worker(self):
        """At a commit of the import another worker, waiting for the channel's order lock,
        takes it: the import stops there and writes no watermark, so the other worker reads
        the remaining orders from the last one committed."""
        db, lock_key = self.db, self.env["multichannel.channel"]._lock_key("order", self.channel_id)
        taken, release, waiting = threading.Event(), threading.Event(), []

        def other_worker():
            with db.cursor() as cr:
                cr.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock_key)
                taken.set()
                release.wait(30)

        class AnotherWorkerWaits(FakeAdapter):
            remote, acknowledges_orders = self.remote, True

            def acknowledge_order(self, external_id):
                if not waiting:  # the first order: another worker now waits for the channel
                    waiting.append(threading.Thread(target=other_worker))
                    waiting[0].start()
                    with db.cursor() as cr:
                        for _attempt in range(300):
                            cr.execute("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                            if cr.fetchone():
                                break
                            time.sleep(0.01)
                return FakeAdapter.acknowledge_order(self, external_id)

        self._set_watermark("before the run")
        try:
            with patch.object(order_import_module, "ORDER_COMMIT_SECONDS", 0):
                imported, watermark_after = self._cron_order_import(["W-1", "W-2"], AnotherWorkerWaits)
        finally:
            release.set()
            if waiting:
                waiting[0].join(timeout=30)
        self.assertTrue(taken.is_set())
        self.assertEqual({name: state for name, (state, _at) in imported.items()}, {"W-1": "done"})
        self.assertEqual(watermark_after, "before the run")

    def test_a_stock_push_and_a_price_push_of_the_same_listing_never_abort_each_other(self):
        """The price push waits for the channel's answer while the stock push settles the
        same listing and commits: both results are kept, nothing is rolled back."""
        remote = FakeRemote()
        answered, release = threading.Event(), threading.Event()
        SlowPriceAnswer = type(
            "SlowPriceAnswer", (SlowPriceAnswerAdapter,), {"remote": remote, "answered": answered, "release": release}
        )
        errors = []

        def price_push():
            try:
                with self.db.cursor() as cr:
                    channel = self._env(cr)["multichannel.channel"].browse(self.channel_id)
                    channel._run_isolated("price", lambda c: c._push("price", force=True, auto_commit=True))
            except Exception as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)

        with (
            patch.object(self.channel_class, "_adapter_class", lambda channel: SlowPriceAnswer),
            self.assertNoLogs("odoo.addons.stock_multichannel.models.multichannel_channel", "INFO"),
        ):
            thread = threading.Thread(target=price_push)
            thread.start()
            self.assertTrue(answered.wait(30), "the price push reached the channel")
            with self.db.cursor() as cr:
                channel = self._env(cr)["multichannel.channel"].browse(self.channel_id)
                channel._run_isolated("stock", lambda c: c._push("stock", force=True, auto_commit=True))
            release.set()
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        with self.db.cursor() as cr:
            env = self._env(cr)
            listing = env["multichannel.product.binding"].search([("external_id", "=", "cc-1")])
            channel = listing.channel_id
            self.assertFalse(channel.last_error, "no run failed")
            self.assertEqual(listing.pushed_qty, remote.stock["cc-1"])
            self.assertEqual(listing.pushed_price, remote.prices["cc-1"], "the accepted prices were kept")
            self.assertTrue(listing.price_pushed_at and listing.stock_pushed_at)
            # the next tests of the class start from a listing never pushed
            cr.execute(
                "UPDATE multichannel_product_binding SET stock_pending = true, pushed_qty = 0 WHERE id = %s",
                (listing.id,),
            )

    def test_a_change_begun_before_a_run_took_its_wake_up_wakes_the_next_run(self):
        """A transaction asking for a wake-up of its own (a cron's run queuing more work)
        that began before a run took the pending wake-up and drained the queue: it cannot
        count on that wake-up, whether the run is still going, over (Odoo then deleted its
        trigger), or another cron's run took its own wake-ups since. It asks for a new
        one, and its commit is never refused for the trigger it saw; the wake-up asked
        for after its commit finds that one pending."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        for case in ("run going", "run over", "another cron took since"):
            with self.subTest(case), self.db.cursor() as change, self.db.cursor() as run:
                with self.db.cursor() as earlier:
                    self._env(earlier)["multichannel.sync.request"]._queue("stock", "earlier", [self.product_id])
                    earlier.commit()  # pylint: disable=invalid-commit
                self.assertTrue(cron_wakeup.wait_until_sent())
                env = self._env(run)
                if case == "another cron took since":
                    # the run takes the wake-ups (not committed yet); the price cron's run
                    # takes its own and commits; then the change begins
                    env["multichannel.channel"]._consume_wakeups("stock")
                    with self.db.cursor() as price_run:
                        self._env(price_run)["multichannel.channel"]._consume_wakeups("price")
                        price_run.commit()  # pylint: disable=invalid-commit
                    change.execute("SELECT 1 FROM multichannel_product_binding")  # its snapshot
                else:
                    change.execute("SELECT 1 FROM multichannel_product_binding")  # its snapshot
                    env["multichannel.channel"]._consume_wakeups("stock")
                run.commit()  # pylint: disable=invalid-commit
                env["multichannel.sync.request"]._drain(env["multichannel.channel"].browse(self.channel_id), "stock")
                if case == "run over":  # what Odoo's scheduler does when a run ends
                    run.execute(
                        "DELETE FROM ir_cron_trigger WHERE cron_id = %s AND call_at < now() AT TIME ZONE 'UTC'",
                        [cron_id],
                    )
                run.commit()  # pylint: disable=invalid-commit
                self._env(change)["multichannel.sync.request"]._queue("stock", "later", [self.product_id])
                self._env(change)["multichannel.channel"]._trigger_realtime("stock")
                change.commit()  # pylint: disable=invalid-commit
                self.assertEqual(self._wake_ups_for_the_next_run(change, cron_id), 1)
                change.execute("SELECT cause FROM multichannel_sync_request")
                self.assertEqual(change.fetchall(), [("later",)], "what the next run drains")
                change.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
                change.execute("DELETE FROM multichannel_sync_request")
                change.commit()  # pylint: disable=invalid-commit

    def test_two_servers_fan_out_the_same_stock_changes_once_without_waiting(self):
        """The products whose stock moved are turned into listing requests by whichever push
        takes them first; a second server's push at the same moment skips them rather than
        waits, and neither a product nor a listing is requested twice."""
        Queue = "multichannel.sync.request"
        self._committed_stock_change()
        with self.db.cursor() as first, self.db.cursor() as second:
            self._env(first)[Queue]._fan_out_stock_changes()
            second.execute("SET lock_timeout = '2s'")  # a wait would fail, not hang
            started = time.monotonic()
            self._env(second)[Queue]._fan_out_stock_changes()
            self.assertLess(time.monotonic() - started, 1.0, "the second push did not wait")
            second.execute("SELECT count(*) FROM multichannel_sync_request WHERE transaction_id = txid_current()")
            self.assertEqual(second.fetchone()[0], 0, "taken by the first push")
            second.commit()  # pylint: disable=invalid-commit
            first.execute(
                """
                SELECT b.external_id FROM multichannel_sync_request r
                  JOIN multichannel_product_binding b ON b.id = r.binding_id
                 WHERE r.transaction_id = txid_current()
                """
            )
            self.assertEqual(first.fetchall(), [("cc-1",)], "one request for the product's listing")
            first.commit()  # pylint: disable=invalid-commit
        with self.db.cursor() as cr:
            cr.execute("SELECT count(*) FROM multichannel_stock_change")
            self.assertEqual(cr.fetchone()[0], 0, "every product taken once")
            cr.execute(
                "DELETE FROM ir_cron_trigger WHERE cron_id = %s",
                [self.env.ref("stock_multichannel.ir_cron_push_stock").id],
            )

    def test_a_run_meeting_stock_changes_another_push_holds_comes_back_in_a_moment(self):
        """A button's push holds the products it took until it commits (its requests for every
        channel's listings with it): the cron's run skips them rather than waits, and asks
        for a run a moment later, which finds them once that push committed."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        Queue = "multichannel.sync.request"
        self._committed_stock_change()
        with self.db.cursor() as button, self.db.cursor() as run:
            self._env(button)[Queue]._fan_out_stock_changes()
            run.execute("SET lock_timeout = '2s'")
            run.execute("SELECT now() AT TIME ZONE 'UTC'")
            now = run.fetchone()[0]
            with patch.object(cron_module, "notify_cron_workers_later") as notify_later:
                self._env(run)["multichannel.channel"].with_context(multichannel_cron=True)._push("stock")
                run.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s AND call_at > %s", [cron_id, now])
                self.assertEqual(run.fetchone()[0], 1, "a run in a moment")
                run.commit()  # pylint: disable=invalid-commit
            self.assertEqual(notify_later.call_count, 1, "the cron workers notified then")
            button.commit()  # pylint: disable=invalid-commit
            run.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            run.commit()  # pylint: disable=invalid-commit

    def test_a_button_push_whose_snapshot_missed_a_fan_out_goes_on(self):
        """A button's push works in one transaction with Odoo's snapshot isolation: rows
        another push took and committed after that snapshot are not a failure."""
        Queue = "multichannel.sync.request"
        self._committed_stock_change()
        with self.db.cursor() as button:
            button.execute("SELECT count(*) FROM multichannel_stock_change")  # its snapshot
            self.assertTrue(button.fetchone()[0])
            with self.db.cursor() as cron:
                cron.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                self._env(cron)[Queue]._fan_out_stock_changes()
                cron.commit()  # pylint: disable=invalid-commit
            env = self._env(button)
            self.assertFalse(env[Queue]._fan_out_stock_changes(), "nothing held by a push still going")
            button.execute("SELECT count(*) FROM multichannel_sync_request WHERE transaction_id = txid_current()")
            self.assertEqual(button.fetchone()[0], 0, "taken by the cron's push, not twice")
            button.execute("SELECT 1")  # the transaction goes on
            button.rollback()

    def test_a_stock_change_begun_before_a_run_took_its_wake_up_is_pushed_by_the_next_run(self):
        """The product row of a stock operation whose transaction began before a run took the
        pending wake-up: not seen by that run's fan-out; a new wake-up is asked for and the
        next run's fan-out turns it into the listing's request."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        Queue = "multichannel.sync.request"
        with self.db.cursor() as change, self.db.cursor() as run:
            with self.db.cursor() as earlier:
                self._env(earlier)[Queue]._queue_stock_changes([self.product_id])
                earlier.commit()  # pylint: disable=invalid-commit
            self.assertTrue(cron_wakeup.wait_until_sent())
            change.execute("SELECT 1 FROM multichannel_product_binding")  # its snapshot
            env = self._env(run)
            env["multichannel.channel"]._consume_wakeups("stock")
            run.commit()  # pylint: disable=invalid-commit
            self._env(change)[Queue]._queue_stock_changes([self.product_id])
            env[Queue]._drain(env["multichannel.channel"].browse(self.channel_id), "stock")
            run.commit()  # pylint: disable=invalid-commit
            change.commit()  # pylint: disable=invalid-commit
            self.assertEqual(self._wake_ups_for_the_next_run(change, cron_id), 1)
            change.execute("SELECT DISTINCT product_id FROM multichannel_stock_change")
            self.assertEqual(change.fetchall(), [(self.product_id,)], "what the next run fans out")
            next_env = self._env(run)
            next_env["multichannel.channel"]._consume_wakeups("stock")
            next_env[Queue]._fan_out_stock_changes()
            run.execute("SELECT count(*) FROM multichannel_sync_request WHERE transaction_id = txid_current()")
            self.assertEqual(run.fetchone()[0], 1, "its listing's request, for the next push")
            run.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            run.commit()  # pylint: disable=invalid-commit

    def test_while_a_long_transaction_counts_on_a_wake_up_no_run_nor_other_transaction_waits(self):
        """A transaction counting on a pending wake-up that goes on (a cron's long run, say):
        the run's take waits a moment for it, then leaves its wake-ups to a run a moment
        later and drains what is committed; another transaction meanwhile is never held."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        Queue = "multichannel.sync.request"
        with self.db.cursor() as first_run:
            self._env(first_run)["multichannel.channel"]._consume_wakeups("stock")
        with self.db.cursor() as earlier:
            self._env(earlier)[Queue]._queue("stock", "earlier", [self.product_id])
        self.assertTrue(cron_wakeup.wait_until_sent())
        with self.db.cursor() as long, self.db.cursor() as run:
            self._env(long)[Queue]._queue("stock", "long", [self.product_id])
            self._env(long)["multichannel.channel"]._trigger_realtime("stock")
            long.execute(
                """
                SELECT count(*) FROM ir_cron_trigger t JOIN multichannel_cron_wakeup w ON w.cron_id = t.cron_id
                 WHERE t.cron_id = %s AND t.call_at > w.taken_at
                """,
                [cron_id],
            )
            self.assertEqual(long.fetchone()[0], 1, "it counts on the pending wake-up: none of its own")
            started = time.monotonic()
            with patch.object(cron_module, "notify_cron_workers_later") as notify_later:
                self._env(run)["multichannel.channel"]._consume_wakeups("stock")
                run.commit()  # pylint: disable=invalid-commit
            self.assertLess(time.monotonic() - started, 2.0, "the run waited a moment only")
            self.assertEqual(notify_later.call_count, 1, "the cron workers notified in a moment")
            with self.db.cursor() as other:
                other.execute("SET lock_timeout = '3s'")  # held by the long one: a failure, not a hang
                self._env(other)[Queue]._queue("stock", "other", [self.product_id])
                other.commit()  # pylint: disable=invalid-commit
            long.commit()  # pylint: disable=invalid-commit
        self.assertTrue(cron_wakeup.wait_until_sent())
        with self.db.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s AND call_at > now() AT TIME ZONE 'UTC'",
                [cron_id],
            )
            self.assertEqual(cr.fetchone()[0], 1, "a run a moment later")
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            cr.execute("DELETE FROM multichannel_sync_request")

    def test_a_stock_operation_wakes_the_push_after_its_commit_once_while_pending(self):
        """Odoo's own stock operation queues its product and commits without reading or
        writing the push cron's wake-ups; after its commit, the process's notifier thread
        asks for one and notifies the cron workers: once, none more while it is pending,
        a new one once a run took it."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        connection = self._listening_as_the_cron_workers()

        def heard():
            """Notifications of this database the cron workers got since the last call."""
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if select.select([connection], [], [], 0.1)[0]:
                    connection.poll()
            payloads = [notify.payload for notify in connection.notifies]
            connection.notifies.clear()
            return payloads.count(self.env.cr.dbname)

        def stock_operation():
            with self.db.cursor() as cr:
                cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
                before = cr.fetchone()[0]
                self._env(cr)["multichannel.sync.request"]._queue_stock_changes([self.product_id])
                cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
                self.assertEqual(cr.fetchone()[0], before, "no trigger in the operation's transaction")
                cr.execute("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'")
                self.assertEqual(cr.fetchall(), [], "nor the wake-ups' lock")
            with self.db.cursor() as cr:
                return self._wake_ups_for_the_next_run(cr, cron_id), heard()

        with self.db.cursor() as run:
            self._env(run)["multichannel.channel"]._consume_wakeups("stock")
        heard()
        self.assertEqual(stock_operation(), (1, 1), "one wake-up after the commit, the workers notified")
        self.assertEqual(stock_operation(), (1, 0), "the pending one is enough")
        with self.db.cursor() as run:  # a run takes the wake-ups, then drains the queue
            self._env(run)["multichannel.channel"]._consume_wakeups("stock")
        self.assertEqual(stock_operation(), (1, 1), "what comes after the take wakes the next run")
        with self.db.cursor() as cr:
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            cr.execute("DELETE FROM multichannel_stock_change")

    def test_a_wake_up_asked_for_while_a_run_takes_the_pending_one_is_a_new_one(self):
        """A stock operation committing while a run is taking the pending wake-up (its take
        not committed yet): the thread asking for its wake-up does not count on the one
        being taken, and the next run is woken."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        with self.db.cursor() as first_run:  # no trigger left by earlier tests (a retry later, say)
            first_run.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            self._env(first_run)["multichannel.channel"]._consume_wakeups("stock")
        self._committed_stock_change()
        with self.db.cursor() as cr:
            self.assertEqual(self._wake_ups_for_the_next_run(cr, cron_id), 1, "a wake-up pending")
        with self.db.cursor() as run:
            self._env(run)["multichannel.channel"]._consume_wakeups("stock")
            with self.db.cursor() as change:
                self._env(change)["multichannel.sync.request"]._queue_stock_changes([self.product_id])
            self.assertTrue(cron_wakeup.wait_until_sent(), "the thread never waits for the take")
            run.commit()  # pylint: disable=invalid-commit
        with self.db.cursor() as cr:
            self.assertEqual(self._wake_ups_for_the_next_run(cr, cron_id), 1, "a new one for the next run")
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
            cr.execute("DELETE FROM multichannel_stock_change")

    def test_a_retry_in_a_moment_notifies_the_cron_workers_then(self):
        """A channel backing off for a second: Odoo's trigger for then notifies nobody, so the
        cron workers saw it at their next poll, up to a minute later. They are notified
        when it is due, not before."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_push_stock").id
        connection = self._listening_as_the_cron_workers()
        with self.db.cursor() as cr:
            at = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=0.8)
            self._env(cr)["multichannel.channel"]._wake_at("stock", at)
            cr.execute("SELECT call_at FROM ir_cron_trigger WHERE cron_id = %s ORDER BY id DESC LIMIT 1", [cron_id])
            self.assertAlmostEqual(cr.fetchone()[0], at, delta=timedelta(seconds=1), msg="the trigger the workers run")
            committed = time.monotonic()
        heard = None
        while heard is None and time.monotonic() - committed < 10:
            select.select([connection], [], [], 0.2)
            connection.poll()
            while connection.notifies:
                if connection.notifies.pop(0).payload == self.env.cr.dbname:
                    heard = time.monotonic() - committed
        with self.db.cursor() as cr:
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
        self.assertIsNotNone(heard, "the cron workers were notified")
        self.assertGreater(heard, 0.5, "not before the trigger is due")
        self.assertLess(heard, 3.0)

    def test_a_dated_prices_run_that_fails_is_run_again_in_minutes_not_the_next_day(self):
        """A failed run takes back the next moment's trigger it asked for, and Odoo runs the
        cron again at its next day: the run asks for its retry before it works."""
        cron_id = self.env.ref("stock_multichannel.ir_cron_dated_prices").id

        def retries(cr):
            cr.execute(
                """
                SELECT count(*) FROM ir_cron_trigger
                 WHERE cron_id = %s AND call_at BETWEEN (now() AT TIME ZONE 'UTC') + interval '9 minutes'
                                                    AND (now() AT TIME ZONE 'UTC') + interval '11 minutes'
                """,
                [cron_id],
            )
            return cr.fetchone()[0]

        with self.db.cursor() as cr:
            cr.execute("SELECT coalesce(max(id), 0) FROM multichannel_sync_request")
            requests_before = cr.fetchone()[0]

        def clean_up():
            with self.db.cursor() as cr:
                cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron_id])
                cr.execute("DELETE FROM multichannel_dated_prices_run")
                cr.execute("DELETE FROM multichannel_sync_request WHERE id > %s", [requests_before])

        self.addCleanup(clean_up)
        with self.db.cursor() as cr:
            # as Odoo's cron worker runs it (not "Run Manually", in a request's transaction)
            Channel = self._env(cr)["multichannel.channel"].with_context(cron_id=cron_id)
            with patch.object(type(Channel), "_next_dated_price", side_effect=OSError), self.assertRaises(OSError):
                Channel._cron_queue_dated_prices()
            cr.rollback()  # pylint: disable=invalid-commit
        with self.db.cursor() as cr:
            self.assertEqual(retries(cr), 1, "the failed run is tried again")
            self._env(cr)["multichannel.channel"].with_context(cron_id=cron_id)._cron_queue_dated_prices()
            cr.commit()  # pylint: disable=invalid-commit
            self.assertEqual(retries(cr), 1, "a run that succeeds leaves the others' retries")
            cr.execute("SELECT count(*) FROM multichannel_dated_prices_run")
            self.assertEqual(cr.fetchone()[0], 1, "the moment it worked at is kept")
