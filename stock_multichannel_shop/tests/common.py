from odoo import Command
from odoo.addons.stock_multichannel.tests.common import LocalSimulatorMixin

from ..simulator.woo_simulator import WooSimulator

KEY, SECRET = "ck_1234567890abcdef", "cs_s3cr3t-shop-9876"


class ShopSetup(LocalSimulatorMixin):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = WooSimulator(KEY, SECRET).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.euro = cls.env.ref("base.EUR")
        cls.euro.active = True
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Shop EUR", "currency_id": cls.euro.id})
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        cls.vat19 = cls.env["account.tax"].create(
            {
                "name": "VAT 19% shop",
                "amount": 19.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
            }
        )
        cls.channel = cls.env["multichannel.channel"].create(
            {
                "name": "Own shop",
                "channel_type": "woocommerce",
                "woo_url": cls.sim.url,
                "woo_key": KEY,
                "woo_secret": SECRET,
                "warehouse_ids": [Command.set(cls.warehouse.ids)],
                "pricelist_id": cls.pricelist.id,
                "retry_delay": 0.05,
                "woo_timeout": 5.0,
                "order_import_since": False,  # the recorded real shop's orders are older than the test
            }
        )
        cls.chair = cls._product("Office chair", "CHAIR", 100.0, 20)
        cls.shirt_s = cls._product("Shirt S", "SHIRT-S", 20.0, 5)
        cls.shirt_m = cls._product("Shirt M", "SHIRT-M", 20.0, 7)

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.strip_authorization = False
        self.chair_id = self.sim.add_product("CHAIR", "100.00", stock=0)
        self.shirt_id, (self.shirt_s_id, self.shirt_m_id) = self.sim.add_variable(
            "SHIRT", [("SHIRT-S", 0), ("SHIRT-M", 0)]
        )
        self.chair_listing = self._listing(self.chair, self.chair_id)
        self.shirt_s_listing = self._listing(self.shirt_s, self.shirt_s_id, parent=self.shirt_id)
        self.shirt_m_listing = self._listing(self.shirt_m, self.shirt_m_id, parent=self.shirt_id)

    @classmethod
    def _product(cls, name, code, price, quantity):
        product = cls.env["product.product"].create(
            {
                "name": name,
                "default_code": code,
                "list_price": price,
                "is_storable": True,
                "taxes_id": [Command.set(cls.vat19.ids)],
            }
        )
        if quantity:
            cls.env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, quantity)
        return product

    def _listing(self, product, item_id, parent=None, **values):
        return self.env["multichannel.product.binding"].create(
            dict(
                {
                    "channel_id": self.channel.id,
                    "product_id": product.id,
                    "external_id": str(item_id),
                    "external_parent_id": str(parent) if parent else False,
                },
                **values,
            )
        )

    def _set_stock(self, product, delta):
        self.env["stock.quant"]._update_available_quantity(product, self.warehouse.lot_stock_id, delta)
        self.env.cr.flush()
