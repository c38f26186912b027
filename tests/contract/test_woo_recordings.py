"""The connector's client and translation against what a real WooCommerce 9.2.5 answered."""

import base64
import hashlib
import hmac
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from recordings import Replay, deliveries, order, recorded_orders, row

from odoo.addons.stock_multichannel.lib.adapter import ChannelError, ListingExtra, StockUpdate
from odoo.addons.stock_multichannel.lib.orders import normalize_order as core_check
from odoo.addons.stock_multichannel_shop.adapter import WooCommerceAdapter, delivery_url_problem
from odoo.addons.stock_multichannel_shop.api import translate
from odoo.addons.stock_multichannel_shop.api.client import WooClient, WooRefused
from odoo.addons.stock_multichannel_shop.controllers.webhook import signature_ok

CENT = Decimal("0.01")


def odoo_total(normalized, rates={19.0: Decimal("0.19")}):  # noqa: B006
    """What the sale order made of ``normalized`` totals in Odoo (tax excluded prices,
    tax rounded per line with the currency's rounding, as the company's default)."""
    untaxed = tax = Decimal(0)
    amounts = [
        (Decimal(str(line["unit_price"])) * Decimal(str(line["quantity"])), line["tax_rate"])
        for line in normalized["lines"]
    ]
    amounts += [(Decimal(str(s["amount"])), s["tax_rate"]) for s in normalized["shipping"]]
    amounts += [(-Decimal(str(d["amount"])), d["tax_rate"]) for d in normalized["discounts"]]
    for amount, rate in amounts:
        amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        untaxed += amount
        tax += (amount * rates[rate]).quantize(CENT, rounding=ROUND_HALF_UP) if rate else 0
    return untaxed + tax


# ----------------------------------------------------------------------
# orders: taxes, coupons, shipping, statuses, types
# ----------------------------------------------------------------------
def test_rounded_taxes_come_from_the_exact_per_rate_data():
    recorded = order(30, "processing")  # 3 x 9.99 with a 10% coupon, tax rounded per line
    assert recorded["line_items"][0]["subtotal_tax"] == "5.69"  # 5.69 / 29.97 = 18.99%: the old bug
    normalized = translate.normalize_order(recorded)
    assert [line["tax_rate"] for line in normalized["lines"]] == [19.0, 19.0]
    assert normalized["shipping"] == [{"name": "Courier", "tax_rate": 19.0, "amount": 10.0}]
    assert normalized["discounts"] == [{"name": "Coupon save10", "tax_rate": 19.0, "amount": 13.0}]
    assert [line["unit_price"] for line in normalized["lines"]] == [9.99, 100.0]
    # Odoo's total differs by at most the channel's default tolerance (0.01): the shop
    # rounds each discounted line's tax, Odoo the discount line's
    assert abs(odoo_total(normalized) - Decimal(recorded["total"])) <= CENT
    core_check(normalized)  # the core accepts it


def test_every_recorded_order_translates_with_its_rate_and_total():
    for (order_id, status), recorded in recorded_orders().items():
        normalized = translate.normalize_order(recorded)
        checked = core_check(normalized)
        rates = {line["tax_rate"] for line in checked["lines"] + checked["shipping"] + checked["discounts"]}
        assert rates == {19.0}, (order_id, status, rates)
        assert abs(odoo_total(checked) - Decimal(recorded["total"])) <= CENT, (order_id, status)
        assert checked["total"] == float(recorded["total"])


@pytest.mark.parametrize(
    ("order_id", "status", "core"),
    [
        (21, "processing", "open"),
        (21, "completed", "open"),
        (23, "cancelled", "cancelled"),
        (22, "cancelled", "cancelled"),
        (27, "checkout-draft", "cancelled"),
    ],
)
def test_statuses_of_recorded_orders(order_id, status, core):
    assert translate.normalize_order(order(order_id, status))["status"] == core


def test_refunded_order_from_the_log_cancels():
    refunded = row(109)["body"]
    assert refunded["status"] == "refunded"
    assert translate.normalize_order(refunded)["status"] == "cancelled"


def test_the_recorded_refund_reaches_the_core_as_money_given_back():
    recorded = core_check(translate.normalize_order(row(109)["body"]))["refunds"]
    assert recorded == [{"external_id": "32", "amount": 297.49, "reason": "customer changed mind"}]


def test_number_types_as_the_real_shop_sends_them():
    recorded = order(30, "processing")
    prices = [line["price"] for line in recorded["line_items"]]
    assert prices == [8.993333333333334, 89.99] and isinstance(prices[0], float)
    assert isinstance(order(21, "processing")["line_items"][0]["price"], int)
    coupon = recorded["coupon_lines"][0]
    assert (coupon["code"], coupon["discount"]) == ("save10", "13")
    assert recorded["line_items"][0]["taxes"][0] == {"id": 1, "total": "5.1262", "subtotal": "5.6943"}
    assert recorded["tax_lines"][0]["rate_percent"] == 19


def test_a_line_without_tax_lines_derives_the_rate_from_the_exact_amounts():
    recorded = json.loads(json.dumps(order(30, "processing")))
    recorded["tax_lines"] = []  # a rate deleted from the shop since
    rates = [line["tax_rate"] for line in translate.normalize_order(recorded)["lines"]]
    assert rates == [19.0, 19.0]


def test_coupons_over_lines_of_two_rates_split_per_rate():
    recorded = json.loads(json.dumps(order(30, "processing")))
    recorded["tax_lines"].append({"id": 26, "rate_id": 2, "rate_percent": 9, "compound": False})
    book = recorded["line_items"][1]
    book.update(subtotal_tax="9.00", total_tax="8.10", taxes=[{"id": 2, "total": "8.0991", "subtotal": "9"}])
    discounts = translate.normalize_order(recorded)["discounts"]
    assert sorted((d["tax_rate"], d["amount"]) for d in discounts) == [(9.0, 10.01), (19.0, 2.99)]
    assert sum(d["amount"] for d in discounts) == pytest.approx(13.0)


# ----------------------------------------------------------------------
# the client against replayed answers
# ----------------------------------------------------------------------
class FakeChannel:
    def __init__(self, client):
        self.client = client

    def _woo_client(self):
        return self.client


@pytest.fixture
def replay():
    servers = []

    def start(*rows):
        server = Replay(rows)
        servers.append(server)
        client = WooClient(server.url, "ck_test", "cs_test", timeout=5, auth_mode="basic")
        return server, client, WooCommerceAdapter(FakeChannel(client))

    yield start
    for server in servers:
        server.stop()


def test_an_empty_list_has_zero_pages(replay):
    assert row(0)["headers"]["X-WP-TotalPages"] == "0"
    server, client, _adapter = replay(row(0))
    assert client.get_all("products") == []
    assert len(server.requests) == 1


def test_pages_followed_until_the_last(replay):
    first, past_end = row(92), row(93)
    server, client, _adapter = replay(first, dict(first, body=first["body"][:2]), past_end)
    records = client.get_all("products")
    assert len(records) == 5  # 3 + 2, then the empty page past the end stops
    assert [r["query"]["page"] for r in server.requests] == [["1"], ["2"], ["3"]]


def test_drafts_are_never_handed_to_the_core(replay):
    listed = row(85)
    assert "checkout-draft" in {o["status"] for o in listed["body"]}
    _server, _client, adapter = replay(listed)
    fetched = adapter.fetch_orders("2026-11-20T00:00:00")
    assert sorted(int(o["external_id"]) for o in fetched.orders) == [21, 22, 23, 24, 26, 30]
    assert fetched.watermark == max(o["date_modified_gmt"] for o in listed["body"])


def test_an_order_gone_from_the_shop_reads_as_none(replay):
    gone = row(84)
    assert gone["status"] == 404
    _server, _client, adapter = replay(gone, row(53), row(52) | {"body": order(27, "checkout-draft")})
    assert adapter.read_order("25") is None
    assert adapter.read_order("21")["id"] == 21
    assert adapter.read_order("27") is None, "a draft is not an order yet"


def test_a_404_for_no_route_is_not_an_order_gone(replay):
    # WordPress's own 404 (WooCommerce paused or deactivated) says nothing of the order
    no_route = row(97)
    assert (no_route["status"], no_route["body"]["code"]) == (404, "rest_no_route")
    _server, _client, adapter = replay(no_route)
    with pytest.raises(WooRefused) as refused:
        adapter.read_order("21")
    assert (refused.value.status, refused.value.code) == (404, "rest_no_route")


def test_batch_item_errors_are_isolated(replay):
    recorded = row(86)
    _server, _client, adapter = replay(recorded)
    updates = [
        StockUpdate(n, str(item["id"]), "", item["stock_quantity"])
        for n, item in enumerate(recorded["payload"]["update"])
    ]
    results = adapter.push_stock(updates)
    assert [(r.ok, r.message) for r in results] == [
        (False, "Invalid ID. (woocommerce_rest_product_invalid_id)"),
        (True, ""),
        (True, ""),
    ]


def test_variations_go_under_the_parent_the_shop_reported(replay):
    recorded = row(88)  # variation 19 of the mug (18) sent under the lamp (15): moved, not refused
    assert recorded["body"]["update"][0]["parent_id"] == 15 and recorded["body"]["update"][0]["attributes"] == []
    server, _client, adapter = replay(recorded)
    results = adapter.push_stock([StockUpdate(1, "19", "", 2, extra=ListingExtra(parent_id="15"))])
    assert server.requests[0]["path"].endswith("/products/15/variations/batch")
    assert results[0].ok
    # the listing import takes the parent from the shop's own answer
    server, _client, adapter = replay(row(13), row(15), row(16))
    offers = {o.sku: o for o in adapter.fetch_offers()}
    assert (offers["MUG-S"].parent_id, offers["MUG-S"].stock_on_parent) == ("18", True)
    assert (offers["LAMP-R"].parent_id, offers["LAMP-R"].stock_on_parent) == ("15", False)


def test_the_shop_error_codes_become_messages_a_merchant_can_act_on(replay):
    _server, client, _adapter = replay(row(90), row(96), row(97), row(94))
    with pytest.raises(ChannelError, match="too large"):
        client.batch_update("products", [{"id": 1}])
    with pytest.raises(ChannelError, match="status is not one of|Invalid parameter"):
        client.request("PUT", "orders/24", payload={"status": "shipped"})
    with pytest.raises(ChannelError, match="check the shop URL"):
        client.request("GET", "nothing-here")
    with pytest.raises(ChannelError, match="per_page"):
        client.request("GET", "orders", {"per_page": 101})
    http_refusal = {
        "status": 401,
        "headers": {},
        "body": {
            "code": "woocommerce_rest_cannot_view",
            "message": "Sorry, you cannot list resources.",
            "data": {"status": 401},
        },
    }
    _server, client, _adapter = replay(http_refusal)
    with pytest.raises(ChannelError, match="https:// address, or OAuth"):
        client.request("GET", "orders")


def test_plain_http_signs_with_oauth_or_says_what_is_needed():
    client = WooClient("http://shop.example", "ck_x", "cs_x")
    assert client.auth_mode == "oauth"
    assert WooClient("https://shop.example", "ck_x", "cs_x").auth_mode == "basic"
    with pytest.raises(ChannelError, match="https:// address, or allow OAuth"):
        WooClient("http://shop.example", "ck_x", "cs_x", allow_http_oauth=False)


# ----------------------------------------------------------------------
# webhook deliveries, re-signed with a test secret
# ----------------------------------------------------------------------
def test_recorded_deliveries_verify_and_translate():
    secret = "test-secret"
    for delivery in deliveries():
        body = delivery["body"].encode()
        headers = delivery["headers"]
        signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        assert signature_ok(secret, body, signature)
        assert not signature_ok(secret, body + b" ", signature)
        assert not signature_ok("other", body, signature)
        assert not signature_ok(secret, body, headers["X-WC-Webhook-Signature"]), "signed with another secret"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-WC-Webhook-Delivery-ID"])
        assert headers["X-WC-Webhook-Topic"] in ("order.created", "order.updated")
        shop_order = json.loads(body)
        normalized = translate.normalize_order(shop_order)
        if translate.is_draft(shop_order):
            assert normalized["status"] == "cancelled"
            continue
        checked = core_check(normalized)
        assert {line["tax_rate"] for line in checked["lines"]} == {19.0}
        assert abs(odoo_total(checked) - Decimal(shop_order["total"])) <= CENT


def test_updated_can_come_before_created_and_drafts_fire_updated():
    seen = [(d["headers"]["X-WC-Webhook-Topic"], json.loads(d["body"])["id"]) for d in deliveries()]
    assert seen.index(("order.updated", 30)) < seen.index(("order.created", 30))
    assert ("order.updated", 27) in seen
    assert json.loads(deliveries()[1]["body"])["status"] == "checkout-draft"


# ----------------------------------------------------------------------
# the delivery URL as WordPress checks it
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://odoo.example/multichannel/woocommerce/1/webhook", ""),
        ("https://odoo.example:8069/multichannel/woocommerce/1/webhook", "ports 80, 443 or 8080"),
        ("http://odoo.example/multichannel/woocommerce/1/webhook", "plain http"),
        ("https://127.0.0.1/multichannel/woocommerce/1/webhook", "loopback or private"),
        ("https://10.1.2.3/multichannel/woocommerce/1/webhook", "loopback or private"),
        ("https://odoo.example:8080/x", ""),
    ],
)
def test_delivery_url_checks(url, problem):
    public = {"odoo.example": "93.184.216.34"}

    def resolve(host):
        return public.get(host, host)

    found = delivery_url_problem(url, resolve=resolve)
    assert (problem in found) if problem else found == ""
