import logging
import threading
import time
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from ..adapter import WooCommerceAdapter
from ..api import translate
from .common import KEY, SECRET, ShopSetup


@tagged("post_install", "-at_install")
class TestShopSync(ShopSetup, TransactionCase):
    def _batches(self, pattern):
        return [e["items"] for e in self.sim.requests_to("POST", pattern)]

    def test_listing_import_with_variations(self):
        mug_red = self._product("Mug red", "MUG-R", 8.0, 3)
        mug_blue = self._product("Mug blue", "MUG-B", 8.0, 4)
        mug_id, (red_id, blue_id) = self.sim.add_variable("MUG", [("MUG-R", 0), ("MUG-B", 0)], stock_on_parent=0)
        self.sim.add_product("UNKNOWN-SKU")
        counts = self.channel._import_listings()
        self.assertEqual(counts, {"matched": 3, "created": 2, "unmatched": 1})
        red = self.env["multichannel.product.binding"].search([("product_id", "=", mug_red.id)])
        self.assertEqual(
            (red.external_id, red.external_parent_id, red.external_stock_on_parent), (str(red_id), str(mug_id), True)
        )
        # stock kept on the parent: pushed there, never more than the scarcer variation
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(mug_id), 3)
        self.assertEqual(self.sim.stock_of(mug_id, blue_id), 3)
        self.assertEqual(
            self.env["multichannel.product.binding"].search([("product_id", "=", mug_blue.id)]).state,
            "pending",
            "prices still to push",
        )

    def test_delta_stock_push_in_batches(self):
        products = [self._product(f"Lamp {i}", f"LAMP{i}", 30.0, i % 5) for i in range(148)]
        for product in products:
            self._listing(product, self.sim.add_product(product.default_code))
        self.channel._push("stock")
        simple, variations = self._batches("products/batch"), self._batches(r"products/\d+/variations/batch")
        self.assertEqual((sum(simple), variations), (149, [2]))
        self.assertEqual(len(simple), 2)
        self.assertLessEqual(max(simple), 100)
        self.assertEqual((self.sim.stock_of(self.chair_id), self.sim.stock_of(self.shirt_id, self.shirt_m_id)), (20, 7))
        self.sim.log.clear()
        self._set_stock(self.chair, -4)
        self.channel._push("stock")
        self.assertEqual(self._batches("products/batch"), [1])
        self.assertEqual(self.sim.stock_of(self.chair_id), 16)

    def test_prices(self):
        self._price_rule(self.chair, percent_off=10.0)
        self.channel._push("price")
        chair = self.sim.products[self.chair_id]
        self.assertEqual((chair["regular_price"], chair["sale_price"]), ("100.00", "90.00"))
        self.assertEqual(self.sim.variations[self.shirt_s_id]["regular_price"], "20.00")
        self.assertEqual(self.sim.variations[self.shirt_s_id]["sale_price"], "")

    def test_an_item_error_is_isolated(self):
        self.sim.locked_ids.add(self.chair_id)
        self.channel._push("stock")
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("not allowed to edit", self.chair_listing.last_error)
        self.assertEqual(self.sim.stock_of(self.shirt_id, self.shirt_s_id), 5)
        self.assertFalse(self.shirt_s_listing.stock_pending)

    def _more_simple_listings(self, count):
        """``count`` more products on the shop, each with 3 in stock in Odoo and listed."""
        listings = self.env["multichannel.product.binding"]
        for number in range(count):
            product = self._product(f"Lamp {number}", f"LAMP-{number}", 30.0, 3)
            listings |= self._listing(product, self.sim.add_product(f"LAMP-{number}", "30.00", stock=0))
        return listings

    def test_a_product_the_shop_crashes_on_goes_to_error_alone(self):
        """A plugin's fatal error on saving one product fails its whole batch (HTTP 500):
        the batch is sent again by halves; that listing alone goes to error, the others
        reach the shop and the channel is not taken as failing."""
        (self.shirt_s_listing | self.shirt_m_listing).stock_sync = False
        lamps = self._more_simple_listings(6)
        self.sim.fatal_ids.add(self.chair_id)  # the first of its batch: it fails before anything answered
        cron = self.channel.with_context(multichannel_cron=True)
        cron._push("stock")
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("alone", self.chair_listing.last_error)
        self.assertIn("critical error", self.chair_listing.last_error)
        self.assertTrue(self.chair_listing.stock_pending, "sent again later")
        self.assertEqual([self.sim.stock_of(int(lamp.external_id)) for lamp in lamps], [3] * 6)
        self.assertFalse(any(lamps.mapped("stock_pending")))
        self.assertEqual((self.channel.stock_failures, self.channel.stock_retry_at), (0, False))
        # 7 products: the whole batch, its first half of 3, the chair alone, the other 2, the last 4
        self.assertEqual(self._batches("products/batch"), [7, 3, 1, 2, 4])
        failed = self.env["multichannel.ledger"].search(
            [("binding_id", "=", self.chair_listing.id), ("result", "=", "failed")]
        )
        self.assertEqual(len(failed), 3, "each call that carried it is in the ledger")
        # mended on the shop: sent, and nothing else, once its hour has passed (each try of
        # a product the shop crashes on costs a descent by halves)
        self.sim.fatal_ids.clear()
        self.sim.log.clear()
        cron._push("stock")
        self.assertEqual(self._batches("products/batch"), [], "held back a while")
        self.chair_listing.sudo().stock_retry_at = fields.Datetime.now() - timedelta(seconds=1)
        cron._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        self.assertFalse(self.chair_listing.stock_pending)
        self.assertFalse(self.chair_listing.last_error)
        self.assertEqual(self._batches("products/batch"), [1])

    def test_a_shop_failing_every_call_blames_no_listing(self):
        """Every batch answers HTTP 500: a few halves are tried, then the push stops and comes
        back later, as for any fault; no listing is taken for the cause."""
        (self.shirt_s_listing | self.shirt_m_listing).stock_sync = False
        self._more_simple_listings(30)
        self.sim.add_fault("500", "products/batch", count=1000)
        cron = self.channel.with_context(multichannel_cron=True)
        cron._push("stock")
        listings = self.env["multichannel.product.binding"].search([("channel_id", "=", self.channel.id)])
        self.assertFalse(listings.filtered(lambda listing: listing.state == "error"))
        self.assertTrue(all(listings.filtered("stock_sync").mapped("stock_pending")), "none settled")
        self.assertEqual(self.channel.stock_failures, 1)
        self.assertIn("HTTP 500", self.channel.last_error)
        self.assertEqual(len(self.sim.requests_to("POST", "products/batch")), 20, "OneItemFaults.MAX_UNANSWERED")

    def test_a_shop_failing_every_call_after_answering_blames_no_listing(self):
        """The shop takes the first batch, then fails every call: the search stops after a
        bounded number of calls, no listing is blamed, the channel is backed off."""
        (self.shirt_s_listing | self.shirt_m_listing).stock_sync = False
        self.patch(WooCommerceAdapter, "batch_size", 4)
        lamps = self._more_simple_listings(31)
        self.sim.add_fault("none", "products/batch")  # the first batch goes through
        self.sim.add_fault("500", "products/batch", count=1000)
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.assertFalse((self.chair_listing | lamps).filtered(lambda listing: listing.state == "error"))
        self.assertEqual(self.sim.stock_of(self.chair_id), 20, "the first batch")
        self.assertTrue(all(lamps[3:].mapped("stock_pending")))
        self.assertEqual(self.channel.stock_failures, 1)
        self.assertEqual(len(self.sim.requests_to("POST", "products/batch")), 21)

    def test_a_product_the_shop_crashes_on_found_last_is_confirmed_by_a_call_after_it(self):
        """The crashing product is the last one sent: whether the shop still answers is
        asked by sending again the last listing it took; it does, so the lamp goes to error."""
        (self.shirt_s_listing | self.shirt_m_listing).stock_sync = False
        lamps = self._more_simple_listings(6)
        self.sim.fatal_ids.add(int(lamps[-1].external_id))
        self.channel.with_context(multichannel_cron=True)._push("stock")
        self.assertEqual(lamps[-1].state, "error")
        self.assertFalse((self.chair_listing | lamps[:-1]).filtered(lambda listing: listing.state == "error"))
        # 7 products: all, the first 3, the last 4, 2 of them, the last 2, the 6th, the 7th, the 6th again
        self.assertEqual(self._batches("products/batch"), [7, 3, 4, 2, 2, 1, 1, 1])
        self.assertEqual((self.channel.stock_failures, self.channel.stock_retry_at), (0, False))

    def test_recovery_after_faults(self):
        self.sim.add_fault("429", "products/batch", retry_after=0.2)
        self.sim.add_fault("503", "products/batch")
        self.sim.add_fault("malformed", "products/batch")
        self.sim.add_fault("timeout", "products/batch", delay=1.5)
        self.channel.write({"woo_timeout": 0.5, "retry_attempts": 5})
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        self.assertFalse(self.chair_listing.stock_pending)

    def test_a_batch_the_shop_applies_after_odoo_gave_up_is_undone(self):
        """The shop finishes a batch Odoo gave up on after the retry that followed it:
        the chair is sent again once such a batch can no longer arrive."""
        self.channel.write({"woo_timeout": 0.5})
        self.patch(WooCommerceAdapter, "late_arrival_seconds", 60.0)
        self.channel._push("stock")
        cron = self.channel.with_context(multichannel_cron=True)
        self._set_stock(self.chair, -1)
        on_its_way = threading.Event()
        self.sim.add_fault("timeout", "products/batch", held=on_its_way)
        self.addCleanup(on_its_way.set)
        cron._push("stock")
        again = self.env["multichannel.sync.request"].search(
            [("binding_id", "=", self.chair_listing.id), ("due_at", "!=", False)]
        )
        self.assertEqual((len(again), again.kind, again.channel_moved), (1, "stock", True))
        self._set_stock(self.chair, -1)
        cron._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 18)
        on_its_way.set()
        deadline = time.monotonic() + 5
        while self.sim.stock_of(self.chair_id) != 19:
            self.assertLess(time.monotonic(), deadline, "the late batch never landed")
            time.sleep(0.02)
        self.assertEqual(self.chair_listing.pushed_qty, 18, "Odoo takes 18 as shown")
        self.env.cr.execute("UPDATE multichannel_sync_request SET due_at = now() AT TIME ZONE 'UTC' - interval '1s'")
        cron._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 18)

    def test_a_push_never_undoes_a_shop_order(self):
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        # a customer buys 3 chairs on the shop: the shop lowers its stock to 17 at once
        self.sim.place_order([(self.chair_id, 0, 3, 100.0)], status="processing")
        self.assertEqual(self.sim.stock_of(self.chair_id), 17)
        # meanwhile 5 chairs arrive in the warehouse: a push is due
        self._set_stock(self.chair, 5)
        self.channel._push("stock")
        # 20 + 5 - 3 = 22, not 25: the shop's sale was imported before the push
        self.assertEqual(self.sim.stock_of(self.chair_id), 22)
        sale = self.env["sale.order"].search([("multichannel_channel_id", "=", self.channel.id)])
        self.assertEqual(sale.order_line.filtered(lambda line: line.product_id == self.chair).product_uom_qty, 3)

    def test_nothing_to_push_means_no_call_at_all(self):
        self.channel._push("stock")
        self.sim.log.clear()
        self.channel._push("stock")
        self.assertEqual(self.sim.log, [], "no order fetch either when no stock waits to be pushed")
        self._set_stock(self.chair, 1)
        self.channel._push("stock")
        self.assertEqual([e["path"] for e in self.sim.log], ["orders", "products/batch"])

    def test_an_order_not_importable_yet_still_counts(self):
        self.channel._push("stock")
        unknown = self._product("Unlisted", "UNLISTED", 5.0, 0)
        self.assertTrue(unknown)
        self.sim.place_order([(self.chair_id, 0, 2, 100.0)], coupon=None)
        self.sim.orders[max(self.sim.orders)]["currency"] = "USD"  # cannot be imported: wrong currency
        self._set_stock(self.chair, 1)
        self.channel._push("stock")
        order = self.env["multichannel.order"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual(order.state, "error")
        self.assertEqual(self.sim.stock_of(self.chair_id), 19, "21 in Odoo minus the 2 of the stuck order")

    def test_a_company_named_at_checkout_is_the_customer(self):
        private = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        firm = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.sim.orders[firm["id"]]["billing"]["company"] = "Ateliere Iasi SRL"
        self.channel._import_orders()
        sales = {
            order_id: self.env["sale.order"].search([("multichannel_external_ref", "=", str(order_id))])
            for order_id in (private["id"], firm["id"])
        }
        self.assertEqual(
            (sales[firm["id"]].partner_invoice_id.name, sales[firm["id"]].partner_invoice_id.is_company),
            ("Ateliere Iasi SRL", True),
        )
        self.assertFalse(sales[private["id"]].partner_invoice_id.is_company)
        self.assertNotEqual(sales[firm["id"]].partner_id, sales[private["id"]].partner_id, "the same e-mail")

    def test_order_statuses(self):
        processing = self.sim.place_order([(self.chair_id, 0, 2, 100.0)], coupon=10.0)
        pending = self.sim.place_order([(self.shirt_id, self.shirt_s_id, 1, 20.0)], status="pending")
        self.channel._import_orders()
        done = self.env["multichannel.order"].search([("external_id", "=", str(processing["id"]))])
        held = self.env["multichannel.order"].search([("external_id", "=", str(pending["id"]))])
        self.assertEqual(done.state, "done", done.error)
        self.assertEqual(held.state, "pending")
        sale = done.sale_order_id
        self.assertAlmostEqual(sale.amount_total, float(processing["total"]), places=2)
        self.assertFalse(sale.multichannel_total_mismatch)
        self.assertEqual(sale.order_line.filtered(lambda line: line.product_id == self.chair).price_unit, 100.0)
        # the customer pays: processing, imported
        self.sim.set_order_status(pending["id"], "processing")
        self.channel._import_orders()
        self.assertEqual(held.state, "done", held.error)
        # delivered in Odoo: completed on the shop
        for picking in sale.picking_ids:
            picking.move_ids.quantity = 2
            picking.button_validate()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[processing["id"]]["status"], "completed")
        # cancelled in Odoo: cancelled on the shop, stock back on the shop
        held.sale_order_id._action_cancel()
        self.env["multichannel.order"]._send_statuses()
        self.assertEqual(self.sim.orders[pending["id"]]["status"], "cancelled")

    def test_cancelled_on_the_shop_after_import(self):
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.channel._import_orders()
        sale = self.env["sale.order"].search([("multichannel_external_ref", "=", str(placed["id"]))])
        self.sim.set_order_status(placed["id"], "refunded")
        self.channel._import_orders()
        self.assertEqual(sale.state, "cancel")

    def test_plain_http_is_signed_with_oauth_and_secrets_never_logged(self):
        logger = logging.getLogger()
        lines = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = lambda record: lines.append(handler.format(record))
        previous = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            message = self.channel.action_test_connection()["params"]["message"]
            self.channel._push("stock")
        finally:
            logger.removeHandler(handler)
            logger.setLevel(previous)
        self.assertIn("OAuth 1.0a", message)
        self.assertTrue(all("oauth_signature" in e["query"] for e in self.sim.log))
        self.assertFalse([e for e in self.sim.log if "consumer_secret" in e["query"]])
        self.assertTrue([line for line in lines if "oauth_signature=***" in line], "urllib3 logged the masked URL")
        self.assertFalse([line for line in lines if SECRET in line])
        self.assertEqual(self.sim.stock_of(self.chair_id), 20)
        answers = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)]).mapped("answer")
        self.assertTrue(answers)
        self.assertFalse([a for a in answers if a and (SECRET in a or KEY in a)], "no key in the ledger")

    def test_keys_in_the_query_string_never_leave_over_http(self):
        # the real shop refuses them over plain http, once they have crossed the network in clear
        self.channel.woo_query_auth = True
        with self.assertRaisesRegex(UserError, "would travel unencrypted.*switch off Keys in Query String"):
            self.channel.action_test_connection()
        self.assertFalse([e for e in self.sim.log if "consumer_secret" in e["query"]], "nothing was sent")
        self.channel.woo_query_auth = False
        self.channel.action_test_connection()
        self.assertTrue(self.sim.log)
        self.assertTrue(all("oauth_signature" in e["query"] for e in self.sim.log))

    def test_plain_http_is_refused_when_the_channel_says_so(self):
        self.channel.write({"woo_url": "http://shop.example.com", "woo_http_oauth": False})
        with self.assertRaisesRegex(UserError, "https:// address, or allow OAuth"):
            self.channel.action_test_connection()

    def test_rounded_taxes_import_with_the_right_tax_and_total(self):
        # the real shop's order #30: 3 x 9.99 with a 13.00 coupon, tax rounded per line
        # (29.97 with tax 5.69 reads 18.99% when derived from the rounded amounts)
        pen = self._product("Pen", "PEN", 9.99, 10)
        pen_id = self.sim.add_product("PEN", "9.99", stock=10)
        self._listing(pen, pen_id)
        placed = self.sim.place_order([(pen_id, 0, 3, 9.99), (self.chair_id, 0, 1, 100.0)], coupon=13.0, code="SAVE10")
        self.assertEqual((placed["line_items"][0]["subtotal_tax"], placed["total"]), ("5.69", "151.10"))
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual(order.state, "done", order.error)
        sale = order.sale_order_id
        self.assertEqual(len(sale.order_line), 4, "pen, chair, shipping, coupon")
        for line in sale.order_line:
            self.assertEqual(line.tax_id.mapped("amount"), [19.0], line.name)
        self.assertIn("Coupon save10", sale.order_line.mapped("name"))
        self.assertAlmostEqual(sale.amount_total, 151.10, delta=0.01)
        self.assertFalse(sale.multichannel_total_mismatch)

    def test_checkout_drafts_are_never_held(self):
        self.channel._push("stock")
        draft = self.sim.open_checkout([(self.chair_id, 0, 4, 100.0)])
        self.assertEqual(self.sim.orders[draft["id"]]["status"], "checkout-draft")
        self._set_stock(self.chair, 1)
        self.channel._push("stock")  # imports orders first
        Order = self.env["multichannel.order"]
        self.assertFalse(Order.search([("channel_id", "=", self.channel.id)]), "a draft is not an order")
        self.assertEqual(self.sim.stock_of(self.chair_id), 21, "nothing held for the draft")
        # the customer places it after all: a real order, imported
        self.sim.checkout(draft["id"])
        self.channel._import_orders()
        order = Order.search([("external_id", "=", str(draft["id"]))])
        self.assertEqual(order.state, "done", order.error)

    def test_an_order_gone_from_the_shop_is_settled(self):
        held = self.sim.place_order([(self.chair_id, 0, 2, 100.0)], status="pending")
        kept = self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="pending")
        self.channel._import_orders()
        Order = self.env["multichannel.order"]
        gone = Order.search([("external_id", "=", str(held["id"]))])
        still = Order.search([("external_id", "=", str(kept["id"]))])
        self.assertEqual((gone.state, still.state), ("pending", "pending"))
        self.assertEqual(self.channel._available_quantities(self.chair)[self.chair.id], 17)
        self.sim.delete_order(held["id"])  # the shop deletes it, without any webhook
        self.channel._woo_recheck_open_orders(older_than=timedelta(seconds=-5))  # all of them, now
        self.assertEqual(gone.state, "skipped")
        self.assertFalse(gone.pending_quantities)
        self.assertIn("No longer on the shop", gone.warning)
        self.assertEqual(still.state, "pending", "still on the shop: still held")
        self.assertEqual(self.channel._available_quantities(self.chair)[self.chair.id], 19)
        self.assertTrue(self.sim.requests_to("GET", f"orders/{held['id']}"))
        # checked once per hour, not at every import
        self.sim.log.clear()
        self.channel._woo_recheck_open_orders()
        self.assertFalse(self.sim.requests_to("GET", r"orders/\d+"))

    def test_an_amount_that_is_no_number_keeps_the_order_to_fix(self):
        """Read as 0, a line was booked at no price (a total mismatch warning only, on a
        confirmed sale order), a shipping or coupon left out."""
        placed = self.sim.place_order([(self.chair_id, 0, 1, 100.0)], coupon=10.0, code="SAVE10")
        self.sim.orders[placed["id"]]["line_items"][0]["subtotal"] = "100,00"
        good = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(placed["id"]))])
        self.assertEqual(order.state, "error")
        self.assertIn("unit_price: not a number ('100,00')", order.error)
        self.assertFalse(order.sale_order_id)
        self.assertEqual(order.pending_quantities, {str(self.chair.id): 1.0}, "its unit held while it waits")
        imported = self.env["multichannel.order"].search([("external_id", "=", str(good["id"]))])
        self.assertEqual(imported.state, "done", imported.error)

    def test_an_order_stamped_in_the_future_hides_no_later_order(self):
        future = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.sim.orders[future["id"]]["date_modified_gmt"] = "2099-01-01T00:00:00"  # a clock set back, a plugin
        self.channel._import_orders()
        ahead = (fields.Datetime.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
        self.assertFalse((self.channel.order_watermark or "") > ahead, "not taken")
        later = self.sim.place_order([(self.chair_id, 0, 1, 100.0)])
        self.channel._import_orders()
        order = self.env["multichannel.order"].search([("external_id", "=", str(later["id"]))])
        self.assertEqual(order.state, "done", "read by the next poll")
        ahead = fields.Datetime.now() + timedelta(minutes=30)  # a shop's clock a little ahead
        self.sim.orders[later["id"]]["date_modified_gmt"] = ahead.strftime("%Y-%m-%dT%H:%M:%S")
        self.channel._import_orders()
        now = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
        self.assertLessEqual(self.channel.order_watermark, now, "never past now: nothing changed meanwhile skipped")
        self.sim.orders[later["id"]]["date_modified_gmt"] = "soon"  # unreadable: never the newest
        self.channel._import_orders()
        self.channel._import_orders()
        self.assertNotEqual(self.channel.order_watermark, "soon")

    def test_a_shop_that_cannot_answer_closes_no_order(self):
        placed = [self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="pending") for _ in range(3)]
        self.channel._import_orders()
        Order = self.env["multichannel.order"]
        orders = [Order.search([("external_id", "=", str(p["id"]))]) for p in placed]
        self.assertEqual([o.state for o in orders], ["pending"] * 3)
        everything = timedelta(seconds=-5)
        cron = self.channel.with_context(multichannel_cron=True)  # tries once, as the cron does
        # WooCommerce paused: WordPress answers 404 rest_no_route, which says nothing of the order
        self.sim.add_fault("no_route", path=f"orders/{placed[0]['id']}")
        cron._woo_recheck_open_orders(older_than=everything)
        self.assertEqual([o.state for o in orders], ["pending"] * 3, "nothing closed, still held")
        self.assertEqual(self.channel._available_quantities(self.chair)[self.chair.id], 17)
        self.assertEqual(len(self.sim.requests_to("GET", r"orders/\d+")), 1, "the shop is away: stopped there")
        # one order the shop fails on (a plugin's fatal error) does not stop the others for good
        self.sim.log.clear()
        self.sim.add_fault("500", path=f"orders/{placed[1]['id']}")
        cron._woo_recheck_open_orders(older_than=everything)
        self.sim.log.clear()
        cron._woo_recheck_open_orders(older_than=everything)
        read = [e["path"] for e in self.sim.requests_to("GET", r"orders/\d+")]
        self.assertEqual(read, [f"orders/{p['id']}" for p in (placed[2], placed[0], placed[1])], "the failed ones last")
        self.assertEqual([o.state for o in orders], ["pending"] * 3)
        # a 200 with null (a cache, a security plugin in front of the shop) says nothing of them
        for order in placed:
            self.sim.add_fault("null", path=f"orders/{order['id']}")
        cron._woo_recheck_open_orders(older_than=everything)
        self.assertEqual([o.state for o in orders], ["pending"] * 3, "none closed as gone")
        self.assertEqual(self.channel._available_quantities(self.chair)[self.chair.id], 17, "their units still held")


@tagged("post_install", "-at_install")
class TestShopTranslate(TransactionCase):
    def test_prices_as_strings(self):
        self.assertEqual(
            translate.price_item(5, 90, 100),
            {"id": 5, "regular_price": "100.00", "sale_price": "90.00", "date_on_sale_from": "", "date_on_sale_to": ""},
        )
        self.assertEqual(translate.price_item(5, 110, 100)["regular_price"], "110.00")
        self.assertEqual(
            translate.stock_item(5, -2), {"id": 5, "manage_stock": True, "stock_quantity": 0, "backorders": "no"}
        )

    def test_statuses(self):
        for status, expected in (
            ("processing", "open"),
            ("on-hold", "pending"),
            ("completed", "open"),
            ("pending", "pending"),
            ("refunded", "cancelled"),
            ("failed", "cancelled"),
            ("some-plugin-status", "pending"),
        ):
            self.assertEqual(translate.normalize_order({"id": 1, "status": status})["status"], expected)
