import os
import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

from odoo.tests import tagged

from ..api import translate
from ..api.client import EmagClient
from ..simulator.emag_simulator import now_text
from .common import EmagCase


@tagged("post_install", "-at_install")
class TestEmagOrders(EmagCase):
    def setUp(self):
        super().setUp()
        self.sim.offers[1001]["stock"][0]["value"] = 100
        self.sim.offers[1002]["stock"][0]["value"] = 10

    def _orders(self, external_id):
        return self.env["multichannel.order"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", str(external_id))]
        )

    def test_an_order_is_acknowledged_imported_once_and_finalized(self):
        placed = self.sim.place_order([(1001, 2), (1002, 1)], shipping_tax=24.2)
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 2, "acknowledged on eMAG")
        sale = order.sale_order_id
        self.assertEqual(sale.state, "sale")
        self.assertEqual(sorted(sale.order_line.mapped("price_unit")), [20.0, 500.0, 1200.0])
        self.assertEqual(
            set(sale.order_line.filtered(lambda line: line.product_id == self.chair).tax_id.ids), set(self.vat21.ids)
        )
        self.assertAlmostEqual(sale.amount_total, (2 * 500 + 1200) * 1.21 + 24.2)
        self.assertFalse(sale.multichannel_total_mismatch)
        self.assertEqual(sale.partner_id.city, "Bucuresti")
        # read again (new + modified windows overlap): still one order
        self.channel._import_orders()
        self.assertEqual(
            self.env["sale.order"].search_count(
                [
                    ("multichannel_channel_id", "=", self.channel.id),
                    ("multichannel_external_ref", "=", str(placed["id"])),
                ]
            ),
            1,
        )
        # delivered in Odoo: finalized on eMAG
        for picking in sale.picking_ids:
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.button_validate()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 4)
        self.assertEqual(order.status_sent, "shipped")
        saved = self.sim.requests_to("order/save")
        self.assertEqual(len(saved), 1)

    def test_a_status_write_is_never_blindly_retried(self):
        placed = self.sim.place_order([(1001, 1)])
        self.channel._import_orders()
        order = self._orders(placed["id"])
        order.sale_order_id._action_cancel()
        self.channel.emag_timeout = 0.5
        self.sim.add_fault("timeout", "order/save", delay=1.2, after_processing=True)
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 0)
        self.assertEqual(self.sim.orders[placed["id"]]["reason_cancellation"], 31)
        self.assertEqual(order.status_sent, "cancelled")
        self.assertEqual(len(self.sim.requests_to("order/save")), 1, "re-read, found cancelled, not sent again")

    def test_cancelled_on_emag_after_import(self):
        placed = self.sim.place_order([(1002, 2)])
        self.channel._import_orders()
        sale = self._orders(placed["id"]).sale_order_id
        self.assertEqual(sale.state, "sale")
        self.sim.customer_cancel(placed["id"])
        self.channel._import_orders()
        self.assertEqual(sale.state, "cancel")
        self.assertEqual(self._orders(placed["id"]).state, "cancelled")
        self.env["multichannel.order"]._send_statuses()
        self.assertFalse(self.sim.requests_to("order/save"), "nothing to tell eMAG")

    def test_a_customers_request_to_cancel_is_put_to_the_seller(self):
        """eMAG leaves a request to cancel an order already taken to the seller: it must not
        be shipped unseen. Said once on the sale order, with an activity."""
        placed = self.sim.place_order([(1002, 2)])
        self.channel._import_orders()
        sale = self._orders(placed["id"]).sale_order_id
        self.sim.customer_asks_to_cancel(placed["id"])
        self.channel._import_orders()
        self.assertEqual(sale.state, "sale", "the seller decides")
        self.assertEqual(sale.activity_ids.summary, "Cancellation asked on the channel")
        self.assertIn("asked to cancel order", sale.activity_ids.note)
        self.assertIn("(Customer request)", sale.activity_ids.note)
        self.channel._import_orders()  # read again (the windows overlap): said once
        self.assertEqual(len(sale.activity_ids), 1)
        sale._action_cancel()  # the seller agrees: eMAG is told
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 0)

    def test_an_order_arriving_cancelled_is_not_created(self):
        placed = self.sim.place_order([(1001, 1)])
        self.sim.customer_cancel(placed["id"])
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "skipped")
        self.assertFalse(order.sale_order_id)

    def test_an_order_first_seen_finalized_is_still_a_sale(self):
        """The warehouse acknowledged the order and issued its AWB in eMAG's screens while
        Odoo's order cron was away: eMAG finalized it (4). The units left the shelf, so
        Odoo imports it and counts them; nothing is sent back to eMAG. A returned one (5)
        gave its units back and is not imported."""
        shipped = self.sim.place_order([(1002, 2)])
        returned = self.sim.place_order([(1001, 1)])
        for placed in (shipped, returned):
            self.sim.orders[placed["id"]]["status"] = 2
            self.sim._set_order_status(self.sim.orders[placed["id"]], 4)
        self.sim.customer_return(returned["id"])
        self.channel._import_orders()
        order = self._orders(shipped["id"])
        self.assertEqual((order.state, order.sale_order_id.state), ("done", "sale"))
        self.assertEqual(self.desk.free_qty, 8, "its 2 desks are reserved in Odoo")
        self.assertEqual(self.sim.orders[shipped["id"]]["status"], 4)
        self.assertEqual(self._orders(returned["id"]).state, "skipped")
        self.assertFalse(self._orders(returned["id"]).sale_order_id)
        for picking in order.sale_order_id.picking_ids:  # the warehouse records the shipment in Odoo too
            picking.move_ids.quantity = 2
            picking.button_validate()
        self.assertEqual(order.status_to_send, "shipped")
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(order.status_sent, "shipped")
        self.assertFalse(self.sim.requests_to("order/save"), "eMAG is there already")

    def test_a_return_after_the_shipment_is_handed_to_a_human(self):
        """eMAG's returned (5) was followed silently: the goods come back and nobody was
        asked to receive them nor to make the credit note."""
        placed = self.sim.place_order([(1002, 2)])
        self.channel._import_orders()
        order = self._orders(placed["id"])
        sale = order.sale_order_id
        for picking in sale.picking_ids:
            picking.move_ids.quantity = 2
            picking.button_validate()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 4)
        self.sim.customer_return(placed["id"])
        self.channel._import_orders()
        self.assertEqual(order.channel_status, "cancelled")
        self.assertIn("returned on the channel after it was shipped", order.warning)
        self.assertIn(order.warning, sale.activity_ids.mapped("summary"))
        self.assertEqual(sale.state, "sale", "what was shipped stays as it was")

    def test_an_order_skipped_as_finalized_before_the_upgrade_stays_aside(self):
        """Before finalized orders were imported, one was skipped as closed and handled by
        hand. Read again (a later change on eMAG), it is not imported now: its units would
        be counted twice."""
        placed = self.sim.place_order([(1002, 2)])
        self.sim.orders[placed["id"]]["status"] = 4
        with patch.dict(translate.CORE_STATUS, {4: "closed"}):  # the mapping of earlier versions
            self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual((order.state, order.channel_status), ("skipped", "closed"))
        changed = self.sim.orders[placed["id"]]["modified"] = now_text()  # changed on eMAG since
        self.channel._import_orders()
        self.assertEqual(order.payload["modified"], translate.utc_date(changed, "Europe/Bucharest"), "read again")
        self.assertEqual(order.state, "skipped")
        self.assertFalse(order.sale_order_id)

    def test_a_cancellation_weeks_old_is_still_read(self):
        """The channel's order import was off for six weeks; meanwhile the customer cancelled
        an imported order. eMAG reads at most a month of changes per request: the gap is
        read window after window, none longer than a month, and the Odoo order is cancelled."""
        now = datetime.now(ZoneInfo("Europe/Bucharest")).replace(tzinfo=None)
        self.channel.order_import_since = now - timedelta(days=60)
        placed = self.sim.place_order([(1002, 1)])
        weeks_ago = (now - timedelta(days=41)).strftime("%Y-%m-%d %H:%M:%S")
        self.sim.orders[placed["id"]].update(date=weeks_ago, modified=weeks_ago)
        self.channel._import_orders()
        order = self._orders(placed["id"])
        order.payload = dict(order.payload, modified=weeks_ago)  # imported then, as eMAG showed it then
        sale = order.sale_order_id
        self.assertEqual(sale.state, "sale")
        self.sim.customer_cancel(placed["id"])
        self.sim.orders[placed["id"]]["modified"] = (now - timedelta(days=35)).strftime("%Y-%m-%d %H:%M:%S")
        self.channel.order_watermark = (now - timedelta(days=42)).strftime("%Y-%m-%d %H:%M:%S")
        self.sim.log.clear()
        self.channel._import_orders()
        self.assertEqual(sale.state, "cancel")
        windows = [
            (entry["payload"]["modifiedAfter"], entry["payload"]["modifiedBefore"])
            for entry in self.sim.requests_to("order/read")
            if "modifiedAfter" in entry["payload"]
        ]
        self.assertEqual(len(windows), 2)
        self.assertEqual(windows[0][1], windows[1][0], "the second window starts where the first ended")
        self.assertGreaterEqual(self.channel.order_watermark, now.strftime("%Y-%m-%d %H:%M"))

    def test_cancelled_by_the_customer_before_acknowledge(self):
        placed = self.sim.place_order([(1001, 1)])
        self.sim.add_fault("timeout", "order/acknowledge", delay=0)  # no effect: just a hook point
        original = self.sim.order_acknowledge

        def cancel_then_acknowledge(rest, entry):
            self.sim.customer_cancel(placed["id"])
            return original(rest, entry)

        self.sim.order_acknowledge = cancel_then_acknowledge
        try:
            self.channel._import_orders()
        finally:
            self.sim.order_acknowledge = original
        order = self._orders(placed["id"])
        self.assertFalse(order.sale_order_id)
        # eMAG refused to acknowledge a cancelled order: the order read again says why, and
        # it is settled in the same run, not left in error until the next poll re-reads it
        self.assertEqual((order.state, order.error, order.channel_status), ("skipped", False, "cancelled"))
        self.assertEqual(self.sim.orders[placed["id"]]["status"], 0)

    def test_an_order_acknowledged_by_a_run_rolled_back_is_imported_by_the_next(self):
        """A run acknowledged the order on eMAG, then was rolled back before its commit: the
        next run reads the order in progress and imports it, whether eMAG takes a second
        acknowledgement or refuses it."""
        for strict in (False, True):
            with self.subTest(strict_acknowledge=strict):
                self.sim.strict_acknowledge = strict
                placed = self.sim.place_order([(1001, 1)])
                self.sim.order_acknowledge([str(placed["id"])], {})  # the rolled-back run's call
                self.channel._import_orders()
                order = self._orders(placed["id"])
                self.assertEqual(order.state, "done", order.error)
                self.assertEqual(order.sale_order_id.state, "sale")
                self.assertEqual(self.sim.orders[placed["id"]]["status"], 2)

    def test_an_unknown_offer_is_staged_with_its_error(self):
        self.sim.add_offer(1999, "GHOST", stock=5)
        placed = self.sim.place_order([(1999, 1), (1001, 1)])
        good = self.sim.place_order([(1001, 1)])
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "error")
        self.assertIn("1999", order.error)
        self.assertEqual(self._orders(good["id"]).state, "done")
        # the merchant lists the product under that offer and retries
        ghost = self._product("Ghost lamp", "GHOST", 30.0, 5)
        self._listing(ghost, 1999)
        order.action_retry()
        self.assertEqual(order.state, "done", order.error)

    def test_an_unreadable_date_is_refused_and_the_next_order_imported(self):
        placed = self.sim.place_order([(1001, 1)])
        self.sim.orders[placed["id"]]["date"] = "2026-02-31 25:61:00"
        good = self.sim.place_order([(1001, 1)])
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "error")
        self.assertIn("date: not a date ('2026-02-31 25:61:00')", order.error)
        self.assertFalse(order.sale_order_id)
        self.assertEqual(self._orders(good["id"]).state, "done")
        # while it waits to be fixed, its unit stays off every channel: else they would sell it
        listing = self.env["multichannel.product.binding"].search(
            [("channel_id", "=", self.channel.id), ("external_id", "=", "1001")]
        )
        self.assertEqual(order.pending_quantities, {str(listing.product_id.id): 1.0})
        order.action_skip()
        self.assertFalse(order.pending_quantities)
        # one of the account's history (placed before the channel's orders were imported)
        # holds nothing, readable or not
        self.channel.order_import_since = "2026-06-01 00:00:00"
        old = self.sim.place_order([(1001, 1)])
        self.sim.orders[old["id"]].update(date="2026-01-10 10:00:00", customer=None)
        self.channel._import_orders()
        self.assertEqual(self._orders(old["id"]).state, "error")
        self.assertFalse(self._orders(old["id"]).pending_quantities)

    def test_an_item_of_the_list_that_is_no_order_stops_no_other(self):
        good = self.sim.place_order([(1001, 1)])
        nameless = dict(self.sim.orders[good["id"]], id=None)
        read_all = EmagClient.read_all

        def with_odd_items(client, resource, **filters):
            items = read_all(client, resource, **filters)
            return [None, nameless, *items] if filters.get("status") == 1 else items

        with patch.object(EmagClient, "read_all", with_odd_items):
            self.channel._import_orders()
            self.channel._import_orders()  # read again: stored once each
        self.assertEqual(self._orders(good["id"]).state, "done")
        Order = self.env["multichannel.order"]
        odd = Order.search([("channel_id", "=", self.channel.id), ("external_id", "=like", "no-id:%")])
        self.assertEqual(len(odd), 2, "the null and the order without id, each stored once for a human")
        self.assertEqual(set(odd.mapped("state")), {"error"})
        self.assertFalse(any(odd.mapped("pending_quantities")), "they hold nothing they could never release")
        self.assertFalse(self.channel.last_error)

    def test_nul_characters_in_the_re_read_after_acknowledging_are_dropped(self):
        placed = self.sim.place_order([(1001, 1)])
        customer = dict(self.sim.orders[placed["id"]]["customer"], name="Ana\x00 Pop", billing_name="Ana\x00 Pop")
        self.sim.acknowledge_changes[placed["id"]] = {"customer": customer, "observation": "ring\x00 twice"}
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "done", order.error)
        self.assertEqual(order.sale_order_id.partner_id.name, "Ana Pop")
        self.assertEqual(order.payload["note"], "ring twice")

    def test_a_read_from_before_the_acknowledgement_never_replaces_the_read_after_it(self):
        """eMAG's dates count seconds: a poll that read an order new, and stored it after a
        callback's worker had acknowledged it and read it changed in the same second, was
        taken for the later version, and the order was imported as it was before."""
        placed = self.sim.place_order([(1001, 1)])
        read_new = self.channel._get_adapter().fetch_order(placed["id"])  # the poll's read
        changed = dict(self.sim.orders[placed["id"]]["products"][0], quantity="2 pieces")
        self.sim.acknowledge_changes[placed["id"]] = {"products": [changed]}
        self.channel._import_orders()
        order = self._orders(placed["id"])
        self.assertEqual(order.state, "error")
        self.assertTrue(order.payload["acknowledged"])
        read_new["modified"] = order.payload["modified"]  # the same second
        self.assertFalse(read_new["acknowledged"])
        self.assertIsNone(self.env["multichannel.order"]._receive(self.channel, read_new))
        self.assertEqual(order.state, "error")
        self.assertIn("lines[1].quantity: not a number ('2 pieces')", order.error)
        self.assertFalse(order.sale_order_id, "never imported from the read before eMAG's change")
        self.assertEqual(order.payload["lines"][0]["quantity"], "2 pieces")

    def test_oversold_order_is_flagged(self):
        self.sim.offers[1002]["stock"][0]["value"] = 50  # eMAG showed more than Odoo has
        placed = self.sim.place_order([(1002, 12)])
        self.channel._import_orders()
        sale = self._orders(placed["id"]).sale_order_id
        self.assertTrue(sale.multichannel_oversold)
        self.assertEqual(sale.multichannel_oversold_qty, 2)

    def test_modified_windows_use_the_platform_time_whatever_the_server_zone(self):
        previous = os.environ.get("TZ")
        os.environ["TZ"] = "Asia/Tokyo"  # a server clock hours ahead of eMAG's
        time.tzset()
        try:
            placed = self.sim.place_order([(1002, 1)])
            self.channel._import_orders()
            sale = self._orders(placed["id"]).sale_order_id
            self.sim.customer_cancel(placed["id"])
            self.channel._import_orders()
        finally:
            if previous is None:
                os.environ.pop("TZ")
            else:
                os.environ["TZ"] = previous
            time.tzset()
        self.assertEqual(sale.state, "cancel", "the cancellation was inside the window")

    def test_orders_fulfilled_by_emag_are_left_out_and_dates_are_utc(self):
        by_emag = self.sim.place_order([(1002, 3)], order_type=2)
        own = self.sim.place_order([(1001, 1)])
        self.assertEqual(self.sim.stock_of(1002), 10, "eMAG ships type 2 from its own warehouse")
        self.channel._import_orders()
        self.assertFalse(self._orders(by_emag["id"]), "type 2: not imported, nothing reserved, never finalized")
        self.assertEqual(self.desk.with_context(warehouse_id=self.warehouse.id).free_qty, 10)
        order = self._orders(own["id"])
        self.assertEqual(order.state, "done", order.error)
        # eMAG's local (Bucharest) date, stored as UTC
        local = datetime.strptime(own["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Europe/Bucharest"))
        utc = local.astimezone(UTC).replace(tzinfo=None)
        self.assertEqual(order.payload["date"], utc.strftime("%Y-%m-%d %H:%M:%S"))
        self.assertNotEqual(order.payload["date"], own["date"], "Bucharest is 2 or 3 hours ahead of UTC")
        # a sale order left to confirm keeps the channel's date (confirming sets Odoo's own)
        self.channel.order_auto_confirm = False
        later = self.sim.place_order([(1001, 1)])
        self.channel._import_orders()
        draft = self._orders(later["id"]).sale_order_id
        local = datetime.strptime(later["date"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Europe/Bucharest"))
        self.assertEqual(draft.date_order, local.astimezone(UTC).replace(tzinfo=None))
