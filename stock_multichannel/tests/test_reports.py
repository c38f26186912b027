from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestStockCoverReport(MultichannelCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"multichannel_cover_days": 30, "multichannel_lead_days": 7})
        cls.customer = cls.env["res.partner"].create({"name": "Walk-in"})
        cls.lamp = cls._product("Lamp", "LAMP", 30.0)  # sells but has no stock, not listed
        cls.shelf = cls._product("Shelf", "SHELF", 80.0)  # listed, never sold
        cls._listing(cls.shelf, "ext-shelf")

    def _sell(self, product, quantity, days_ago=0, uom=None):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": (uom or product.uom_id).id,
                        }
                    )
                ],
            }
        )
        order.action_confirm()
        order.date_order = fields.Datetime.now() - timedelta(days=days_ago)
        return order

    def _row(self, product):
        self.env.flush_all()
        report = self.env["multichannel.stock.cover.report"]
        report.invalidate_model()
        return report.search([("product_id", "=", product.id), ("company_id", "=", self.company.id)])

    def test_days_of_cover_and_replenish_by_from_recent_sales(self):
        self._sell(self.chair, 4, days_ago=1)
        self._sell(self.chair, 2, days_ago=29)
        self._sell(self.chair, 50, days_ago=40)  # outside the 30 days: not counted, but still reserved
        row = self._row(self.chair)
        self.assertEqual(row.sold_qty, 6)
        self.assertAlmostEqual(row.daily_sales, 0.2)
        self.assertEqual(row.on_hand_qty, 100)
        self.assertEqual(row.free_qty, 44)  # 100 on hand, 56 reserved for the three orders
        self.assertAlmostEqual(row.days_of_cover, 220.0)
        self.assertEqual(row.lead_days, 7)
        self.assertEqual(row.replenish_by, fields.Date.today() + timedelta(days=220 - 7))
        self.assertFalse(row.to_replenish)
        self.assertAlmostEqual(row.stock_turns, 0.2 * 365 / 100)
        self.assertEqual(row.listing_count, 1)

    def test_vendor_delay_and_sales_window_come_from_settings(self):
        self._sell(self.chair, 10, days_ago=5)
        self._sell(self.chair, 10, days_ago=15)
        self.env["product.supplierinfo"].create(
            {"partner_id": self.customer.id, "product_tmpl_id": self.chair.product_tmpl_id.id, "delay": 20}
        )
        self.company.multichannel_cover_days = 10
        row = self._row(self.chair)
        self.assertEqual(row.sales_days, 10)
        self.assertEqual(row.sold_qty, 10)
        self.assertAlmostEqual(row.daily_sales, 1.0)
        self.assertAlmostEqual(row.days_of_cover, 80.0)  # 100 - 20 reserved, at one a day
        self.assertEqual(row.lead_days, 20)
        self.assertEqual(row.replenish_by, fields.Date.today() + timedelta(days=60))

    def test_sales_in_another_unit_count_in_the_product_unit(self):
        dozen = self.env.ref("uom.product_uom_dozen")
        self._sell(self.chair, 1, days_ago=2, uom=dozen)
        self.assertEqual(self._row(self.chair).sold_qty, 12)

    def test_out_of_stock_seller_must_be_replenished_now(self):
        self._sell(self.lamp, 3, days_ago=3)
        row = self._row(self.lamp)
        self.assertEqual(row.free_qty, 0)
        self.assertEqual(row.days_of_cover, 0)
        self.assertTrue(row.to_replenish)
        self.assertEqual(row.listing_count, 0)
        replenish_now = self.env["multichannel.stock.cover.report"].search([("to_replenish", "=", True)])
        self.assertIn(self.lamp, replenish_now.product_id)
        self.assertNotIn(self.chair, replenish_now.product_id)

    def test_listed_product_without_sales_has_no_cover_date(self):
        row = self._row(self.shelf)
        self.assertEqual(row.sold_qty, 0)
        self.assertFalse(row.days_of_cover)
        self.assertFalse(row.replenish_by)
        self.assertFalse(row.to_replenish)

    def test_cancelled_and_draft_orders_are_not_sales(self):
        self._sell(self.chair, 5, days_ago=1)._action_cancel()
        self.env["sale.order"].create(
            {"partner_id": self.customer.id, "order_line": [Command.create({"product_id": self.chair.id})]}
        )
        self.assertEqual(self._row(self.chair).sold_qty, 0)

    def test_settings_refuse_an_empty_sales_window(self):
        with self.assertRaises(ValidationError):
            self.company.multichannel_cover_days = 0
        with self.assertRaises(ValidationError):
            self.company.multichannel_lead_days = -1

    def test_other_company_rows_are_hidden(self):
        self._sell(self.chair, 2, days_ago=1)
        user = self._other_company_user("other-clerk")
        self.env.flush_all()
        rows = self.env["multichannel.stock.cover.report"].with_user(user).search([])
        self.assertFalse(rows.filtered(lambda r: r.product_id == self.chair))


@tagged("post_install", "-at_install")
class TestChannelReports(MultichannelCase):
    def test_availability_per_product_per_channel(self):
        careful = self.env["multichannel.channel"].create(
            {
                "name": "Careful Marketplace",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": self.pricelist.id,
                "stock_held_back": 10,
            }
        )
        self._listing(self.chair, "careful-chair", channel=careful)
        action = self.env.ref("stock_multichannel.action_multichannel_availability")
        rows = self.env[action.res_model].search_read(
            [("product_id", "=", self.chair.id)], ["channel_id", "target_qty", "pushed_qty"]
        )
        available = {row["channel_id"][0]: row["target_qty"] for row in rows}
        self.assertEqual(available, {self.channel.id: 100, careful.id: 90})

    def test_oversell_incidents_grouped_by_channel(self):
        def desks(external_id, quantity):
            lines = [{"listing_external_id": "ext-desk", "quantity": quantity, "unit_price": 250, "tax_rate": 19}]
            self.env["multichannel.order"]._receive(self.channel, order_data(external_id, lines=lines, total=None))

        desks("O-1", 8)  # 10 desks: fully reserved
        desks("O-2", 5)  # 2 left: 3 missing
        desks("O-3", 4)  # none left: 4 missing
        self.env.flush_all()
        action = self.env.ref("stock_multichannel.action_multichannel_oversell_incidents")
        groups = self.env[action.res_model]._read_group(
            safe_eval(action.domain), ["multichannel_channel_id"], ["__count", "multichannel_oversold_qty:sum"]
        )
        self.assertEqual(groups, [(self.channel, 2, 7.0)])

    def test_invoices_carry_the_channel_into_invoice_analysis(self):
        self.env["multichannel.order"]._receive(self.channel, order_data("I-1"))
        order = self.env["sale.order"].search([("multichannel_external_ref", "=", "I-1")])
        invoice = order._create_invoices()
        self.assertEqual(invoice.multichannel_channel_id, self.channel)
        invoice.action_post()
        refund = invoice._reverse_moves()
        self.assertEqual(refund.multichannel_channel_id, self.channel, "a credit note stays on the channel")
        self.env.flush_all()
        groups = dict(
            self.env["account.invoice.report"]._read_group(
                [("multichannel_channel_id", "=", self.channel.id), ("move_id", "=", invoice.id)],
                ["multichannel_channel_id"],
                ["price_subtotal:sum"],
            )
        )
        self.assertAlmostEqual(groups[self.channel], order.amount_untaxed)
