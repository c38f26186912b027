"""The SAME recordings of a real WooCommerce 9.2.5 checked against the simulator (so it
cannot drift), and the connector's client and adapter against it over real HTTP."""

import base64
import json
import logging
import re
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests
from recordings import deliveries, order, row

from odoo.addons.stock_multichannel.lib.adapter import (
    ChannelError,
    ListingExtra,
    PriceUpdate,
    ProductTax,
    StockUpdate,
    TransportError,
)
from odoo.addons.stock_multichannel_shop.adapter import ShopPricing, WooCommerceAdapter
from odoo.addons.stock_multichannel_shop.api import translate
from odoo.addons.stock_multichannel_shop.api.client import WooClient
from odoo.addons.stock_multichannel_shop.simulator.woo_simulator import WooSimulator

KEY, SECRET = "ck_contract", "cs_contract-secret"
PREFIX = "/wp-json/wc/v3/"


@pytest.fixture
def sim():
    simulator = WooSimulator(KEY, SECRET).start()
    yield simulator
    simulator.stop()


class FakeChannel:
    name = "Shop"
    pricelist_id = SimpleNamespace(currency_id=SimpleNamespace(name="EUR"))

    def __init__(self, client):
        self.client = client

    def _woo_client(self):
        return self.client


def adapter_for(sim, **options):
    return WooCommerceAdapter(FakeChannel(WooClient(sim.url, KEY, SECRET, timeout=5, **options)))


def raw(sim, method, path, https=None, **kwargs):
    """A request as a real shop's client would send it (Basic auth; https if told)."""
    previous = sim.https
    if https is not None:
        sim.https = https
    try:
        return requests.request(method, f"{sim.url}{PREFIX}{path}", auth=(KEY, SECRET), timeout=5, **kwargs)
    finally:
        sim.https = previous


def shape(value):
    """The JSON types of a record, recursively (lists by their first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_types(recorded, simulated, keys):
    """Every field the simulator sends exists in the real answer with the same JSON type
    (the simulator may leave out fields the connector never reads)."""

    def check(real, simulated, where):
        if isinstance(simulated, dict):
            assert isinstance(real, dict), where
            for key, value in simulated.items():
                assert key in real, f"{where}.{key}: not sent by the real shop"
                check(real[key], value, f"{where}.{key}")
        elif isinstance(simulated, list):
            assert isinstance(real, list), where
            if simulated and real:
                check(real[0], simulated[0], f"{where}[0]")
        else:
            assert shape(simulated) == shape(real), (where, simulated, real)

    for key in keys:
        check(recorded.get(key), simulated.get(key), key)


# ----------------------------------------------------------------------
# auth over http and https
# ----------------------------------------------------------------------
def test_plain_http_refuses_basic_and_query_keys_and_accepts_oauth(sim):
    answer = raw(sim, "GET", "orders")
    assert answer.status_code == 401 and answer.json()["code"] == "woocommerce_rest_cannot_view"
    answer = requests.get(
        f"{sim.url}{PREFIX}orders", params={"consumer_key": KEY, "consumer_secret": SECRET}, timeout=5
    )
    assert answer.status_code == 401 and answer.json()["code"] == "woocommerce_rest_cannot_view"
    client = WooClient(sim.url, KEY, SECRET, timeout=5)
    assert client.auth_mode == "oauth"
    assert client.get_all("orders", {"modified_after": "2026-11-20T00:00:00", "dates_are_gmt": "true"}) == []
    wrong = WooClient(sim.url, KEY, "cs_wrong", timeout=5)
    with pytest.raises(ChannelError, match="signature does not match"):
        wrong.request("GET", "orders")
    # a replayed signed request is refused (nonce)
    sent = sim.log[-2]
    assert sent["path"] == "orders" and "oauth_signature" in sent["query"]
    again = requests.get(f"{sim.url}{PREFIX}orders", params={k: v[0] for k, v in sent["query"].items()}, timeout=5)
    assert again.status_code == 401


def test_over_https_basic_works_and_a_wrong_secret_says_so(sim):
    assert raw(sim, "GET", "orders", https=True).status_code == 200
    sim.https = True
    answer = requests.get(f"{sim.url}{PREFIX}orders", auth=(KEY, "cs_wrong"), timeout=5)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Consumer secret is invalid."  # as the README's real shop
    client = WooClient(sim.url, KEY, SECRET, timeout=5, auth_mode="query")
    assert client.request("GET", "orders")[0] == []


def test_keys_and_signatures_never_logged(sim, caplog):
    caplog.set_level(logging.DEBUG)
    client = WooClient(sim.url, KEY, SECRET, timeout=5)
    client.get_all("products")
    assert "oauth_signature=***" in caplog.text
    assert SECRET not in caplog.text


# ----------------------------------------------------------------------
# orders: the same numbers and types as the real shop
# ----------------------------------------------------------------------
def test_an_order_with_a_coupon_and_rounded_taxes_as_the_real_shop(sim):
    pen, chair = sim.add_product("PEN", "9.99", stock=50), sim.add_product("CHAIR", "100.00", stock=14)
    placed = sim.place_order([(pen, 0, 3, 9.99), (chair, 0, 1, 100.0)], coupon=13.0, code="SAVE10")
    recorded = order(30, "processing")
    money = ("subtotal", "subtotal_tax", "total", "total_tax", "taxes", "price", "quantity")
    for simulated, real in zip(placed["line_items"], recorded["line_items"], strict=True):
        assert {k: simulated[k] for k in money} == {k: real[k] for k in money}
    for key in ("total", "total_tax", "discount_total", "discount_tax", "shipping_total", "shipping_tax"):
        assert placed[key] == recorded[key], key
    assert {k: placed["coupon_lines"][0][k] for k in ("code", "discount", "discount_tax")} == {
        k: recorded["coupon_lines"][0][k] for k in ("code", "discount", "discount_tax")
    }
    assert placed["shipping_lines"][0]["taxes"] == recorded["shipping_lines"][0]["taxes"]
    assert {k: placed["tax_lines"][0][k] for k in ("rate_id", "rate_percent", "tax_total", "shipping_tax_total")} == {
        k: recorded["tax_lines"][0][k] for k in ("rate_id", "rate_percent", "tax_total", "shipping_tax_total")
    }
    same_types(
        recorded,
        placed,
        (
            "id",
            "number",
            "status",
            "currency",
            "prices_include_tax",
            "total",
            "line_items",
            "shipping_lines",
            "coupon_lines",
            "tax_lines",
            "billing",
            "date_modified_gmt",
        ),
    )
    assert translate.normalize_order(placed)["discounts"] == translate.normalize_order(recorded)["discounts"]


def test_whole_prices_are_json_ints_like_the_real_shop(sim):
    desk, arm = sim.add_product("DESK", "239.99", stock=5), sim.add_product("ARM", "30.00", stock=5)
    placed = sim.place_order([(desk, 0, 1, 239.99), (arm, 0, 2, 30.0)])
    recorded = order(26, "processing")
    assert [line["price"] for line in placed["line_items"]] == [line["price"] for line in recorded["line_items"]]
    assert [type(line["price"]) for line in placed["line_items"]] == [float, int]
    assert [line["taxes"] for line in placed["line_items"]] == [line["taxes"] for line in recorded["line_items"]]
    assert placed["total"] == recorded["total"]


def test_checkout_drafts_like_the_real_shop(sim):
    arm = sim.add_product("ARM", "40.00", stock=5)
    draft = sim.open_checkout([(arm, 0, 1, 40.0)])
    recorded = order(27, "checkout-draft")
    assert draft["status"] == recorded["status"] == "checkout-draft"
    assert sim.stock_of(arm) == 5, "a draft holds no stock"
    listed = WooClient(sim.url, KEY, SECRET).get_all("orders")
    assert [o["status"] for o in listed] == ["checkout-draft"], "listed by the default GET /orders"
    adapter = adapter_for(sim)
    assert adapter.fetch_orders(None).orders == [], "never handed to the core"
    assert sim.expire_drafts() == [draft["id"]]
    gone = raw(sim, "GET", f"orders/{draft['id']}", https=True)
    assert gone.status_code == 404 and gone.json() == row(84)["body"]
    assert adapter.read_order(draft["id"]) is None


def test_a_draft_placed_later_becomes_a_real_order(sim):
    arm = sim.add_product("ARM", "40.00", stock=5)
    draft = sim.open_checkout([(arm, 0, 1, 40.0)])
    sim.checkout(draft["id"])
    assert sim.stock_of(arm) == 4
    fetched = adapter_for(sim).fetch_orders(None).orders
    assert [(o["external_id"], o["status"]) for o in fetched] == [(str(draft["id"]), "open")]


def test_orders_changed_while_their_pages_are_read_are_all_fetched(sim):
    chair = sim.add_product("CHAIR", "100.00", stock=1000)
    ids = [sim.place_order([(chair, 0, 1, 100.0)])["id"] for _ in range(250)]
    # 50 changed a second apart, then 150 within one second (more than a page), then 50 more
    stamps = [f"2026-01-01T00:00:{i:02d}" for i in range(50)] + ["2026-01-01T00:01:00"] * 150
    stamps += [f"2026-01-01T00:02:{i:02d}" for i in range(50)]
    for order_id, stamp in zip(ids, stamps, strict=True):
        sim.orders[order_id]["date_modified_gmt"] = stamp
    adapter = adapter_for(sim)
    request = adapter.client.request

    def staff_completes_an_old_order_meanwhile(method, path, params=None, **kwargs):
        answer = request(method, path, params, **kwargs)
        if path == "orders" and len(sim.requests_to("GET", "orders")) == 1:
            with sim.lock:  # it moves to the end of the list: page numbers would skip one
                sim.orders[ids[10]].update(status="completed", date_modified_gmt="2026-01-01T03:00:00")
        return answer

    adapter.client.request = staff_completes_an_old_order_meanwhile
    fetched = adapter.fetch_orders("2025-12-31T23:00:00")
    assert sorted(int(o["external_id"]) for o in fetched.orders) == sorted(ids), "each once, none skipped"
    assert fetched.watermark == "2026-01-01T03:00:00"
    assert [o["status"] for o in fetched.orders if o["external_id"] == str(ids[10])] == ["open"]


# ----------------------------------------------------------------------
# products, pagination, batches
# ----------------------------------------------------------------------
def test_pagination_headers_like_the_real_shop(sim):
    empty = raw(sim, "GET", "products", https=True, params={"per_page": 100})
    assert (
        (empty.headers["X-WP-Total"], empty.headers["X-WP-TotalPages"])
        == ("0", "0")
        == (
            row(0)["headers"]["X-WP-Total"],
            row(0)["headers"]["X-WP-TotalPages"],
        )
    )
    for index in range(7):
        sim.add_product(f"P{index}")
    first = raw(sim, "GET", "products", https=True, params={"per_page": 3, "page": 1})
    assert first.headers["X-WP-TotalPages"] == row(92)["headers"]["X-WP-TotalPages"] == "3"
    assert 'rel="next"' in first.headers["Link"] and 'rel="next"' in row(92)["headers"]["Link"]
    past = raw(sim, "GET", "products", https=True, params={"per_page": 3, "page": 9})
    assert (past.status_code, past.json()) == (row(93)["status"], row(93)["body"]) == (200, [])
    assert 'rel="prev"' in past.headers["Link"]
    too_many = raw(sim, "GET", "orders", https=True, params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == row(94)["body"]["code"]
    assert len(WooClient(sim.url, KEY, SECRET).get_all("products")) == 7


def test_products_newest_first_like_the_real_shop(sim):
    ids = [sim.add_product(f"P{index}") for index in range(4)]
    listed = [p["id"] for p in raw(sim, "GET", "products", https=True).json()]
    assert listed == sorted(ids, reverse=True)
    real = [p["date_created_gmt"] for p in row(13)["body"]]
    assert real == sorted(real, reverse=True), "the recording lists newest first too"
    asc = raw(sim, "GET", "products", https=True, params={"orderby": "id", "order": "asc"}).json()
    assert [p["id"] for p in asc] == ids


def test_variations_on_the_parent_stock_like_the_real_shop(sim):
    mug, (small, large) = sim.add_variable("MUG", [("MUG-S", 0), ("MUG-L", 0)], stock_on_parent=3)
    listed = raw(sim, "GET", f"products/{mug}/variations", https=True).json()
    recorded = row(15)["body"]
    assert {v["manage_stock"] for v in listed} == {v["manage_stock"] for v in recorded} == {"parent"}
    assert {v["stock_quantity"] for v in listed} == {3}
    same_types(recorded[0], listed[0], ("id", "sku", "manage_stock", "stock_quantity", "parent_id"))
    offers = {o.sku: o for o in adapter_for(sim).fetch_offers()}
    assert (offers["MUG-S"].parent_id, offers["MUG-S"].stock_on_parent) == (str(mug), True)


def test_a_variation_without_its_own_sku_shows_its_parents_and_is_matched_by_none(sim):
    """WooCommerce's variation shows its parent's SKU when it has none of its own, in its
    record and in order lines: listing import must not bind it to the parent's product."""
    tee, (small, large) = sim.add_variable("TEE", [("TEE-S", 0), ("", 0)])
    listed = {v["id"]: v["sku"] for v in raw(sim, "GET", f"products/{tee}/variations", https=True).json()}
    assert listed == {small: "TEE-S", large: "TEE"}
    placed = sim.place_order([(tee, large, 1, 10.0)])
    assert placed["line_items"][0]["sku"] == "TEE"
    offers = {o.external_id: o.sku for o in adapter_for(sim).fetch_offers()}
    assert (offers[str(small)], offers[str(large)]) == ("TEE-S", "")


STOCK_FIELDS = ("manage_stock", "stock_quantity", "stock_status", "backorders", "backorders_allowed", "backordered")


def test_stock_fields_and_backorders_like_the_real_shop(sim):
    """The stock fields the drift audit reads are sent as the real shop sends them; the
    stock push sends ``backorders: "no"`` with every quantity; a product allowing
    backorders is read back as selling past its quantity."""
    chair = sim.add_product("CHAIR", stock=0, backorders="yes")
    mug, (small, _large) = sim.add_variable("MUG", [("MUG-S", 0), ("MUG-L", 0)], stock_on_parent=3)
    products = {p["sku"]: p for p in raw(sim, "GET", "products", https=True).json()}
    variation = raw(sim, "GET", f"products/{mug}/variations", https=True).json()[0]
    recorded_product = next(p for p in row(13)["body"] if p["sku"] == "CHAIR")
    recorded_variation = row(15)["body"][0]
    for simulated, recorded in ((products["CHAIR"], recorded_product), (variation, recorded_variation)):
        assert set(STOCK_FIELDS) <= set(simulated) and set(STOCK_FIELDS) <= set(recorded)
        same_types(recorded, simulated, STOCK_FIELDS)
    assert (products["CHAIR"]["stock_status"], products["CHAIR"]["backordered"]) == ("onbackorder", True)
    assert (products["MUG"]["stock_status"], variation["backorders"]) == ("instock", "no")

    adapter = adapter_for(sim)
    shown = {item.external_id: item for item in adapter.read_shown().items}
    assert (shown[str(chair)].quantity, shown[str(chair)].unlimited) == (0, True)
    assert (shown[str(small)].quantity, shown[str(small)].unlimited) == (3, False)
    results = adapter.push_stock([StockUpdate(1, str(chair), "CHAIR", 4)])
    assert results[0].ok
    sent = sim.requests_to("POST", "products/batch")[-1]
    assert sim.products[chair]["backorders"] == "no"
    assert sent["items"] == 1
    shown = {item.external_id: item for item in adapter.read_shown().items}
    assert (shown[str(chair)].quantity, shown[str(chair)].unlimited) == (4, False)

    refused = raw(sim, "POST", "products/batch", https=True, json={"update": [{"id": chair, "backorders": "maybe"}]})
    error = refused.json()["update"][0]["error"]
    assert (refused.status_code, error["code"], error["data"]["status"]) == (200, "rest_invalid_param", 400)
    assert sim.products[chair]["backorders"] == "no"


def test_batch_answers_like_the_real_shop(sim):
    lamp = sim.add_product("LAMP", stock=0)
    chair = sim.add_product("CHAIR", stock=0)
    recorded = row(86)
    payload = {
        "update": [
            {"id": 99999, "manage_stock": True, "stock_quantity": 5},
            {"id": lamp, "manage_stock": True, "stock_quantity": 4},
            {"id": chair, "manage_stock": True, "stock_quantity": 13},
        ]
    }
    answer = raw(sim, "POST", "products/batch", https=True, json=payload)
    assert answer.status_code == recorded["status"] == 200
    assert answer.json()["update"][0] == recorded["body"]["update"][0]
    assert [u["stock_quantity"] for u in answer.json()["update"][1:]] == [4, 13]
    # numbers as strings and negative stock accepted (row 87)
    answer = raw(
        sim,
        "POST",
        "products/batch",
        https=True,
        json={
            "update": [
                {"id": lamp, "manage_stock": True, "stock_quantity": "11"},
                {"id": chair, "manage_stock": True, "stock_quantity": -3},
            ]
        },
    )
    assert [(u["stock_quantity"]) for u in answer.json()["update"]] == [
        u["stock_quantity"] for u in row(87)["body"]["update"]
    ]
    too_large = raw(sim, "POST", "products/batch", https=True, json={"update": [{"id": lamp}] * 101})
    assert too_large.status_code == 413 and too_large.json() == row(90)["body"]
    missing = raw(sim, "POST", "products/1/variations/batch", https=True, json={"update": []})
    assert missing.status_code == 404


def test_a_variation_under_another_parent_is_moved_like_the_real_shop(sim):
    lamp, _lamp_variations = sim.add_variable("LAMP", [("LAMP-R", 1)])
    _mug, (small, _large) = sim.add_variable("MUG", [("MUG-S", 1), ("MUG-L", 1)])
    answer = raw(
        sim,
        "POST",
        f"products/{lamp}/variations/batch",
        https=True,
        json={"update": [{"id": small, "manage_stock": True, "stock_quantity": 2}]},
    )
    moved, recorded = answer.json()["update"][0], row(88)["body"]["update"][0]
    assert "error" not in moved and "error" not in recorded
    assert (moved["parent_id"], moved["attributes"]) == (lamp, []) and recorded["attributes"] == []
    # the connector notices a parent it did not expect instead of reporting success
    results = adapter_for(sim).push_stock([StockUpdate(1, str(small), "", 3, extra=ListingExtra(parent_id=str(lamp)))])
    assert results[0].ok, "sent under the parent the shop now reports"


# ----------------------------------------------------------------------
# webhooks
# ----------------------------------------------------------------------
class Receiver:
    """A webhook endpoint answering ``status``; keeps what it got."""

    def __init__(self, status=200):
        self.status, self.got = status, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.got.append((self.headers, body))  # names compared case-insensitively
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def orders(self):
        return [
            (h["X-WC-Webhook-Topic"], json.loads(b)["id"], json.loads(b)["status"])
            for h, b in self.got
            if b[:1] == b"{"
        ]


@pytest.fixture
def receiver():
    created = []

    def make(status=200):
        created.append(Receiver(status))
        return created[-1]

    yield make
    for item in created:
        item.server.shutdown()
        item.server.server_close()


def test_queued_deliveries_merge_and_updated_comes_first(sim, receiver):
    hook = receiver()
    adapter = adapter_for(sim)
    adapter.register_webhooks(hook.url, "s3cret")
    sim.webhook_delivery = "queued"
    arm = sim.add_product("ARM", stock=9)
    placed = sim.place_order([(arm, 0, 1, 30.0)], status="pending")
    sim.set_order_status(placed["id"], "processing")
    sim.set_order_status(placed["id"], "completed")
    assert hook.orders() == [], "nothing before WordPress's cron runs"
    sim.run_cron()
    assert hook.orders() == [("order.updated", placed["id"], "completed"), ("order.created", placed["id"], "completed")]
    real_headers = set(deliveries()[0]["headers"])
    for headers, _body in hook.got[-2:]:
        sent = {name.lower() for name in headers}
        assert {name.lower() for name in real_headers} <= sent
        assert re.fullmatch(
            r"[0-9a-f]{32}",
            headers["X-WC-Webhook-Delivery-Id"]
            if "X-WC-Webhook-Delivery-Id" in headers
            else headers["X-WC-Webhook-Delivery-ID"],
        )


def test_registration_is_idempotent_and_the_status_is_read_back(sim, receiver):
    hook = receiver()
    adapter = adapter_for(sim)
    first = adapter.register_webhooks(hook.url, "s3cret")
    second = adapter.register_webhooks(hook.url, "s3cret")
    assert len(sim.webhooks) == 2 and set(second) == {str(i) for i in sim.webhooks} and not set(first) & set(second)
    assert adapter.webhook_status(hook.url) == {"order.created": "active", "order.updated": "active"}
    assert set(json.loads(json.dumps(row(115)["body"]))) >= {"id", "name", "status", "topic", "delivery_url"}
    listed = raw(sim, "GET", "webhooks", https=True).json()
    assert all("secret" not in w for w in listed)


def test_failed_deliveries_disable_the_webhook_and_the_status_check_reactivates_it(sim, receiver):
    broken = receiver(status=500)
    adapter = adapter_for(sim)
    adapter.register_webhooks(broken.url, "s3cret")
    arm = sim.add_product("ARM", stock=50)
    for _index in range(6):
        sim.place_order([(arm, 0, 1, 30.0)])
    created = next(w for w in sim.webhooks.values() if w["topic"] == "order.created")
    assert created["status"] == "disabled", "more than 5 failed deliveries"
    delivered = len(broken.got)
    sim.place_order([(arm, 0, 1, 30.0)])
    assert len(broken.got) == delivered, "a disabled webhook sends nothing (and nothing is retried)"
    statuses = adapter.webhook_status(broken.url)
    assert statuses["order.created"] == "reactivated (was disabled)"
    assert created["status"] == "active"


def test_wordpress_refuses_private_urls_and_odd_ports_but_creates_the_webhook(sim, receiver):
    hook = receiver()
    sim.check_delivery_urls = True
    ids = adapter_for(sim).register_webhooks(hook.url, "s3cret")  # 127.0.0.1 on a high port
    assert len(ids) == 2, "created (201) although the ping could not be delivered"
    assert hook.got == []
    assert {d["refused"] for d in sim.deliveries} == {"port %s is not allowed" % hook.url.split(":")[2].split("/")[0]}


def test_the_ping_is_unsigned_and_form_encoded(sim, receiver):
    hook = receiver()
    adapter_for(sim).register_webhooks(hook.url, "s3cret")
    pings = [(h, b) for h, b in hook.got if b.startswith(b"webhook_id=")]
    assert len(pings) == 2 and all(h.get("X-WC-Webhook-Signature") is None for h, _b in pings)
    assert base64  # signatures of order deliveries are checked in test_woo_recordings


def test_a_refund_gives_no_stock_back_by_itself_like_the_real_shop(sim):
    """The recorded order #31, refunded in full without restocking, still has its lines'
    stock reduced (``_reduced_stock``): the ``refunded`` status gives nothing back."""
    recorded = row(109)["body"]
    assert (recorded["status"], [r["total"] for r in recorded["refunds"]]) == ("refunded", ["-297.49"])
    reduced = [m["value"] for m in recorded["line_items"][0]["meta_data"] if m["key"] == "_reduced_stock"]
    assert reduced == ["1"]
    chair = sim.add_product("CHAIR", stock=5)
    placed = sim.place_order([(chair, 0, 1, 100.0)])
    assert sim.stock_of(chair) == 4
    sim.refund(placed["id"], placed["total"], reason="customer changed mind")
    shown = raw(sim, "GET", f"orders/{placed['id']}", https=True).json()
    assert shape(shown["refunds"]) == shape(recorded["refunds"])
    assert (shown["status"], sim.stock_of(chair)) == ("refunded", 4)
    assert shape(shown["line_items"][0]["meta_data"]) == shape(recorded["line_items"][0]["meta_data"])
    assert shown["line_items"][0]["meta_data"][0]["value"] == "1"
    other = sim.place_order([(chair, 0, 2, 100.0)])
    sim.refund(other["id"], "119.00", restock={other["line_items"][0]["id"]: 1})  # "Restock refunded items"
    assert (sim.orders[other["id"]]["status"], sim.stock_of(chair)) == ("processing", 3)
    sim.set_order_status(other["id"], "cancelled")  # gives back what the order still holds: 1
    assert sim.stock_of(chair) == 4


def test_settings_read_like_a_real_shop(sim):
    """``GET settings/<group>/<id>`` as WooCommerce's setting options controller answers it."""
    answer = raw(sim, "GET", "settings/tax/woocommerce_prices_include_tax", https=True)
    assert answer.status_code == 200
    setting = answer.json()
    assert {"id", "label", "description", "type", "default", "value"} <= set(setting)
    assert (setting["id"], setting["type"], setting["default"], setting["value"]) == (
        "woocommerce_prices_include_tax",
        "radio",
        "no",
        "no",
    )
    assert set(setting["options"]) == {"yes", "no"}
    assert raw(sim, "GET", "settings/general/woocommerce_currency", https=True).json()["value"] == "EUR"
    unknown = raw(sim, "GET", "settings/general/no_such_setting", https=True)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "rest_setting_setting_invalid")
    unknown = raw(sim, "GET", "settings/no_such_group/woocommerce_currency", https=True)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "rest_setting_setting_group_invalid")
    sim.settings_readable = False  # a key of a user who may not manage WooCommerce
    refused = raw(sim, "GET", "settings/general/woocommerce_currency", https=True)
    assert (refused.status_code, refused.json()["code"]) == (403, "woocommerce_rest_cannot_view")


def test_the_shops_terms_of_its_prices(sim):
    assert adapter_for(sim).pricing() == ShopPricing("EUR", with_tax=False)
    sim.settings["tax"]["woocommerce_prices_include_tax"] = "yes"
    assert adapter_for(sim).pricing() == ShopPricing("EUR", with_tax=True)
    sim.settings["tax"]["woocommerce_prices_include_tax"] = "no"
    sim.settings["general"]["woocommerce_calc_taxes"] = "no"  # no tax charged: the price shown is paid
    assert adapter_for(sim).pricing() == ShopPricing("EUR", with_tax=True, charges_tax=False)
    sim.settings_readable = False
    with pytest.raises(ChannelError, match="Shop manager or an Administrator"):
        adapter_for(sim).pricing()


def test_prices_sent_in_the_shops_terms(sim):
    chair = sim.add_product("CHAIR", "10.00")
    lamp = sim.add_product("LAMP", "10.00")
    net, gross = ProductTax(19.0, price_includes_tax=False), ProductTax(19.0, price_includes_tax=True)
    updates = [
        PriceUpdate(1, str(chair), "", 90.0, "EUR", 100.0, ListingExtra(tax=net)),
        PriceUpdate(2, str(lamp), "", 119.0, "EUR", 119.0, ListingExtra(tax=gross)),
    ]
    adapter = adapter_for(sim)
    assert all(result.ok for result in adapter.push_prices(updates))
    assert (sim.products[chair]["regular_price"], sim.products[chair]["sale_price"]) == ("100.00", "90.00")
    assert (sim.products[lamp]["regular_price"], sim.products[lamp]["sale_price"]) == ("100.00", "")
    assert adapter.price_as_shown(119.0, ListingExtra(tax=gross)) == 100.0
    sim.settings["tax"]["woocommerce_prices_include_tax"] = "yes"
    adapter = adapter_for(sim)
    adapter.push_prices(updates)
    assert (sim.products[chair]["regular_price"], sim.products[chair]["sale_price"]) == ("119.00", "107.10")
    assert sim.products[lamp]["regular_price"] == "119.00"
    assert adapter.price_as_shown(90.0, ListingExtra(tax=net)) == 107.1
    assert adapter.price_as_shown(90.0, ListingExtra()) == 90.0, "a product without tax: as Odoo prices it"
    assert adapter.price_as_shown(997.5, ListingExtra(tax=net)) == 1187.03, "half a cent up, as Odoo rounds"
    calls = len(sim.log)
    with pytest.raises(ChannelError, match="the shop sells in EUR and the channel's pricelist is in RON"):
        adapter.push_prices([PriceUpdate(1, str(chair), "", 5.0, "RON", 5.0)])
    assert len(sim.log) == calls, "nothing sent in a currency the shop does not sell in"


def test_a_retry_after_given_as_an_http_date_is_waited_for(sim):
    """A host or proxy may give ``Retry-After`` as an HTTP date (RFC 9110): read as no
    time at all, the push came back before the shop would take it."""
    sim.add_fault("429", "products", retry_after=formatdate(time.time() + 60, usegmt=True))
    with pytest.raises(TransportError) as refused:
        WooClient(sim.url, KEY, SECRET, timeout=5).request("GET", "products")
    assert refused.value.rate_limited and 55 <= refused.value.retry_after <= 60


PRICE_FIELDS = (
    "price",
    "regular_price",
    "sale_price",
    "on_sale",
    "date_on_sale_from",
    "date_on_sale_from_gmt",
    "date_on_sale_to",
    "date_on_sale_to_gmt",
)


def test_the_price_charged_follows_the_shops_sale_dates_and_a_push_clears_them(sim):
    """``price`` is what the shop charges now: its sale price only within the sale's dates
    (the recording: on sale at 90.00 of 100.00, no dates). The audit reads it: a sale the
    shop's admin moved to next week left ``sale_price`` at Odoo's 90.00 while the shop
    charged 100.00, unseen. A push clears the shop's dates ("": WooCommerce ignores null)."""
    chair = sim.add_product("CHAIR", "100.00", stock=5)
    recorded = next(p for p in row(26)["body"] if p["sku"] == "CHAIR")
    sim.schedule_sale(chair, "90.00")
    listed = {p["sku"]: p for p in raw(sim, "GET", "products", https=True).json()}["CHAIR"]
    same_types(recorded, listed, PRICE_FIELDS)
    assert [listed[key] for key in PRICE_FIELDS] == [recorded[key] for key in PRICE_FIELDS]
    adapter = adapter_for(sim)
    sim.schedule_sale(chair, "90.00", date_from="2099-01-01T00:00:00")
    shown = {item.external_id: item.price for item in adapter.read_shown().items}
    assert shown[str(chair)] == 100.0, "the price charged, not the sale price waiting for its date"
    assert all(result.ok for result in adapter.push_prices([PriceUpdate(1, str(chair), "", 80.0, "EUR", 100.0)]))
    assert sim.requests_to("POST", "products/batch")[-1]["items"] == 1
    listed = {p["sku"]: p for p in raw(sim, "GET", "products", https=True).json()}["CHAIR"]
    assert (listed["price"], listed["on_sale"], listed["date_on_sale_from"]) == ("80.00", True, None)
    assert {item.external_id: item.price for item in adapter.read_shown().items}[str(chair)] == 80.0


def test_what_the_shop_shows_is_read_back_for_the_audit(sim):
    chair = sim.add_product("CHAIR", "100.00", stock=7)
    mug, (small, _large) = sim.add_variable("MUG", [("MUG-S", 0), ("MUG-L", 0)], stock_on_parent=3)
    adapter = adapter_for(sim)
    page = adapter.read_shown()
    shown = {item.external_id: (item.quantity, item.price) for item in page.items}
    assert shown[str(chair)] == (7, 100.0)
    assert shown[str(small)] == (3, 10.0), "a variation on its parent's stock shows the parent's"
    assert page.cursor is None
    only = adapter.read_shown(None, [str(small)])
    assert [item.external_id for item in only.items] == [str(small)]
    assert str(mug) in shown


def test_a_change_applied_then_answered_late(sim):
    """A fault for the chaos scenario: the shop saves the batch, the answer comes after the client gave up."""
    lamp = sim.add_product("LAMP", stock=0)
    sim.add_fault("timeout", path="products/batch", delay=0.6, after_processing=True)
    sim.https = True
    payload = {"update": [{"id": lamp, "manage_stock": True, "stock_quantity": 7}]}
    with pytest.raises(requests.Timeout):
        requests.post(f"{sim.url}{PREFIX}products/batch", auth=(KEY, SECRET), json=payload, timeout=0.3)
    assert sim.stock_of(lamp) == 7, "applied although the client never saw the answer"
