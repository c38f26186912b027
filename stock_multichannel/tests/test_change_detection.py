import statistics

from odoo import Command, fields
from odoo.tests import tagged

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestChangeDetection(MultichannelCase):
    def setUp(self):
        super().setUp()
        self._changes_committed()
        self.channel._push("stock")
        self.channel._push("price")
        self.remote.calls.clear()

    def _requests(self, listing, kind="stock"):
        """The listing's requests, as the push finds them (the products whose stock moved fanned out)."""
        self.env["multichannel.sync.request"]._fan_out_stock_changes()
        return self.env["multichannel.sync.request"].search([("binding_id", "=", listing.id), ("kind", "=", kind)])

    def test_initial_push_sent_everything(self):
        self.assertEqual(self.remote.stock, {"ext-chair": 100, "ext-desk": 10})
        self.assertEqual(self.remote.prices, {"ext-chair": 100.0, "ext-desk": 250.0})
        self.assertFalse(self.chair_listing.stock_pending)
        self.assertEqual(self.chair_listing.state, "synced")

    def test_nothing_changed_means_no_call(self):
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.calls, [])

    def test_a_delivery_marks_the_product_and_only_it(self):
        self._deliver(self.chair, 3)
        self.assertFalse(self._requests(self.chair_listing), "queued only when the transaction commits")
        self._changes_committed()
        self.assertTrue(self._requests(self.chair_listing))
        self.assertFalse(self._requests(self.desk_listing))
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [("stock", 1)])
        self.assertEqual(self.remote.stock["ext-chair"], 97)
        self.assertEqual(self.chair_listing.pushed_qty, 97)
        self.assertFalse(self._requests(self.chair_listing), "the push consumed the request")

    def test_a_reservation_is_a_change(self):
        self._deliver(self.desk, 4, validate=False)
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 6)

    def test_a_receipt_is_a_change(self):
        self._set_stock(self.desk, 5)
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 15)
        self.assertEqual(self.chair_listing.stock_cause, False)

    def test_a_marked_listing_whose_target_did_not_move_costs_no_call(self):
        self._set_stock(self.desk, 5)
        self._set_stock(self.desk, -5)
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.calls, [])
        self.assertFalse(self.desk_listing.stock_pending)
        self.assertFalse(self.desk_listing.stock_requested_at, "no stale start for the next latency")
        self.assertFalse(self.desk_listing.stock_cause)
        self.assertEqual(self.desk_listing.state, "synced")

    def test_a_location_moved_into_the_warehouse_brings_its_stock(self):
        """Odoo moves a location under another parent without writing its quants."""
        elsewhere = self.env["stock.location"].create({"name": "Rented shelf", "usage": "internal"})
        self._set_stock(self.desk, 5, elsewhere)
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 10, "outside the channel's warehouse")
        elsewhere.location_id = self.stock_location
        self.assertFalse(self._requests(self.desk_listing), "queued only when the transaction commits")
        self._changes_committed()
        self.assertTrue(self._requests(self.desk_listing))
        self.assertFalse(self._requests(self.chair_listing))
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 15)
        elsewhere.location_id = False
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 10, "moved out again")

    def test_a_listing_matched_to_another_product_sends_that_product(self):
        lamp = self._product("Lamp", "LAMP", 40.0, quantity=3)
        self.chair_listing.product_id = lamp
        self.assertTrue(self.chair_listing.stock_pending)
        self.assertTrue(self.chair_listing.price_pending)
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.remote.stock["ext-chair"], 3)
        self.assertEqual(self.remote.prices["ext-chair"], 40.0)
        self.remote.calls.clear()
        self.chair_listing.product_id = lamp
        self.assertFalse(self.chair_listing.stock_pending, "the same product written: nothing to send")

    def test_a_draft_channel_sale_edited_cancelled_or_deleted_moves_the_channels(self):
        """Not confirmed, a channel's sale order holds its units without Odoo reserving
        any: its edits move no quant."""
        self.channel.order_auto_confirm = False
        order = self.env["multichannel.order"]._receive(
            self.channel,
            order_data(
                "DRAFT-1",
                lines=[{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250}],
                shipping=[],
                total=250.0,
            ),
        )
        sale = order.sale_order_id
        self.assertEqual(sale.state, "draft")
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 9)
        sale.order_line.product_uom_qty = 4
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 6)
        sale.order_line = [Command.create({"product_id": self.chair.id, "product_uom_qty": 5})]
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock, {"ext-chair": 95, "ext-desk": 6})
        sale.order_line.filtered(lambda line: line.product_id == self.desk).unlink()
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock, {"ext-chair": 95, "ext-desk": 10})
        sale.with_context(disable_cancel_warning=True).action_cancel()
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock, {"ext-chair": 100, "ext-desk": 10})
        sale.action_draft()
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-chair"], 95, "back to draft: held again")
        sale.unlink()
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-chair"], 100)

    def test_a_confirmed_channel_sale_not_reserved_edited_or_cancelled_moves_the_channels(self):
        """Reserving by hand, a confirmed channel order holds its units through its delivery
        move alone: its edits and its cancellation write no quant."""
        self.warehouse.out_type_id.reservation_method = "manual"
        order = self.env["multichannel.order"]._receive(
            self.channel,
            order_data(
                "MANUAL-2",
                lines=[{"listing_external_id": "ext-desk", "quantity": 2, "unit_price": 250}],
                shipping=[],
                total=500.0,
            ),
        )
        sale = order.sale_order_id
        self.assertEqual(sale.state, "sale")
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 8)
        sale.order_line.product_uom_qty = 5  # Odoo raises the delivery's demand
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 5)
        sale.picking_ids.move_ids.product_uom_qty = 3  # the delivery's demand edited
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 7)
        salesman = self.env["res.users"].create(
            {
                "name": "Salesman",
                "login": "salesman-cancel",
                "groups_id": [Command.set(self.env.ref("sales_team.group_sale_salesman_all_leads").ids)],
            }
        )
        sale.with_user(salesman).with_context(disable_cancel_warning=True).action_cancel()
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 10)

    def test_stock_sync_off_is_left_alone(self):
        self.desk_listing.stock_sync = False
        self._set_stock(self.desk, 5)
        self._changes_committed()
        self.channel._push("stock")
        self.assertEqual(self.remote.stock["ext-desk"], 10)

    def test_list_price_change_reaches_the_channel(self):
        self.chair.list_price = 120.0
        self.assertTrue(self._requests(self.chair_listing, "price"))
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-chair"], 120.0)
        self.assertEqual(self.remote.calls, [("price", 1)])
        ledger = self.env["multichannel.ledger"].search(
            [("binding_id", "=", self.chair_listing.id), ("kind", "=", "price")], limit=1
        )
        self.assertEqual((ledger.old_value, ledger.new_value, ledger.cause), ("100.0", "120.0", "price change"))

    def test_pricelist_rule_reaches_the_channel(self):
        self._price_rule(self.desk, fixed_price=199.0)
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 199.0)
        self.assertEqual(self.remote.prices["ext-chair"], 100.0)
        self.assertEqual(self.remote.calls, [("price", 1)], "the chair's price did not change")

    def test_a_price_from_a_pricelist_based_on_another_follows_it_at_any_depth(self):
        Pricelist = self.env["product.pricelist"]
        base = Pricelist.create({"name": "Base", "currency_id": self.pricelist.currency_id.id})
        middle = Pricelist.create(
            {
                "name": "Middle",
                "currency_id": self.pricelist.currency_id.id,
                "item_ids": [(0, 0, {"base": "pricelist", "base_pricelist_id": base.id, "compute_price": "formula"})],
            }
        )
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "base": "pricelist",
                "base_pricelist_id": middle.id,
                "compute_price": "formula",
            }
        )
        self.channel._push("price")
        self.remote.calls.clear()
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": base.id,
                "applied_on": "0_product_variant",
                "product_id": self.desk.id,
                "fixed_price": 222.0,
            }
        )
        self.assertTrue(self._requests(self.desk_listing, "price"), "two pricelists away")
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 222.0)

    def test_a_price_by_category_or_by_cost_follows_them(self):
        office = self.env["product.category"].create({"name": "Office"})
        seating = self.env["product.category"].create({"name": "Seating"})
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "2_product_category",
                "categ_id": office.id,
                "compute_price": "fixed",
                "fixed_price": 80.0,
            }
        )
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": self.desk.id,
                "base": "standard_price",
                "compute_price": "formula",
                "price_markup": 100.0,
            }
        )
        self.desk.standard_price = 100.0
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 200.0, "twice its cost")
        self.chair.categ_id = seating
        self.channel._push("price")
        self.remote.calls.clear()
        seating.parent_id = office  # the chair's category moved under Office: its rule applies
        self.assertTrue(self._requests(self.chair_listing, "price"))
        self.desk.standard_price = 120.0  # an average cost moved by a receipt
        self.assertTrue(self._requests(self.desk_listing, "price"))
        self.channel._push("price")
        self.assertEqual((self.remote.prices["ext-chair"], self.remote.prices["ext-desk"]), (80.0, 240.0))

    def test_a_list_price_change_alone_resends_the_regular_price(self):
        self._price_rule(self.chair, fixed_price=90.0)
        self.channel._push("price")
        self.assertEqual((self.remote.prices["ext-chair"], self.remote.regular_prices["ext-chair"]), (90.0, 100.0))
        self.remote.calls.clear()
        self.chair.list_price = 130.0  # the channel price stays 90: only the "was" price moves
        self.channel._push("price")
        self.assertEqual((self.remote.prices["ext-chair"], self.remote.regular_prices["ext-chair"]), (90.0, 130.0))
        self.assertEqual(self.remote.calls, [("price", 1)])
        self.assertEqual(self.chair_listing.pushed_regular_price, 130.0)
        self.remote.calls.clear()
        self.channel._push("price", force=False)
        self.chair_listing.action_mark_pending()
        self.channel._push("price")
        self.assertEqual(self.remote.calls, [], "nothing moved: nothing sent")

    def test_real_time_channel_wakes_the_push_cron(self):
        cron = self.env.ref("stock_multichannel.ir_cron_push_stock")
        self.env.cr.postcommit.clear()
        self._set_stock(self.desk, 1)
        self._changes_committed()
        self.assertEqual(self._wake_ups_after_commit(), [], "an interval channel waits for its next run")
        self.channel.stock_schedule = "realtime"
        self.env.cr.postcommit.clear()
        self._set_stock(self.desk, 1)
        self._changes_committed()
        self.assertEqual(self._wake_ups_after_commit(), [cron.id], "woken once the change is committed")

    def test_schedules(self):
        self.channel.stock_schedule = "5min"
        self.assertFalse(self.channel._is_due("stock"), "just pushed")
        self.channel.stock_pushed_at = "2020-01-01 00:00:00"
        self.assertTrue(self.channel._is_due("stock"))
        self.channel.stock_schedule = "off"
        self.assertFalse(self.channel._is_due("stock"))
        self.channel.stock_schedule = "realtime"
        self.assertTrue(self.channel._is_due("stock"))

    def test_crons_pick_the_channels_that_are_due(self):
        Channel = self.env["multichannel.channel"]
        self.channel.stock_schedule = "realtime"
        self.assertIn(self.channel, Channel._cron_channels("stock"))
        self.channel.stock_schedule = "off"
        self.assertNotIn(self.channel, Channel._cron_channels("stock"))
        self.channel.order_schedule = "custom"
        self.channel.order_interval = 30
        self.channel.order_imported_at = False
        self.assertIn(self.channel, Channel._cron_channels("order"))
        self.channel._import_orders()
        self.assertNotIn(self.channel, Channel._cron_channels("order"), "imported a moment ago")

    def test_the_last_accepted_push_is_the_newest_stock_or_price_line_accepted(self):
        Ledger = self.env["multichannel.ledger"]
        lines = {
            ("stock", "ok"): "2030-01-01 10:00:00",
            ("price", "ok"): "2030-01-02 10:00:00",  # the newest accepted push
            ("stock", "refused"): "2030-01-03 10:00:00",
            ("order", "ok"): "2030-01-04 10:00:00",
        }
        for (kind, result), when in lines.items():
            line = Ledger._insert_lines(self.channel, kind, [{"result": result, "answer": "", "new_value": "1"}], 5)
            self.env.cr.execute("UPDATE multichannel_ledger SET create_date = %s WHERE id = %s", (when, line.id))
        self.channel.invalidate_recordset()
        self.assertEqual(fields.Datetime.to_string(self.channel.last_push_ok_at), "2030-01-02 10:00:00")
        # a channel whose pushes were all refused, its orders accepted: no accepted push
        other = self.env["multichannel.channel"].create({"name": "Refused so far"})
        for kind, result in (("stock", "refused"), ("price", "failed"), ("order", "ok")):
            Ledger._insert_lines(other, kind, [{"result": result, "answer": "", "new_value": "1"}], 5)
        self.assertFalse(other.last_push_ok_at)

    def test_push_latency_is_measured_from_the_change(self):
        self._set_stock(self.desk, 2)
        self._changes_committed()
        self.env.cr.execute("UPDATE multichannel_stock_change SET requested_at = requested_at - interval '3 seconds'")
        self.channel._push("stock")
        ledger = self.env["multichannel.ledger"].search(
            [("binding_id", "=", self.desk_listing.id), ("kind", "=", "stock")], limit=1
        )
        self.assertEqual(ledger.new_value, "12")
        self.assertGreaterEqual(ledger.latency_ms, 3000)
        self.assertLess(ledger.latency_ms, 60000)
        self.assertFalse(self.desk_listing.stock_requested_at, "pushed: nothing waits any more")
        self.channel.invalidate_recordset()
        latencies = (
            self.env["multichannel.ledger"]
            .search([("channel_id", "=", self.channel.id), ("kind", "=", "stock"), ("latency_ms", ">", 0)])
            .mapped("latency_ms")
        )
        self.assertEqual(self.channel.latency_p50_ms, int(statistics.median(latencies)))
        self.assertGreaterEqual(self.channel.latency_p95_ms, 2000, "the slow push shows in the 95th percentile")
        self.assertTrue(self.channel.last_push_ok_at)
