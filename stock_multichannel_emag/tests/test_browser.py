from datetime import timedelta
from unittest.mock import patch

from odoo.addons.stock_multichannel.tests.common import BrowserTourMixin, ChannelFixtures, LocalSimulatorMixin
from odoo.tests import HttpCase, tagged

from .. import const
from ..simulator.emag_simulator import (
    CANCELED,
    DATE,
    FINALIZED,
    IN_PROGRESS,
    NEW,
    PREPARED,
    RETURNED,
    EmagSimulator,
    platform_now,
)

CHANNELS_URL = "/odoo/action-stock_multichannel.action_multichannel_channel"
# (customer, status on eMAG, placed so long ago, last modified so long ago): an account that sold before
HISTORY = [
    ("Finalized Customer", FINALIZED, timedelta(days=6), timedelta(hours=3)),
    ("Shipped Customer", FINALIZED, timedelta(days=2), timedelta(hours=5)),
    ("Cancelled Customer", CANCELED, timedelta(days=4), timedelta(hours=2)),
    ("Returned Customer", RETURNED, timedelta(days=12), timedelta(hours=1)),
    ("In Progress Customer", IN_PROGRESS, timedelta(days=1), timedelta(minutes=40)),
    ("Prepared Customer", PREPARED, timedelta(hours=20), timedelta(minutes=30)),
]
# older still, last changed weeks ago: outside what a first import reads at all
LONG_AGO = [("Long Ago Customer", FINALIZED, timedelta(days=40), timedelta(days=35))]


@tagged("post_install", "-at_install", "is_tour")
class TestFirstConnectionInBrowser(BrowserTourMixin, LocalSimulatorMixin, ChannelFixtures, HttpCase):
    """A merchant connects an eMAG account with past orders in the browser: nothing old is sold again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._require_browser_in_ci()
        cls.sim = cls._start_simulator(EmagSimulator(username="seller-history", password="History-pa55"))
        # the platform's API address, as the real one comes with the platform on the form
        name, _url, currency, zone = const.PLATFORMS["ro"]
        platforms = patch.dict(const.PLATFORMS, ro=(name, cls.sim.base_url, currency, zone))
        platforms.start()
        cls.addClassCleanup(platforms.stop)
        cls._set_up_basics("base.RON", "eMAG History RON", tax_rate=21.0, tax_name="TVA 21% (history test)")
        cls.chair = cls._product("Office chair", "CHAIR", 500.0, 40)
        cls.desk = cls._product("Desk", "DESK", 1200.0, 10)

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.add_offer(1001, "CHAIR", stock=40, sale_price=500.0, name="Office chair")
        self.sim.add_offer(1002, "DESK", stock=10, sale_price=1200.0, name="Desk")
        for customer, status, placed, modified in HISTORY + LONG_AGO:
            self._past_order(customer, status, placed, modified)

    def _past_order(self, customer, status, placed_ago, modified_ago):
        """An order the account took before Odoo was connected, as eMAG lists it now."""
        order = self.sim.place_order([(1001, 2), (1002, 1)])
        now = platform_now()
        with self.sim.lock:
            stored = self.sim.orders[order["id"]]
            stored["customer"].update(name=customer, billing_name=customer, shipping_contact=customer)
            stored.update(
                status=status,
                date=(now - placed_ago).strftime(DATE),
                modified=(now - modified_ago).strftime(DATE),
            )
        return order["id"]

    def _stock(self):
        products = self.chair | self.desk
        products.invalidate_recordset()
        quants = self.env["stock.quant"].search([("product_id", "in", products.ids)])
        return {
            "on_hand": {p.display_name: p.qty_available for p in products},
            "free": {p.display_name: p.free_qty for p in products},
            "reserved": sum(quants.mapped("reserved_quantity")),
            "moves": self.env["stock.move"].search_count([("product_id", "in", products.ids)]),
        }

    def test_an_accounts_history_is_not_sold_again(self):
        stock_before = self._stock()
        offers_before = {offer_id: self.sim.stock_of(offer_id) for offer_id in (1001, 1002)}
        statuses_before = {order_id: order["status"] for order_id, order in self.sim.orders.items()}
        self.assertNotIn(NEW, statuses_before.values(), "every past order was already handled on eMAG")

        with self._screenshot_when_done("emag_first_connection") as path:
            self.start_tour(CHANNELS_URL, "stock_multichannel_emag_first_connection", login="admin")
        self._assert_screenshot(path)

        channel = self.env["multichannel.channel"].search([("name", "=", "eMAG Romania connected today")])
        self.assertEqual((len(channel), channel.channel_type, channel.emag_platform), (1, "emag", "ro"))
        self.assertTrue(channel.order_import_since, "set when the channel was created")
        orders = self.env["multichannel.order"].search([("channel_id", "=", channel.id)])
        self.assertEqual(
            sorted(orders.mapped("customer_name")), sorted(customer for customer, *_rest in HISTORY), "read and kept"
        )
        for order in orders:
            with self.subTest(order=order.customer_name):
                self.assertEqual(order.state, "skipped")
                self.assertFalse(order.sale_order_id)
                self.assertFalse(order.pending_quantities, "takes no stock")
                self.assertLess(order.order_date, channel.order_import_since)
                self.assertIn("before orders were imported", order.warning)
        self.assertFalse(self.env["sale.order"].search([("multichannel_channel_id", "=", channel.id)]))
        self.assertEqual(self._stock(), stock_before, "nothing reserved, delivered or counted against stock")
        self.assertEqual(channel._available_quantities(self.chair)[self.chair.id], 40)
        # and nothing was written on eMAG either: no acknowledgement, no status, no stock
        paths = {entry["path"] for entry in self.sim.log}
        self.assertIn("order/read", paths)
        self.assertEqual({path for path in paths if not path.endswith(("/read", "/count"))}, set(), "only reads")
        self.assertEqual({order_id: order["status"] for order_id, order in self.sim.orders.items()}, statuses_before)
        self.assertEqual({offer_id: self.sim.stock_of(offer_id) for offer_id in (1001, 1002)}, offers_before)

        # the channel the merchant connected does import what is sold from now on
        placed = self.sim.place_order([(1001, 3)])
        channel._import_orders()
        new = self.env["multichannel.order"].search(
            [("channel_id", "=", channel.id), ("external_id", "=", placed["id"])]
        )
        self.assertEqual(new.state, "done", new.error)
        self.assertEqual(new.sale_order_id.state, "sale")
        self.assertEqual(self.env["sale.order"].search_count([("multichannel_channel_id", "=", channel.id)]), 1)
        self.chair.invalidate_recordset()
        self.assertEqual(self.chair.free_qty, stock_before["free"][self.chair.display_name] - 3)
