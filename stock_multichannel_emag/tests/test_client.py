import socket
import time

from odoo.addons.stock_multichannel.lib.adapter import TransportError
from odoo.addons.stock_multichannel.lib.orders import OrderDataError
from odoo.addons.stock_multichannel.lib.orders import normalize_order as core_normalize
from odoo.addons.stock_multichannel.tests.common import LocalSimulatorMixin
from odoo.tests import BaseCase, tagged

from ..api import translate
from ..api.client import EmagAccessError, EmagApiError, EmagClient
from ..api.ratelimit import AnswerWindowLimiter
from ..simulator.emag_simulator import EmagSimulator


@tagged("post_install", "-at_install")
class TestEmagClient(LocalSimulatorMixin, BaseCase):
    """The plain client against the simulator, over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = EmagSimulator(username="client-test", password="pw-client").start()
        cls.addClassCleanup(cls.sim.stop)

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.sim.api_rights, self.sim.allowed_ips = True, None

    def client(self, password="pw-client", **options):
        return EmagClient(self.sim.base_url, "client-test", password, **options)

    def test_wrong_credentials(self):
        with self.assertRaisesRegex(EmagAccessError, "username or password"):
            self.client(password="wrong").call("vat/read")

    def test_a_password_beyond_latin_1_is_sent_in_utf_8_and_never_quoted(self):
        """Encoded in Latin-1, an "ț" failed the call with an error naming it and its place
        in the password, kept on the channel where its users read errors."""
        self.sim.accounts["client-test"] = "parolă-ș"
        self.addCleanup(self.sim.accounts.__setitem__, "client-test", "pw-client")
        self.assertEqual(len(self.client(password="parolă-ș").call("vat/read").results), 3)
        with self.assertRaises(EmagAccessError) as refused:
            self.client(password="parolă-ț").call("vat/read")
        self.assertNotIn("ț", str(refused.exception))
        self.assertNotIn("u021b", str(refused.exception))

    def test_no_api_rights_and_ip_not_whitelisted(self):
        self.sim.api_rights = False
        with self.assertRaisesRegex(EmagAccessError, "API rights"):
            self.client().call("vat/read")
        self.sim.api_rights = True
        self.sim.allowed_ips = {"10.1.2.3"}
        with self.assertRaisesRegex(EmagAccessError, "not whitelisted"):
            self.client().call("vat/read")

    def test_temporary_faults_are_retried_refusals_are_not(self):
        for kind in ("503", "malformed", "429"):
            self.sim.add_fault(kind, "vat/read")
        rates = self.client(attempts=4, retry_delay=0.01).call("vat/read").results
        self.assertEqual(len(rates), 3)
        self.assertEqual(len(self.sim.requests_to("vat/read")), 4)
        with self.assertRaisesRegex(EmagApiError, "itemsPerPage"):
            self.client(attempts=4, retry_delay=0.01).call("order/read", {"itemsPerPage": 500})
        self.assertEqual(len(self.sim.requests_to("order/read")), 1, "an isError answer is not retried")

    def test_a_timeout_is_a_transport_error(self):
        self.sim.add_fault("timeout", "vat/read", delay=1.0)
        with self.assertRaisesRegex(TransportError, "did not answer"):
            self.client(timeout=0.3).call("vat/read")

    def test_a_fault_says_whether_the_request_may_still_reach_emag(self):
        """What a push must send again later (see ``_push_again_once_arrived``): faults of
        a request that certainly never reached eMAG, or that eMAG itself finished with
        (HTTP 500, its last word on it), say nothing of it arrives later; a gateway's 503
        may still have it on its way."""

        def fault(client):
            with self.assertRaises(TransportError) as caught:
                client.call("vat/read")
            return caught.exception

        may_reach = {}
        for kind, extra in (("timeout", {"delay": 0.6}), ("500", {}), ("503", {}), ("malformed", {}), ("429", {})):
            self.sim.add_fault(kind, "vat/read", **extra)
            may_reach[kind] = fault(self.client(timeout=0.3)).maybe_applied
        self.assertEqual(
            may_reach, {"timeout": True, "500": False, "503": True, "malformed": True, "429": False}, may_reach
        )
        # nothing listens there: the connection is refused before anything is sent
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        closed = EmagClient(f"http://127.0.0.1:{port}", "client-test", "pw-client")
        refused = fault(closed)
        self.assertRegex(str(refused), "could not reach")
        self.assertFalse(refused.maybe_applied)

    def test_refused_items_inside_a_successful_answer(self):
        self.sim.add_offer(7, stock=1)
        self.sim.add_offer(8, stock=1, sale_price=100.0)  # allowed between 50 and 200
        envelope = self.client().save(
            "offer", [translate.stock_item(7, 5, 1), {"id": 8, "sale_price": 900.0}, translate.stock_item(9, 5, 1)]
        )
        refused, unattributed = translate.refused_items(envelope.raw_messages, [7, 8, 9], envelope.results)
        self.assertEqual(sorted(refused), [8, 9])
        self.assertEqual(unattributed, [])
        self.assertIn("must lie between", refused[8])
        self.assertIn("does not exist", refused[9])
        self.assertEqual(self.sim.stock_of(7), 5)

    def test_more_than_fifty_is_refused_by_the_api(self):
        with self.assertRaisesRegex(EmagApiError, "Maximum 50"):
            self.client().save("offer", [translate.stock_item(i, 1, 1) for i in range(1, 52)])

    def test_paged_reads(self):
        for offer in range(1, 231):
            self.sim.add_offer(offer)
        self.assertEqual(len(self.client().read_all("product_offer")), 230)
        self.assertEqual(len(self.sim.requests_to("product_offer/read")), 3)

    def test_the_rate_limit_is_never_exceeded(self):
        client = self.client()
        started = time.monotonic()
        for _index in range(7):
            client.call("vat/read")
        elapsed = time.monotonic() - started
        self.assertLessEqual(self.sim.max_rate("other"), 3)
        self.assertFalse([e for e in self.sim.log if e["status"] == 429])
        self.assertGreaterEqual(elapsed, 2.0, "7 calls at 3 per second take two windows")


@tagged("post_install", "-at_install")
class TestTranslate(BaseCase):
    def test_stock_is_clamped(self):
        self.assertEqual(translate.stock_item(5, -3, 1), {"id": 5, "stock": [{"warehouse_id": 1, "value": 0}]})
        self.assertEqual(translate.stock_item(5, 70000, 2)["stock"][0], {"warehouse_id": 2, "value": 65535})

    def test_prices(self):
        self.assertEqual(translate.without_vat(121.0, 21.0, True), 100.0)
        self.assertEqual(translate.without_vat(99.99, 21.0, False), 99.99)
        item = translate.price_item(5, 90.0, 100.0, 20, 50)
        self.assertEqual(
            item,
            {"id": 5, "sale_price": 90.0, "min_sale_price": 72.0, "max_sale_price": 135.0, "recommended_price": 100.0},
        )
        self.assertNotIn("recommended_price", translate.price_item(5, 90.0, 90.0, 20, 50))

    def test_offer_ids(self):
        self.assertEqual(translate.offer_id(" 42 "), 42)
        self.assertIsNone(translate.offer_id("CHAIR"))
        self.assertIsNone(translate.offer_id(2**24))

    def test_an_order_translates_to_a_valid_core_order(self):
        sim = EmagSimulator()
        sim.add_offer(11, "CHAIR", sale_price=100.0)
        sim.add_offer(12, "DESK", sale_price=250.0, stock=5)
        order = sim.place_order(
            [(11, 2), (12, 1)],
            shipping_tax=12.1,
            vouchers=[
                {
                    "voucher_id": 1,
                    "voucher_name": "Black Friday -10",
                    "sale_price": -10.0,
                    "sale_price_vat": -2.1,
                    "vat": "0.21",
                }
            ],
        )
        order["products"].append(dict(order["products"][0], id=999, status=0, quantity=5))  # removed line
        data = core_normalize(translate.normalize_order(order, "RON", 21.0))
        self.assertEqual(data["status"], "open")
        self.assertEqual(
            [(line["listing_external_id"], line["quantity"], line["tax_rate"]) for line in data["lines"]],
            [("11", 2.0, 21.0), ("12", 1.0, 21.0)],
        )
        self.assertEqual(data["shipping"], [{"name": "eMAG shipping", "amount": 10.0, "tax_rate": 21.0}])
        self.assertEqual(data["discounts"][0]["amount"], 10.0)
        # (2 * 100 + 250) * 1.21 + 12.1 - 12.1
        self.assertEqual(data["total"], 544.5)
        self.assertEqual(data["customer"]["country_code"], "RO")
        self.assertEqual(data["payment_method"], "cash on delivery")

    def test_the_shipping_fee_takes_the_highest_rate_of_the_lines(self):
        sim = EmagSimulator()
        sim.add_offer(11, "BOOK", sale_price=100.0)
        sim.add_offer(12, "LAMP", sale_price=50.0)
        order = sim.place_order([(11, 1), (12, 1)], shipping_tax=24.2)
        order["products"][0]["vat"] = "0.1100"
        order["products"][1]["vat"] = "0.2100"
        data = core_normalize(translate.normalize_order(order, "RON", 19.0))
        self.assertEqual(data["shipping"], [{"name": "eMAG shipping", "amount": 20.0, "tax_rate": 21.0}])
        self.assertEqual(data["total"], 195.7)  # 111 + 60.5 + 24.2
        del order["products"][0]["vat"]  # a line that says no rate: the other lines' still count
        self.assertEqual(translate.normalize_order(order, "RON", 19.0)["shipping"][0]["tax_rate"], 21.0)
        order["products"][0]["vat"] = "abc"  # no number: the core refuses it, naming it
        translated = translate.normalize_order(order, "RON", 19.0)
        self.assertEqual(len(translated["lines"]), 2, "its lines read: it holds its units while it waits")
        with self.assertRaisesRegex(OrderDataError, r"lines\[1\]\.tax_rate: not a number"):
            core_normalize(translated)

    def test_an_amount_that_is_no_number_keeps_the_order_to_fix(self):
        """Read as 0, the shipping or voucher was left out, and the total (computed from the
        same values) agreed: the order was booked without them, with no warning."""
        sim = EmagSimulator()
        sim.add_offer(11, "CHAIR", sale_price=100.0)
        good = sim.place_order([(11, 1)], shipping_tax=19.99)
        self.assertEqual(translate.normalize_order(good, "RON", 21.0)["shipping"][0]["amount"], 16.5207)
        comma = translate.normalize_order(dict(good, shipping_tax="19,99"), "RON", 21.0)
        with self.assertRaisesRegex(OrderDataError, r"shipping\[1\]\.amount: not a number \('19,99'\)"):
            core_normalize(comma)
        self.assertEqual(len(comma["lines"]), 1, "its lines read: it holds its units while it waits")
        voucher = {"voucher_name": "-10", "sale_price": "-10,00", "sale_price_vat": "-2.10", "vat": "0.21"}
        with self.assertRaisesRegex(OrderDataError, r"discounts\[1\]\.amount: not a number \('-10,00'\)"):
            core_normalize(translate.normalize_order(dict(good, vouchers=[voucher]), "RON", 21.0))

    def test_statuses(self):
        for status, expected, acknowledged in (
            (0, "cancelled", None),  # canceled before or after its acknowledgement: eMAG does not say
            (1, "open", False),
            (2, "open", True),
            (3, "open", True),
            (4, "open", True),
            (5, "cancelled", True),  # returned: its units came back
        ):
            order = translate.normalize_order({"id": 1, "status": status}, "RON", 21)
            self.assertEqual((order["status"], order["acknowledged"]), (expected, acknowledged), status)


@tagged("post_install", "-at_install")
class TestLimiter(BaseCase):
    def test_window_from_the_answers(self):
        now = [0.0]
        waits = []

        def sleep(seconds):
            waits.append(round(seconds, 3))
            now[0] += seconds

        limiter = AnswerWindowLimiter(3, window=1.0, clock=lambda: now[0], sleep=sleep)
        for _index in range(7):
            with limiter.slot():
                now[0] += 0.1  # each answer comes 0.1 s after its request
        # the 4th waits for one window after the 1st answer (0.1 -> 1.1), not its send
        self.assertEqual(waits, [0.8, 0.8])
