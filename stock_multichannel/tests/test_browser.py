from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import BrowserTourMixin
from .test_i18n import ADDONS

DASHBOARD_URL = "/odoo/action-stock_multichannel.action_multichannel_dashboard"
STOCK_COVER_URL = "/odoo/action-stock_multichannel.action_multichannel_stock_cover"


@tagged("post_install", "-at_install", "is_tour")
class TestDashboardInBrowser(BrowserTourMixin, HttpCase):
    """Opens the dashboard and a channel in headless Chromium; saves what it showed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._require_browser_in_ci()
        warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        pricelist = cls.env["product.pricelist"].create({"name": "Browser pricelist"})
        cls.channel = cls.env["multichannel.channel"].create(
            {
                "name": "Browser Test Channel",
                "warehouse_ids": [Command.set(warehouse.ids)],
                "pricelist_id": pricelist.id,
            }
        )
        names = ("Browser Chair", "Browser Desk", "Browser Lamp")
        products = cls.env["product.product"].create([{"name": name, "is_storable": True} for name in names])
        listings = cls.env["multichannel.product.binding"].create(
            [
                {"channel_id": cls.channel.id, "product_id": product.id, "external_id": f"b-{product.id}"}
                for product in products
            ]
        )
        listings[0].write(
            {
                "state": "error",
                "stock_pending": False,
                "price_pending": False,
                "last_error": "Offer refused by the channel",
            }
        )

        cls.env["stock.quant"]._update_available_quantity(products[0], warehouse.lot_stock_id, 50)
        customer = cls.env["res.partner"].create({"name": "Browser customer"})
        order = cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [
                    Command.create({"product_id": products[0].id, "product_uom_qty": 2}),
                    Command.create({"product_id": products[2].id, "product_uom_qty": 3}),
                ],
            }
        )
        order.action_confirm()
        cls._channel_sales(products)

    @classmethod
    def _channel_sales(cls, products):
        """A readable channel order, one to fix, and channel sales with shipping for the reports."""
        chair, _desk, lamp = products
        chair.default_code = "BCHAIR"
        currency = cls.channel.currency_id.name
        customer = {"name": "Ioana Browser", "email": "ioana@example.com", "city": "Iasi", "country_code": "RO"}
        lines = [
            {
                "listing_external_id": f"b-{chair.id}",
                "sku": "BCHAIR",
                "name": "Browser Chair",
                "quantity": 2,
                "unit_price": 120.0,
            }
        ]
        Order = cls.env["multichannel.order"]
        done = Order.create(
            {
                "name": "Browser Test Channel 100001",
                "channel_id": cls.channel.id,
                "external_id": "100001",
                "state": "done",
                "payload": {
                    "external_id": "100001",
                    "name": "100001",
                    "status": "open",
                    "date": "2026-03-02 05:25:38",
                    "currency": currency,
                    "customer": customer,
                    "lines": lines,
                    "shipping": [{"name": "Courier", "amount": 11.0}],
                    "total": 251.0,
                },
            }
        )
        Order.create(
            {
                "name": "Browser Test Channel 100002",
                "channel_id": cls.channel.id,
                "external_id": "100002",
                "state": "error",
                "error": "Line 1 (Mystery): No listing with external ID x-9 or SKU - on Browser Test Channel.",
                "payload": {"external_id": "100002", "currency": currency, "customer": customer, "lines": []},
            }
        )
        shipping = cls.env.ref("stock_multichannel.product_channel_shipping")
        sale = cls.env["sale.order"].create(
            {
                "partner_id": cls.env["res.partner"].create({"name": "Ioana Browser"}).id,
                "multichannel_channel_id": cls.channel.id,
                "multichannel_order_id": done.id,
                "order_line": [
                    Command.create({"product_id": lamp.id, "product_uom_qty": 5}),
                    Command.create({"product_id": chair.id, "product_uom_qty": 2}),
                    Command.create({"product_id": shipping.id, "product_uom_qty": 9, "price_unit": 11}),
                ],
            }
        )
        sale.action_confirm()
        done.sale_order_id = sale
        cls.env.flush_all()  # what the import's commit does; the browser reads in read-only transactions

    def test_dashboard_drills_down_into_errors(self):
        with self._screenshot_when_done("multichannel_dashboard") as path:
            self.start_tour(DASHBOARD_URL, "stock_multichannel_dashboard", login="admin")
        self._assert_screenshot(path)

    def test_channel_opens_from_the_dashboard(self):
        with self._screenshot_when_done("multichannel_channel") as path:
            self.start_tour(DASHBOARD_URL, "stock_multichannel_channel_form", login="admin")
        self._assert_screenshot(path)

    def test_stock_cover_report_flags_what_to_replenish(self):
        with self._screenshot_when_done("stock_cover_report") as path:
            self.start_tour(STOCK_COVER_URL, "stock_multichannel_stock_cover", login="admin")
        self._assert_screenshot(path)

    def test_menus_lead_to_readable_channel_orders(self):
        with self._screenshot_when_done("multichannel_channel_order") as path:
            self.start_tour("/odoo", "stock_multichannel_menus_and_orders", login="admin")
        self._assert_screenshot(path)

    def test_reports_rank_and_chart_honestly(self):
        with self._screenshot_when_done("multichannel_reports") as path:
            self.start_tour("/odoo", "stock_multichannel_reports", login="admin")
        self._assert_screenshot(path)

    def test_a_slower_schedule_is_warned_about(self):
        with self._screenshot_when_done("multichannel_schedule_warning") as path:
            self.start_tour(DASHBOARD_URL, "stock_multichannel_schedule_warning", login="admin")
        self._assert_screenshot(path)

    def test_no_report_header_is_cut_off(self):
        with self._screenshot_when_done("multichannel_report_headers") as path:
            self.start_tour("/odoo", "stock_multichannel_report_headers", login="admin")
        self._assert_screenshot(path)

    def test_no_report_header_is_cut_off_in_romanian(self):
        """Romanian words run longer: eMAG's merchants read the same lists in full."""
        self.env["res.lang"]._activate_lang("ro_RO")
        modules = ["base", "web", "product", "account", "stock", "sale", "sale_stock", *ADDONS]
        installed = self.env["ir.module.module"].search([("name", "in", modules), ("state", "=", "installed")])
        self.env["ir.module.module"]._load_module_terms(installed.mapped("name"), ["ro_RO"], overwrite=True)
        self.env.registry.clear_cache()  # field labels are cached per language
        self.env.ref("base.user_admin").lang = "ro_RO"
        with self._screenshot_when_done("multichannel_report_headers_ro") as path:
            self.start_tour("/odoo", "stock_multichannel_report_headers_ro", login="admin")
        self._assert_screenshot(path)
