from odoo.addons.stock_multichannel.tests.common import CapturedLogs, ChannelFixtures, LocalSimulatorMixin
from odoo.tests import TransactionCase

from ..simulator.emag_simulator import EmagSimulator

PASSWORD = "S3cr3t-emag-pa55"

__all__ = ["PASSWORD", "CapturedLogs", "EmagCase"]


class EmagCase(LocalSimulatorMixin, ChannelFixtures, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator(EmagSimulator(username="seller-ro", password=PASSWORD))
        cls._set_up_basics("base.RON", "eMAG RON", tax_rate=21.0, tax_name="TVA 21% (test)")
        cls.ron, cls.vat21 = cls.currency, cls.sale_taxes
        cls.channel = cls._channel(
            "eMAG RO",
            "emag",
            emag_platform="ro",
            emag_username="seller-ro",
            emag_password=PASSWORD,
            retry_attempts=4,
            emag_timeout=5.0,
            customer_country_id=cls.env.ref("base.ro").id,
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
