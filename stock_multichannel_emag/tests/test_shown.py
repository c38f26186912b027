"""What eMAG shows equals Odoo's availability after every kind of event (on the simulator,
which lowers an offer's stock on a sale and gives it back on a cancellation, as eMAG does)."""

from odoo.tests import tagged

from .common import EmagCase


@tagged("post_install", "-at_install")
class TestEmagShowsOdoosAvailability(EmagCase):
    def setUp(self):
        super().setUp()
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 100)

    def _push(self):
        self.env.cr.flush()  # the commit of what happened: its sync requests are queued
        self.channel._push("stock")

    def _assert_shown(self, message=""):
        self.chair_listing.invalidate_recordset()
        self.assertEqual(self.sim.stock_of(1001), self.chair_listing.target_qty, message)

    def _sale_of(self, placed):
        return (
            self.env["multichannel.order"]
            .search([("channel_id", "=", self.channel.id), ("external_id", "=", str(placed["id"]))])
            .sale_order_id
        )

    def test_a_sale_cancelled_in_odoo_then_on_emag(self):
        placed = self.sim.place_order([(1001, 1)], shipping_tax=24.2)
        self.assertEqual(self.sim.stock_of(1001), 99)
        self.channel._import_orders()
        sale = self._sale_of(placed)
        sale._action_cancel()  # Odoo's target is 100 again, what it last sent
        self._push()
        self.assertEqual(self.sim.stock_of(1001), 100)
        self._assert_shown()
        self.channel.env["multichannel.order"]._send_statuses()  # eMAG cancels it and gives the unit back: 101
        self.assertEqual(self.sim.stock_of(1001), 101)
        self._push()  # at once, not when eMAG's orders are read next
        self.assertEqual(self.sim.stock_of(1001), 100)
        self._assert_shown("after eMAG gave the cancelled unit back")

    def test_a_receipt_after_a_sale(self):
        self.sim.place_order([(1001, 1)], shipping_tax=24.2)
        self.channel._import_orders()
        self._set_stock(self.chair, 1)
        self._push()
        self.assertEqual(self.sim.stock_of(1001), 100)
        self._assert_shown()

    def test_maximum_shown(self):
        self.channel.stock_max = 5
        self._push()
        for _sale in range(3):
            self.sim.place_order([(1001, 1)], shipping_tax=24.2)
            self.assertEqual(self.sim.stock_of(1001), 4)
            self.channel._import_orders()
            self._push()
            self.assertEqual(self.sim.stock_of(1001), 5)

    def test_no_overwrite_of_a_sale_not_imported_yet(self):
        placed = self.sim.place_order([(1001, 1)], shipping_tax=24.2)  # eMAG shows 99, Odoo does not know
        self._set_stock(self.chair, 1)  # a receipt: 101 in Odoo
        self._push()
        self.assertTrue(self._sale_of(placed), "the order was read before the push")
        self.assertEqual(self.sim.stock_of(1001), 100, "never 101: only 100 are free")
        self._assert_shown()

    def test_the_audit_finds_a_hand_edit_and_fixes_it(self):
        self.channel._push("price")  # eMAG shows Odoo's prices: only the stock drifts
        self.sim.offers[1001]["stock"][0]["value"] = 3  # edited in eMAG's seller centre
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])
        self.assertEqual((drift.binding_id, drift.old_value, drift.new_value), (self.chair_listing, "100", "3"))
        self.assertEqual((self.channel.audit_read_count, self.channel.audit_drift_count), (2, 1))
        self.channel._push("stock")
        self.assertEqual(self.sim.stock_of(1001), 100)
        self.assertEqual(self.channel.audit_fixed_count, 1)

    def test_the_audit_finds_a_price_edited_on_emag_and_sets_it_back(self):
        """A sale price changed in eMAG's seller centre (or a product offer saved in part)
        was never read back: eMAG sold at it until Odoo's price changed."""
        self.channel._push("price")
        sent = self.sim.offers[1001]["sale_price"]
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertEqual(self.channel.audit_drift_count, 0, "eMAG's net prices compare with Odoo's")
        self.sim.offers[1001]["sale_price"] = 399.0
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])
        self.assertEqual((drift.binding_id, drift.new_value), (self.chair_listing, "399.0"))
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["sale_price"], sent)

    def test_a_zero_price_never_reaches_emag(self):
        self.chair.lst_price = 0.0
        self.channel._push("price")
        self.assertEqual(self.sim.offers[1001]["sale_price"], 500.0, "eMAG keeps the last good price")
        self.assertEqual(self.chair_listing.state, "error")
        self.assertIn("No price to send", self.chair_listing.last_error)
        self.assertEqual(self.sim.offers[1002]["sale_price"], 1200.0, "the desk's price went on")
