import logging

from odoo import Command
from odoo.addons.stock_multichannel.tests.common import LocalSimulatorMixin
from odoo.tests import TransactionCase

from ..simulator.emag_simulator import EmagSimulator

PASSWORD = "S3cr3t-emag-pa55"


class CapturedLogs(logging.Handler):
    """Everything logged anywhere, at every level, while active."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        root = logging.getLogger()
        self.previous_level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.previous_level)


class EmagCase(LocalSimulatorMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = EmagSimulator(username="seller-ro", password=PASSWORD).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.ron = cls.env.ref("base.RON")
        cls.ron.active = True
        cls.pricelist = cls.env["product.pricelist"].create({"name": "eMAG RON", "currency_id": cls.ron.id})
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        cls.vat21 = cls.env["account.tax"].create(
            {
                "name": "TVA 21% (test)",
                "amount": 21.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
            }
        )
        cls.channel = cls.env["multichannel.channel"].create(
            {
                "name": "eMAG RO",
                "channel_type": "emag",
                "emag_platform": "ro",
                "warehouse_ids": [Command.set(cls.warehouse.ids)],
                "pricelist_id": cls.pricelist.id,
                "emag_username": "seller-ro",
                "emag_password": PASSWORD,
                "retry_delay": 0.05,
                "retry_attempts": 4,
                "emag_timeout": 5.0,
                "customer_country_id": cls.env.ref("base.ro").id,
            }
        )
        cls.channel.emag_base_url = cls.sim.base_url
        cls.chair = cls._product("Office chair", "CHAIR", 500.0, 100)
        cls.desk = cls._product("Desk", "DESK", 1200.0, 10)
        cls.chair_listing = cls._listing(cls.chair, 1001)
        cls.desk_listing = cls._listing(cls.desk, 1002)

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.api_rights, self.sim.allowed_ips = True, None
        self.sim.add_offer(1001, "CHAIR", stock=0, sale_price=500.0)
        self.sim.add_offer(1002, "DESK", stock=0, sale_price=1200.0)

    @classmethod
    def _product(cls, name, code, price, quantity, **values):
        product = cls.env["product.product"].create(
            dict(
                {
                    "name": name,
                    "default_code": code,
                    "list_price": price,
                    "is_storable": True,
                    "taxes_id": [Command.set(cls.vat21.ids)],
                },
                **values,
            )
        )
        if quantity:
            cls.env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, quantity)
        return product

    @classmethod
    def _listing(cls, product, offer_id, **values):
        return cls.env["multichannel.product.binding"].create(
            dict({"channel_id": cls.channel.id, "product_id": product.id, "external_id": str(offer_id)}, **values)
        )

    def _set_stock(self, product, delta):
        self.env["stock.quant"]._update_available_quantity(product, self.warehouse.lot_stock_id, delta)
        self.env.cr.flush()  # what the commit of the stock operation does: queue the sync requests
