"""One bad order, listing or channel never stops the others."""

from unittest.mock import patch

import psycopg2

from odoo import Command, fields
from odoo.tests import tagged

from ..lib import retry
from ..lib.adapter import TransportError
from ..models import multichannel_channel_cron as cron_module
from .common import MultichannelCase, order_data


def good_order(external_id):
    return order_data(external_id, total=None)


@tagged("post_install", "-at_install")
class TestPoisonOrders(MultichannelCase):
    def _orders(self, *external_ids):
        return self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "in", external_ids)]
        )

    def test_bad_orders_are_kept_to_fix_and_the_good_ones_imported(self):
        nul = good_order("P-NUL")
        nul["customer"]["name"] = "Ana\x00 Pop"
        nul["note"] = "ring\x00 twice"
        bad_date = good_order("P-DATE")
        bad_date["date"] = "yesterday at noon"
        huge = good_order("P-HUGE")
        huge["lines"][0]["quantity"] = "1e400"
        self.remote.orders = [good_order("P-1"), nul, bad_date, huge, ["not", "an", "order"], good_order("P-2")]
        self.channel._import_orders()
        orders = {order.external_id: order for order in self._orders("P-1", "P-NUL", "P-DATE", "P-HUGE", "P-2")}
        self.assertEqual(orders["P-1"].state, "done")
        self.assertEqual(orders["P-2"].state, "done", "the order after the bad ones is imported")
        self.assertEqual(orders["P-NUL"].state, "done", "NUL characters are dropped, the order kept")
        self.assertEqual(orders["P-NUL"].sale_order_id.partner_id.name, "Ana Pop")
        self.assertEqual(orders["P-DATE"].state, "error")
        self.assertIn("date: not a date", orders["P-DATE"].error)
        self.assertEqual(orders["P-HUGE"].state, "error")
        self.assertIn("quantity: out of range", orders["P-HUGE"].error)
        unreadable = self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("state", "=", "error"), ("external_id", "=like", "no-id:%")]
        )
        self.assertIn("not an object", unreadable.error)
        self.assertEqual(unreadable.name, f"{self.channel.name} (no id)", "the digest is no order number")
        self.assertEqual(self.channel.order_watermark, "6", "the watermark moved past every order")
        self.assertFalse(self.channel.last_error)

    def test_an_answer_of_the_wrong_shape_is_noted_and_the_next_read_works(self):
        self.remote.faults = [TypeError("list indices must be integers or slices, not str")]
        self.remote.orders = [good_order("S-1")]
        self.channel._import_orders()
        self.assertIn("could not be read", self.channel.last_error)
        self.assertFalse(self._orders("S-1"))
        self.channel._import_orders()
        self.assertEqual(self._orders("S-1").state, "done")

    def test_an_order_unreadable_after_its_acknowledgement_is_kept(self):
        self.adapter_class.acknowledges_orders = True
        changed = good_order("A-1")
        changed["lines"] = "changed between the two reads"
        self.patch(
            self.adapter_class, "acknowledge_order", lambda adapter, external_id: dict(changed, external_id=external_id)
        )
        self.remote.orders = [good_order("A-1"), good_order("A-2")]
        self.channel._import_orders()
        first, second = self._orders("A-1"), self._orders("A-2")
        self.assertTrue(first.acknowledged, "acknowledged on the channel, so stored in Odoo")
        self.assertEqual(first.state, "error")
        self.assertIn("after acknowledging", first.error)
        self.assertEqual(second.state, "error", "the same fault for the same reason, but each on its own")

    def test_a_late_webhook_never_goes_backwards(self):
        Order = self.env["multichannel.order"]
        cancelled = good_order("L-1")
        cancelled.update(status="cancelled", modified="2026-11-27 10:05:00")
        stale = good_order("L-1")
        stale.update(status="open", modified="2026-11-27 10:00:00")
        order = Order._receive(self.channel, cancelled)
        self.assertEqual(order.state, "skipped")
        self.assertIsNone(Order._receive(self.channel, stale))
        self.assertEqual(order.state, "skipped", "a cancelled order is never revived by an older body")
        self.assertFalse(order.sale_order_id)
        imported = good_order("L-2")
        imported["modified"] = "2026-11-27 10:00:00"
        order = Order._receive(self.channel, imported)
        old_cancel = dict(imported, status="cancelled", modified="2026-11-27 09:59:00")
        Order._receive(self.channel, old_cancel)
        self.assertEqual(order.sale_order_id.state, "sale")
        newer_cancel = dict(imported, status="cancelled", modified="2026-11-27 10:01:00")
        Order._receive(self.channel, newer_cancel)
        self.assertEqual(order.sale_order_id.state, "cancel")

    def test_a_read_saying_not_acknowledged_is_older_than_one_saying_acknowledged(self):
        """Within one second of the channel's dates: a channel never takes an acknowledgement back."""
        Order = self.env["multichannel.order"]
        after = dict(good_order("K-1"), modified="2026-11-27 10:00:00", acknowledged=True)
        after["lines"] = "changed on the acknowledgement"
        order = Order._receive(self.channel, after)
        self.assertEqual(order.state, "error")
        before = dict(good_order("K-1"), modified="2026-11-27 10:00:00", acknowledged=False)
        self.assertIsNone(Order._receive(self.channel, before))
        self.assertEqual((order.state, order.payload["lines"]), ("error", "changed on the acknowledgement"))
        self.assertFalse(order.sale_order_id)
        # a channel that does not say (a cancellation of eMAG's) is read as it comes
        cancelled = dict(good_order("K-1"), status="cancelled", modified="2026-11-27 10:00:00", acknowledged=None)
        Order._receive(self.channel, cancelled)
        self.assertEqual((order.state, order.channel_status), ("skipped", "cancelled"))


@tagged("post_install", "-at_install")
class TestIsolatedPushes(MultichannelCase):
    def setUp(self):
        super().setUp()
        # crons commit per batch and roll back a failed channel; the test keeps its transaction
        self.patch(self.env.cr, "commit", lambda: None)
        self.patch(self.env.cr, "rollback", lambda: None)

    def test_a_listing_the_connector_cannot_translate_goes_alone_to_error(self):
        lamp = self._product("Lamp", "LAMP-WHT", 15.0)
        self._set_stock(lamp, 3)
        poison = self._listing(lamp, "LAMP-WHT")
        push_stock = self.adapter_class.push_stock

        def strict_push(adapter, updates):
            for update in updates:
                if not update.external_id.startswith("ext-"):
                    int(update.external_id)  # what a connector with numeric ids does
            return push_stock(adapter, updates)

        self.patch(self.adapter_class, "push_stock", strict_push)
        self.channel._push("stock")
        self.assertEqual(poison.state, "error")
        self.assertIn("check its external ID", poison.last_error)
        self.assertEqual((self.remote.stock["ext-chair"], self.remote.stock["ext-desk"]), (100, 10))

    def test_a_temporary_fault_makes_the_cron_come_back_later_without_sleeping(self):
        self.channel.write({"stock_schedule": "realtime", "retry_attempts": 4, "retry_delay": 30.0})

        def no_sleep(seconds):
            raise AssertionError(f"a cron worker slept {seconds} s")

        self.patch(retry.time, "sleep", no_sleep)
        self.remote.faults = [TransportError("the channel did not answer within 30 s", retry_after=120)]
        self.env["multichannel.channel"]._cron_push_stock()
        self.assertEqual(self.remote.calls, [("stock", 2)], "tried once")
        self.assertEqual(self.channel.stock_failures, 1)
        self.assertGreater(self.channel.stock_retry_at, self.channel.last_error_at)
        self.assertFalse(self.channel._is_due("stock"))
        cron = self.env.ref("stock_multichannel.ir_cron_push_stock")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertIn(self.channel.stock_retry_at, triggers.mapped("call_at"), "the cron comes back for it then")
        self.assertTrue(self.chair_listing.stock_pending, "nothing lost")
        self.channel.stock_retry_at = False
        self.env["multichannel.channel"]._cron_push_stock()
        self.assertEqual(self.remote.stock["ext-chair"], 100)
        self.assertEqual((self.channel.stock_failures, self.channel.stock_retry_at), (0, False))

    def test_a_channel_asking_to_slow_down_is_come_back_to_when_it_says(self):
        self.channel.write({"stock_schedule": "realtime", "retry_delay": 30.0, "stock_failures": 3})
        self.remote.faults = [TransportError("slow down (HTTP 429)", retry_after=2, rate_limited=True)]
        before = fields.Datetime.now()
        self.env["multichannel.channel"]._cron_push_stock()
        self.assertEqual(self.channel.stock_failures, 3, "a rate limit is not one more fault")
        waited = (self.channel.stock_retry_at - before).total_seconds()
        self.assertLessEqual(waited, 3, "its hint, not 30 s doubled three times")
        self.assertTrue(self.chair_listing.stock_pending, "nothing lost")
        self.remote.faults = [TransportError("the channel did not answer within 30 s")]
        self.channel.stock_retry_at = False
        self.env["multichannel.channel"]._cron_push_stock()
        self.assertEqual(self.channel.stock_failures, 4)
        waited = (self.channel.stock_retry_at - fields.Datetime.now()).total_seconds()
        self.assertGreater(waited, 200, "a real fault still doubles the wait: 30 s × 2³")

    def test_one_channels_fault_never_stops_another(self):
        self.channel.stock_schedule = "realtime"
        other = self.env["multichannel.channel"].create(
            {
                "name": "Second Marketplace",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": self.pricelist.id,
                "stock_schedule": "realtime",
            }
        )
        self._listing(self.chair, "second-chair", channel=other)
        push_stock = self.adapter_class.push_stock

        def broken_for_the_first(adapter, updates):
            if adapter.channel == self.channel:
                raise RuntimeError("the connector crashed")
            return push_stock(adapter, updates)

        self.patch(self.adapter_class, "push_stock", broken_for_the_first)
        self.env["multichannel.channel"]._cron_push_stock()
        self.assertEqual(self.remote.stock["second-chair"], 100)
        self.assertIn("the connector crashed", self.channel.last_error)

    def test_a_deadlock_with_another_writer_is_routine_for_a_run(self):
        """A user's edit of several listings met the push's row locks in another order:
        PostgreSQL aborts one of them. For the run it is routine: rolled back, no fault
        noted, and the next run comes at once."""
        raised = []

        def deadlocked(adapter, updates):
            raised.append(len(updates))
            raise psycopg2.errors.DeadlockDetected("deadlock detected")

        self.patch(self.adapter_class, "push_stock", deadlocked)
        with (
            patch.object(cron_module._logger, "info") as info,
            patch.object(cron_module._logger, "warning") as warning,
            patch.object(type(self.channel), "_trigger_realtime", autospec=True) as next_run,
        ):
            self.channel._run_isolated("stock", lambda channel: channel._push("stock", auto_commit=True))
        self.assertTrue(raised)
        self.assertIn("met a concurrent update", info.call_args.args[0])
        warning.assert_not_called()
        self.assertFalse(self.channel.last_error)
        self.assertIn(self.channel, [call.args[0] for call in next_run.call_args_list])

    def test_buttons_say_what_really_happened(self):
        self.channel.retry_delay = 0.0
        self.remote.faults = [TransportError("HTTP 503")] * 4
        action = self.channel.action_push_stock()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("HTTP 503", action["params"]["message"])
        self.remote.refuse["ext-desk"] = "offer suspended"
        action = self.channel.action_push_stock()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("1 listings are in error", action["params"]["message"])
        action = self.channel.action_push_prices()
        self.assertEqual(action["params"]["type"], "warning", "the desk is still refused")
        del self.remote.refuse["ext-desk"]
        self.channel.action_push_stock()
        action = self.channel.action_push_prices()
        self.assertEqual(action["params"]["type"], "success")


@tagged("post_install", "-at_install")
class TestChannelFacts(MultichannelCase):
    def test_the_sale_keeps_the_channels_order_date(self):
        self.channel.order_import_since = "2026-11-01 00:00:00"
        order = self.env["multichannel.order"]._receive(
            self.channel, order_data("D-1", total=None, date="2026-11-20 05:25:38")
        )
        self.assertEqual(order.sale_order_id.state, "sale")
        self.assertEqual(str(order.sale_order_id.date_order), "2026-11-20 05:25:38")

    def test_a_newly_connected_channels_history_is_not_sold_again(self):
        channel = self.env["multichannel.channel"].create(
            {
                "name": "Connected today",
                "pricelist_id": self.pricelist.id,
                "customer_country_id": self.env.ref("base.ro").id,
            }
        )
        self.assertTrue(channel.order_import_since, "set when the channel is created: now")
        self._listing(self.chair, "ext-chair", channel=channel)
        channel.order_import_since = "2026-11-27 08:00:00"
        free_before = channel._available_quantities(self.chair)[self.chair.id]
        Order = self.env["multichannel.order"]
        old = Order._receive(channel, order_data("H-1", total=None, date="2026-10-02 10:00:00"))
        new = Order._receive(channel, order_data("H-2", total=None, date="2026-11-27 08:00:01"))
        self.assertEqual(old.state, "skipped", "the channel's past is kept, not sold again")
        self.assertIn("before orders were imported", old.warning)
        self.assertFalse(old.sale_order_id)
        self.assertFalse(old.pending_quantities, "and takes no stock")
        self.assertEqual(new.state, "done")
        self.assertEqual(channel._available_quantities(self.chair)[self.chair.id], free_before - 2)

    def test_an_archived_channel_sends_nothing(self):
        order = self.env["multichannel.order"]._receive(self.channel, order_data("Z-1", total=None))
        order.sale_order_id._action_cancel()
        self.assertTrue(order.status_pending)
        self.channel.active = False
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [])
        self.assertFalse(self.env["multichannel.channel"]._cron_channels("stock"))
        self.channel.active = True
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.remote.statuses, [("Z-1", "cancelled")])
