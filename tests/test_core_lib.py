"""The core's plain-Python library (lib/): no database, no Odoo server."""

import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import TestCase
from urllib.parse import parse_qs

from odoo.addons.stock_multichannel.lib.adapter import ChannelAdapter, TransportError
from odoo.addons.stock_multichannel.lib.availability import apply_policy
from odoo.addons.stock_multichannel.lib.http_sessions import IDLE_SECONDS, forget_sessions, kept_session
from odoo.addons.stock_multichannel.lib.messages import Message, translatable, translated
from odoo.addons.stock_multichannel.lib.orders import OrderDataError, normalize_order
from odoo.addons.stock_multichannel.lib.retry import call_with_retry
from odoo.addons.stock_multichannel.tests.common import order_data
from odoo.addons.stock_multichannel_emag.api.client import EmagClient
from odoo.addons.stock_multichannel_shop.api.client import WooClient


class TestPolicy(TestCase):
    def test_no_policy_is_free_stock_floored(self):
        self.assertEqual(apply_policy(10.0), 10)
        self.assertEqual(apply_policy(7.5), 7)
        self.assertEqual(apply_policy(2.9999999999), 3, "float noise is not a lost unit")

    def test_pending_and_held_back_units_are_subtracted(self):
        self.assertEqual(apply_policy(10, pending=3, held_back=2), 5)

    def test_percentage_is_applied_after_the_buffer(self):
        self.assertEqual(apply_policy(100, held_back=10, percent=50), 45)
        self.assertEqual(apply_policy(5, percent=33), 1)

    def test_never_negative_and_never_above_maximum(self):
        self.assertEqual(apply_policy(-4), 0)
        self.assertEqual(apply_policy(3, pending=5), 0)
        self.assertEqual(apply_policy(100, maximum=20), 20)
        self.assertEqual(apply_policy(10, maximum=0), 10, "0 means no maximum")


class TestNormalizeOrder(TestCase):
    def test_good_order_is_cleaned(self):
        order = normalize_order(
            order_data(lines=[{"listing_external_id": " 7 ", "quantity": "2", "unit_price": "10.50", "tax_rate": None}])
        )
        self.assertEqual(order["lines"][0]["listing_external_id"], "7")
        self.assertEqual(order["lines"][0]["quantity"], 2.0)
        self.assertEqual(order["lines"][0]["unit_price"], 10.5)
        self.assertIsNone(order["lines"][0]["tax_rate"])
        self.assertEqual(order["customer"]["country_code"], "RO")

    def test_every_problem_is_listed(self):
        with self.assertRaises(OrderDataError) as caught:
            normalize_order(
                order_data(
                    external_id="",
                    status="paid",
                    currency="",
                    lines=[{"sku": "X", "quantity": "abc", "unit_price": -1}, {"quantity": 1, "unit_price": 1}],
                    customer={},
                    total="NaN",
                )
            )
        problems = caught.exception.problems
        for expected in (
            "external_id: missing",
            "status: 'paid'",
            "currency: missing",
            "lines[1].quantity: not a number",
            "lines[1].unit_price: must be at least 0",
            "lines[2]: neither a listing id nor a SKU",
            "customer.name: missing",
            "total: not a number",
        ):
            self.assertTrue(any(expected in p for p in problems), f"{expected!r} not in {problems}")

    def test_an_order_without_lines_is_refused(self):
        with self.assertRaisesRegex(OrderDataError, "at least one line"):
            normalize_order(order_data(lines=[]))
        with self.assertRaisesRegex(OrderDataError, "not an object"):
            normalize_order(["not", "an", "order"])


class StrictAdapter(ChannelAdapter):
    """Translates like a connector that trusts the channel's shape."""

    def translate_order(self, raw):
        return {"external_id": str(raw["id"]), "lines": [{"quantity": q} for q in raw["quantities"]]}


class TestUnreadableOrders(TestCase):
    def test_what_breaks_the_translation_comes_back_as_an_error(self):
        adapter = StrictAdapter(channel=None)
        broken = adapter.normalized_order({"id": 42, "quantities": 7})
        self.assertEqual(broken["external_id"], "42", "kept, so the order is found again when fixed")
        self.assertIn("unreadable order (TypeError", broken["error"])
        self.assertEqual(broken["raw"], {"id": 42, "quantities": 7})
        missing = adapter.normalized_order({"quantities": []})
        self.assertEqual(missing["external_id"], "")
        self.assertIn("KeyError", missing["error"])

    def test_something_else_than_an_order(self):
        self.assertEqual(StrictAdapter(None).normalized_order("<html>")["error"], "not an order: '<html>'")

    def test_the_core_refuses_it_with_that_error(self):
        broken = StrictAdapter(None).normalized_order([1])
        with self.assertRaises(OrderDataError) as refused:
            normalize_order(broken)
        self.assertEqual(refused.exception.problems, ["not an order: '[1]'"])

    def test_a_readable_order_passes_through(self):
        self.assertEqual(
            StrictAdapter(None).normalized_order({"id": 1, "quantities": [2]}),
            {"external_id": "1", "lines": [{"quantity": 2}]},
        )


class TestRetry(TestCase):
    def test_temporary_faults_are_retried_with_growing_waits(self):
        waits, calls = [], []

        def flaky():
            calls.append(1)
            if len(calls) < 3:
                raise TransportError("timeout")
            return "done"

        self.assertEqual(call_with_retry(flaky, attempts=4, base_delay=1.0, sleep=waits.append), "done")
        self.assertEqual(waits, [1.0, 2.0])

    def test_retry_after_wins_when_longer(self):
        waits = []
        faults = [TransportError("429", retry_after=7), TransportError("429", retry_after=0.1)]

        def throttled():
            if faults:
                raise faults.pop(0)
            return "ok"

        call_with_retry(throttled, attempts=3, base_delay=1.0, sleep=waits.append)
        self.assertEqual(waits, [7, 2.0])

    def test_the_last_fault_propagates(self):
        waits = []

        def down():
            raise TransportError("503")

        with self.assertRaises(TransportError):
            call_with_retry(down, attempts=3, base_delay=0.5, sleep=waits.append)
        self.assertEqual(waits, [0.5, 1.0])

    def test_other_errors_are_not_retried(self):
        calls = []

        def broken():
            calls.append(1)
            raise ValueError("bug")

        with self.assertRaises(ValueError):
            call_with_retry(broken, attempts=5, base_delay=0, sleep=lambda s: None)
        self.assertEqual(len(calls), 1)


class TestMessages(TestCase):
    """Texts made without an Odoo environment keep what the ORM side needs to translate them."""

    def test_a_message_is_its_english_text_and_remembers_its_template(self):
        _lt = translatable("odoo.addons.stock_multichannel_emag.api.client")
        message = _lt("eMAG answered HTTP %(status)s on %(path)s", status=502, path="order/read")
        self.assertEqual(message, "eMAG answered HTTP 502 on order/read")
        self.assertEqual(
            (message.addon, message.template, message.params),
            (
                "stock_multichannel_emag",
                "eMAG answered HTTP %(status)s on %(path)s",
                {"status": 502, "path": "order/read"},
            ),
        )
        self.assertEqual(str(TransportError(message)), "eMAG answered HTTP 502 on order/read")

    def test_order_problems_are_messages_joined_as_before(self):
        with self.assertRaises(OrderDataError) as raised:
            normalize_order(order_data(lines=[{"sku": "A", "quantity": "ten", "unit_price": 5}]))
        self.assertEqual(str(raised.exception), "lines[1].quantity: not a number ('ten')")
        problem = raised.exception.problems[0]
        self.assertEqual(problem.template, "%(where)s: not a number (%(value)r)")
        self.assertEqual(problem.params, {"where": "lines[1].quantity", "value": "ten"})

    def test_translated_renders_each_part_in_the_users_language(self):
        _lt = translatable("odoo.addons.stock_multichannel.lib.orders")
        joined = Message.join("; ", [_lt("%(where)s: missing", where="currency"), "as sent"])
        english = type("Env", (), {"lang": "en_US"})()
        self.assertEqual(translated(english, joined), "currency: missing; as sent")
        self.assertEqual(translated(english, TransportError(joined)), "currency: missing; as sent")
        self.assertEqual(translated(english, ValueError("plain")), "plain", "any other error: its text")
        self.assertEqual(Message.join(" % ", ["a", "b"]), "a % b", "a separator is never a placeholder")


class TestKeptSessions(TestCase):
    """The channels' API clients keep their connection alive between calls and clients."""

    @classmethod
    def setUpClass(cls):
        ports = cls.ports = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                ports.append(self.client_address[1])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True  # a connection kept alive never holds the server's close
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}/"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.ports.clear()
        self.account = object()  # an account no other test uses

    def test_one_connection_for_the_calls_of_clients_made_one_after_the_other(self):
        for _client in range(3):
            session = kept_session(self.account)
            session.get(self.url, timeout=5)
            session.get(self.url, timeout=5)
        self.assertEqual(len(self.ports), 6)
        self.assertEqual(len(set(self.ports)), 1, "one connection, kept alive")

    def test_each_account_and_each_thread_has_its_own(self):
        mine = kept_session(self.account)
        self.assertIs(kept_session(self.account), mine)
        self.assertIsNot(kept_session(object()), mine)
        theirs = []
        thread = threading.Thread(target=lambda: theirs.append(kept_session(self.account)))
        thread.start()
        thread.join()
        self.assertIsNot(theirs[0], mine)

    def test_a_session_idle_for_longer_than_a_server_may_keep_it_is_replaced(self):
        now = [1000.0]
        first = kept_session(self.account, clock=lambda: now[0])
        first.get(self.url, timeout=5)
        now[0] += IDLE_SECONDS - 0.5
        self.assertIs(kept_session(self.account, clock=lambda: now[0]), first, "used a moment ago")
        now[0] += IDLE_SECONDS + 0.5
        second = kept_session(self.account, clock=lambda: now[0])
        self.assertIsNot(second, first)
        second.get(self.url, timeout=5)
        self.assertEqual(len(set(self.ports)), 2, "a new connection")
        now[0] += IDLE_SECONDS + 0.5
        first.get(self.url, timeout=5)  # a client still holding the idle session
        self.assertEqual(len(set(self.ports)), 3, "its idle connection dropped before the request")

    def test_the_connectors_clients_share_their_accounts_session(self):
        emag = [EmagClient("https://marketplace-api.emag.ro/api-3", user, "pw") for user in ("ro", "ro", "bg")]
        self.assertIs(emag[0].session, emag[1].session)
        self.assertIsNot(emag[0].session, emag[2].session)
        shops = [
            WooClient(url, "ck_1", "cs_1") for url in ("https://a.example", "https://a.example", "https://b.example")
        ]
        self.assertIs(shops[0].session, shops[1].session)
        self.assertIsNot(shops[0].session, shops[2].session)
        self.assertIsNot(shops[0].session, emag[0].session)
        agents = [WooClient("https://c.example", "ck_1", "cs_1", user_agent=agent) for agent in ("A/1", "B/2")]
        self.assertIs(agents[0].session, agents[1].session)
        self.assertEqual([client.headers["User-Agent"] for client in agents], ["A/1", "B/2"], "each channel's own")
        self.assertNotIn("A/1", agents[0].session.headers.values())


class TestDroppedConnections(TestCase):
    """A server may close a kept connection as a request leaves on it (a keep-alive shorter
    than ours, a restart): a request that does no harm sent twice is sent once more on a
    new connection, by its client (in a rate slot of its own, signed anew); any other
    fails, saying the server closed the connection."""

    @classmethod
    def setUpClass(cls):
        received = cls.received = []  # (client port, method, path, query) of every request read
        drops = cls.drops = []  # [requests on a kept connection to leave unanswered, how]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                self.answered = 0

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path, _, query = self.path.partition("?")
                received.append((self.client_address[1], self.command, path, query))
                if self.answered and drops[0] > 0:
                    drops[0] -= 1
                    if drops[1] == "not http":
                        self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
                    self.close_connection = True  # read, then closed without an answer
                    return
                self.answered += 1
                body = b'{"isError": false, "results": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args):
                pass

        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.server.daemon_threads = True
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        forget_sessions()
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        forget_sessions()
        self.received.clear()
        self.drops[:] = [1, "close"]

    def paths(self):
        return [path.rsplit("/", 1)[-1] for _port, _method, path, _query in self.received]

    def emag(self):
        client = EmagClient(f"{self.url}/api-3", "dropped", "pw", timeout=5)
        slots = []

        class CountingLimiter:
            @contextmanager
            def slot(self):
                slots.append(1)
                yield

        client.limiters = {"order": CountingLimiter(), "other": CountingLimiter()}
        return client, slots

    def test_an_emag_read_dropped_on_a_kept_connection_is_sent_again_on_a_new_one_in_its_own_slot(self):
        client, slots = self.emag()
        client.call("product_offer/read", {})
        client.call("order/acknowledge/100001")  # acknowledging twice is acknowledging
        self.assertEqual(self.paths(), ["read", "100001", "100001"])
        ports = [port for port, *_rest in self.received]
        self.assertEqual(ports[0], ports[1], "the kept connection")
        self.assertNotEqual(ports[2], ports[1], "sent again on a new one")
        self.assertEqual(len(slots), 3, "the request sent again counts against eMAG's limit")

    def test_an_emag_write_that_is_not_idempotent_is_sent_once_and_says_the_connection_was_closed(self):
        client, _slots = self.emag()
        client.call("vat/read")
        with self.assertRaises(TransportError) as caught:
            client.save("order", [{"id": 100001, "status": 4}], retry=False)
        self.assertEqual(
            str(caught.exception), "eMAG closed the connection before answering order/save (RemoteDisconnected)"
        )
        self.assertEqual(self.paths(), ["read", "save"], "sent once")

    def test_a_shop_read_is_sent_again_signed_anew_its_writes_and_deletes_once(self):
        shop = WooClient(self.url, "ck_1", "cs_1", timeout=5)  # plain http: OAuth 1.0a signing
        self.assertEqual(shop.auth_mode, "oauth")
        shop.request("GET", "system_status")
        shop.request("GET", "orders", {"per_page": 1})
        self.assertEqual(self.paths(), ["system_status", "orders", "orders"])
        nonces = [
            parse_qs(query)["oauth_nonce"][0]
            for _port, _method, path, query in self.received
            if path.endswith("orders")
        ]
        self.assertNotEqual(nonces[0], nonces[1], "the shop refuses a nonce it has seen")
        for method, path in (("POST", "webhooks"), ("DELETE", "webhooks/7")):
            self.received.clear()
            self.drops[:] = [1, "close"]
            shop.session.close()  # a new connection, kept after its first answer
            shop.request("GET", "system_status")
            with self.assertRaises(TransportError) as caught:
                shop.request(method, path)
            self.assertIn("the shop closed the connection before answering", str(caught.exception))
            self.assertEqual(len(self.received), 2, f"{method} sent once")
        self.received.clear()
        self.drops[:] = [1, "close"]
        shop.session.close()
        shop.request("GET", "system_status")
        shop.batch_update("products", [{"id": 1, "stock_quantity": 3}])  # values set: the same shop twice
        self.assertEqual(self.paths(), ["system_status", "batch", "batch"])

    def test_a_server_answering_something_else_than_http_is_not_a_dropped_connection(self):
        self.drops[:] = [1, "not http"]
        client, _slots = self.emag()
        client.call("vat/read")
        with self.assertRaises(TransportError) as caught:
            client.call("vat/read")
        self.assertIn("could not reach eMAG", str(caught.exception), "the address may be wrong")
        self.assertEqual(len(self.received), 2, "sent once")

    def test_a_refused_connection_still_says_the_address_may_be_wrong(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        with self.assertRaises(TransportError) as caught:
            EmagClient(f"http://127.0.0.1:{port}/api-3", "refused", "pw", timeout=5).call("vat/read")
        self.assertIn("could not reach eMAG", str(caught.exception))
        shop = WooClient(f"http://127.0.0.1:{port}", "ck_1", "cs_1", timeout=5)
        with self.assertRaises(TransportError) as caught:
            shop.request("GET", "orders")
        self.assertIn("could not reach the shop", str(caught.exception))
