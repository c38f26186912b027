"""The shop gets Odoo's prices in its own terms: its currency, with tax or without as its
prices are entered (WooCommerce > Settings > Tax > Prices entered with tax), as the
simulator's settings say (read over ``GET settings/<group>/<id>``, as a real shop answers)."""

from decimal import ROUND_HALF_UP, Decimal

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ShopSetup


@tagged("post_install", "-at_install")
class TestShopPricesInTheShopsTerms(ShopSetup, TransactionCase):
    def setUp(self):
        super().setUp()
        self.channel._push("stock")  # the shop shows Odoo's quantities: only prices can drift

    def _drift_lines(self):
        return self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id), ("kind", "=", "drift")])

    def _settings_read(self):
        return [entry["path"] for entry in self.sim.log if "settings/" in entry["path"]]

    def test_a_shop_entering_prices_with_tax_gets_them_with_tax(self):
        self.sim.settings["tax"]["woocommerce_prices_include_tax"] = "yes"
        self._price_rule(self.chair, percent_off=10.0)
        self.channel._push("price")
        chair = self.sim.products[self.chair_id]
        # 100 and 90 before the 19% VAT Odoo adds to them
        self.assertEqual((chair["regular_price"], chair["sale_price"]), ("119.00", "107.10"))
        self.assertEqual(self.sim.variations[self.shirt_s_id]["regular_price"], "23.80")
        self.assertEqual(len(self._settings_read()), 3, "the shop's terms read once for the whole push")
        # the audit compares in the shop's terms: nothing drifted
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertFalse(self._drift_lines())
        chair["sale_price"] = "99.00"  # edited in the shop's admin
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self._drift_lines()
        self.assertEqual((drift.binding_id, drift.old_value, drift.new_value), (self.chair_listing, "107.1", "99.0"))
        self.channel._push("price")
        self.assertEqual(chair["sale_price"], "107.10")

    def _vat_19_included(self):
        return self.env["account.tax"].create(
            {
                "name": "VAT 19% included (test)",
                "amount": 19.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": self.company.id,
            }
        )

    def test_odoo_prices_with_tax_reach_a_shop_entering_them_without_tax(self):
        included = self._vat_19_included()
        lamp = self._product("Lamp", "LAMP", 119.0, 3, taxes_id=[(6, 0, included.ids)])
        lamp_id = self.sim.add_product("LAMP", "50.00", stock=0)
        lamp_listing = self._listing(lamp, lamp_id)
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.sim.products[lamp_id]["regular_price"], "100.00")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "100.00", "a net price stays net")
        self.assertEqual(lamp_listing.pushed_price, 119.0, "Odoo's price is what the ledger and listing keep")
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertFalse(self._drift_lines())

    def test_a_net_price_worked_out_from_odoos_keeps_the_shops_price_with_tax_to_the_cent(self):
        """9.99 with 19% is 8.3949… without: sent as 8.39, the shop would add the tax back
        and show 9.98 (WooCommerce's wc_get_price_including_tax: the net price plus its tax,
        rounded to the cent). Sent with up to 4 decimals (8.395), which the shop keeps as sent, it shows 9.99."""
        included = self._vat_19_included()
        pen = self._product("Pen", "PEN", 9.99, 3, taxes_id=[(6, 0, included.ids)])
        pen_id = self.sim.add_product("PEN", "5.00", stock=0)
        self._listing(pen, pen_id)
        self.channel._push("stock")
        self.channel._push("price")
        sent = self.sim.products[pen_id]["regular_price"]
        self.assertEqual(sent, "8.395")
        shown = (Decimal(sent) * Decimal("1.19")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        self.assertEqual(shown, Decimal("9.99"), "what the shop's customers pay is Odoo's price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "100.00", "Odoo's net price as it is")
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertFalse(self._drift_lines())
        # re-typed with 2 decimals in the shop's admin (or sent so by an earlier version):
        # 8.40 is 10.00 with tax, a cent more than Odoo's price
        self.sim.products[pen_id]["regular_price"] = "8.40"
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertEqual(self._drift_lines().mapped("new_value"), ["8.4"])
        self.channel._push("price")
        self.assertEqual(self.sim.products[pen_id]["regular_price"], "8.395")

    def test_a_shop_charging_no_tax_gets_what_customers_pay(self):
        self.sim.settings["general"]["woocommerce_calc_taxes"] = "no"
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "119.00")
        self.assertNotIn("settings/tax/woocommerce_prices_include_tax", self._settings_read())

    def test_a_shop_charging_no_tax_is_paid_prices_that_hold_the_tax(self):
        """Its taxes off, the shop sells at the prices it shows (sent with the tax Odoo adds)
        and its orders say no tax: the merchant still owes the VAT inside what customers
        paid. The sale order takes each product's own rate out of the prices, the shipping
        the lines' rate, and comes to what the customer paid."""
        earlier = self.sim.place_order([(self.chair_id, 0, 1, 100.0)], status="on-hold")  # taxes on then
        self.sim.settings["general"]["woocommerce_calc_taxes"] = "no"
        self._vat_19_included()
        placed = self.sim.place_order([(self.chair_id, 0, 2, 119.0)], shipping="11.90", coupon=23.8)
        self.assertEqual((placed["tax_lines"], placed["total_tax"], placed["total"]), ([], "0.00", "226.10"))
        self.channel._import_orders()
        sale = self.env["sale.order"].search([("multichannel_external_ref", "=", str(placed["id"]))])
        self.assertEqual(sale.state, "sale", sale.multichannel_order_id.error)
        self.assertEqual(set(sale.order_line.tax_id.mapped("amount")), {19.0})
        self.assertEqual((sale.amount_untaxed, sale.amount_tax, sale.amount_total), (190.0, 36.1, 226.1))
        self.assertFalse(sale.multichannel_total_mismatch)
        # placed while the shop charged tax: its own rates, whatever the shop does now
        self.sim.orders[earlier["id"]]["status"] = "processing"
        self.sim.orders[earlier["id"]]["date_modified_gmt"] = placed["date_modified_gmt"]
        self.channel._import_orders()
        sale = self.env["sale.order"].search([("multichannel_external_ref", "=", str(earlier["id"]))])
        self.assertEqual((sale.amount_untaxed, sale.amount_total), (110.0, 130.9))

    def test_a_shop_selling_in_another_currency_gets_no_price(self):
        self.sim.settings["general"]["woocommerce_currency"] = "RON"
        self.chair.lst_price = 150.0
        self._set_stock(self.chair, 1)
        self.env.cr.flush()  # the commit of the stock change: its sync request is queued
        self.channel._push("stock")
        self.channel._push("price")
        self.assertEqual(self.sim.stock_of(self.chair_id), 21, "the stock is pushed all the same")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "100.00", "no price in euros sent")
        batches = self.sim.requests_to("POST", r"products(/\d+/variations)?/batch")
        self.assertEqual(sum(entry["items"] for entry in batches), 4, "stock only: 3 items, then the chair")
        self.assertTrue(self.chair_listing.price_pending, "sent once the pricelist is right")
        self.assertIn("the shop sells in RON and the channel's pricelist is in EUR", self.channel.last_error)
        with self.assertRaisesRegex(UserError, "the shop sells in RON"):
            self.channel.action_test_connection()
        self.sim.products[self.chair_id]["regular_price"] = "500.00"  # in lei, as the shop sells
        self.assertFalse(self.channel._audit(budget_seconds=60))
        self.assertFalse(self._drift_lines(), "prices in another currency are not compared")
        self.sim.settings["general"]["woocommerce_currency"] = "EUR"
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "150.00")
        self.assertFalse(self.chair_listing.price_pending)

    def test_a_key_that_may_not_read_the_shops_settings(self):
        """A key of a WordPress user who may edit products but not manage WooCommerce: no
        price is sent (its terms are unknown), and the audit still compares quantities."""
        self.sim.settings_readable = False
        self.channel._push("price")
        self.assertTrue(self.chair_listing.price_pending)
        self.assertIn("Shop manager or an Administrator", self.channel.last_error)
        chair = self.sim.products[self.chair_id]
        chair.update(stock_quantity=2, regular_price="55.00")  # edited in the shop's admin
        self.assertFalse(self.channel._audit(budget_seconds=60))
        drift = self._drift_lines()
        self.assertEqual((drift.binding_id, drift.old_value, drift.new_value), (self.chair_listing, "20", "2"))

    def test_a_new_vat_rate_or_another_tax_reaches_the_shop(self):
        """The same price in Odoo is another price in a shop entering prices with tax once
        the product's tax changes: it is sent again, whatever was sent before."""
        self.sim.settings["tax"]["woocommerce_prices_include_tax"] = "yes"
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "119.00")
        self.vat19.amount = 21.0  # the country's VAT rises
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "121.00")
        self.assertEqual(self.sim.variations[self.shirt_s_id]["regular_price"], "24.20")
        reduced = self.env["account.tax"].create(
            {"name": "VAT 9% (test)", "amount": 9.0, "type_tax_use": "sale", "company_id": self.company.id}
        )
        self.chair.taxes_id = reduced
        self.channel._push("price")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "109.00")
        causes = self.env["multichannel.ledger"].search([("binding_id", "=", self.chair_listing.id)]).mapped("cause")
        self.assertIn("tax change", causes)

    def test_a_shop_failing_on_its_settings_blames_no_listing(self):
        self.sim.add_fault("500", path="settings/general/woocommerce_currency", count=50)
        self.chair.lst_price = 150.0
        self.channel._push("price")
        self.assertFalse(self.sim.requests_to("POST", r"products(/\d+/variations)?/batch")[3:], "no price sent")
        self.assertEqual(self.sim.products[self.chair_id]["regular_price"], "100.00")
        listings = self.chair_listing | self.shirt_s_listing | self.shirt_m_listing
        self.assertNotIn("error", listings.mapped("state"), "no listing blamed for the shop's fault")
        self.assertTrue(self.chair_listing.price_pending)
        self.assertIn("HTTP 500", self.channel.last_error)
        self.assertTrue(self.channel.price_retry_at, "backed off as for any fault of the shop")

    def test_the_connection_test_says_how_prices_are_sent(self):
        message = self.channel.action_test_connection()["params"]["message"]
        self.assertIn("Prices in EUR, sent without tax.", message)
        self.sim.settings["tax"]["woocommerce_prices_include_tax"] = "yes"
        message = self.channel.action_test_connection()["params"]["message"]
        self.assertIn("Prices in EUR, sent with tax.", message)
