from odoo.addons.stock_multichannel.tests.common import ChannelFixtures, LocalSimulatorMixin

from ..simulator.woo_simulator import WooSimulator

KEY, SECRET = "ck_1234567890abcdef", "cs_s3cr3t-shop-9876"


class ShopSetup(LocalSimulatorMixin, ChannelFixtures):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator(WooSimulator(KEY, SECRET))
        cls._set_up_basics("base.EUR", "Shop EUR", tax_rate=19.0, tax_name="VAT 19% shop")
        cls.euro, cls.vat19 = cls.currency, cls.sale_taxes
        cls.channel = cls._channel(
            "Own shop",
            "woocommerce",
            woo_url=cls.sim.url,
            woo_key=KEY,
            woo_secret=SECRET,
            woo_timeout=5.0,
            order_import_since=False,  # the recorded real shop's orders are older than the test
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
