"""A local simulator of the WooCommerce REST API (wc/v3), for tests and the demo.

Plain Python, standard library only, no Odoo. It answers like a real WooCommerce 9.2.5
(checked against the recordings in the contract tests, tests/contract/):

- auth: over plain http Basic auth and keys in the query string are refused with
  ``401 woocommerce_rest_cannot_view``; only OAuth 1.0a one-legged signatures
  (HMAC-SHA1 / HMAC-SHA256, key ``secret&``) work. ``https = True`` makes it behave
  as a shop reached over https (Basic and query keys accepted, OAuth refused);
- products and variations (stock on the variation or ``manage_stock: "parent"``;
  ``backorders`` with the ``stock_status`` it gives at 0: ``onbackorder``),
  newest first unless ``orderby``/``order`` are given; a variation updated under
  another parent is moved there and loses its attributes; stock as a string, negative
  stock and stock on a variable parent are accepted;
- orders whose status lowers the stock (processing / on-hold / completed) or gives it
  back (cancelled / pending: not refunded nor failed); refunds (:meth:`refund`) putting
  back the units they restock, the whole total making the order ``refunded``; line
  ``price`` a JSON number, totals strings,
  tax rounded per line with the exact per-rate amounts in ``taxes`` and the rates in
  ``tax_lines``; coupons spread over the lines, codes lower-cased, ``discount`` as
  ``"13"``; block-checkout drafts (``checkout-draft``) listed and fired as
  ``order.updated``, deleted later without a webhook;
- batches of at most 100 items (413 beyond) with per-item errors inside a 200 answer;
  a product in ``fatal_ids`` crashes the whole batch (HTTP 500, WordPress's critical
  error) after the items before it were saved, as a plugin's fatal error does;
  pagination headers (``X-WP-TotalPages: "0"`` for an empty list, ``Link``);
- webhooks signed with HMAC-SHA256, delivery ids of 32 hex characters, never retried,
  disabled after more than 5 failed deliveries; ``webhook_delivery = "queued"``
  queues them like WordPress's cron (sent by :meth:`run_cron`, deliveries of one
  webhook and order merged, the body built at send time, ``order.updated`` before
  ``order.created``); ``check_delivery_urls`` refuses loopback / private hosts and
  ports other than 80, 443, 8080 as WordPress does (the webhook is still created);
- the settings the connector reads (``settings``: currency, taxes on, prices entered
  with tax), refused with ``403 woocommerce_rest_cannot_view`` when
  ``settings_readable`` is False;
- injectable faults.

Standalone: ``python3 woo_simulator.py --port 8902``. Tests start it in-process.
"""

import argparse
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import socket
import threading
import time
import urllib.request
from copy import deepcopy
from datetime import datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

PREFIX = "/wp-json/wc/v3/"
REDUCING = {"processing", "on-hold", "completed"}
NO_ROUTE = "No route was found matching the URL and request method."
# WordPress's answer to a REST request that hit a PHP fatal error (its fatal error handler)
CRITICAL_ERROR = (
    '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/documentation/'
    'article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>'
)
# WooCommerce gives the stock back on these statuses only (wc_maybe_increase_stock_levels):
# a refunded or failed order keeps it reduced (the recorded refunded order #31 still
# carries its lines' _reduced_stock); a refund puts back what it restocks, line by line
RESTORING = {"cancelled", "pending"}
MAX_BATCH = 100
BACKORDERS = ("no", "notify", "yes")
DRAFTS = {"checkout-draft", "auto-draft"}
ORDER_STATUSES = (
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
MAX_FAILURES = 5
SAFE_PORTS = (80, 443, 8080)
RATE = Decimal("19")
CENT = Decimal("0.01")
# the settings the shop connector reads: label, type, default, options (as WooCommerce shows them)
SETTINGS = {
    "woocommerce_currency": ("Currency", "select", "USD", {"EUR": "Euro (&euro;)", "RON": "Romanian leu (lei)"}),
    "woocommerce_calc_taxes": ("Enable taxes", "checkbox", "no", None),
    "woocommerce_prices_include_tax": (
        "Prices entered with tax",
        "radio",
        "no",
        {"yes": "Yes, I will enter prices inclusive of tax", "no": "No, I will enter prices exclusive of tax"},
    ),
}
TAX_LINE = {"rate_code": "RO-TVA-1", "rate_id": 1, "label": "TVA", "compound": False, "rate_percent": 19}


def wc_decimal(value):
    """A decimal as WooCommerce prints it with trimmed zeros: 13 -> "13", 5.70 -> "5.7"."""
    text = f"{Decimal(value).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def wc_money(value):
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):f}"


def wc_number(value):
    """A line's ``price``: a JSON int when whole, else a float (8.993333333333334)."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _encode(value):
    return quote(str(value), safe="~-._")


# a sale's window; the simulated shop's time zone is GMT, so each date shows twice alike
SALE_DATES = ("date_on_sale_from", "date_on_sale_from_gmt", "date_on_sale_to", "date_on_sale_to_gmt")


def gmt_now():
    return datetime.now(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


class WooError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return {"code": self.code, "message": self.message, "data": {"status": self.status}}


def item_error(item_id, error, **data):
    """One item's refusal inside a batch's 200 answer: the error as the shop sends it for
    a whole request, under the item's id (``data``: extra keys of its ``data``)."""
    body = error.body()
    body["data"].update(data)
    return {"id": item_id, "error": body}


class WooSimulator:
    def __init__(self, key="ck_test", secret="cs_test"):
        self.key, self.secret = key, secret
        self.async_webhooks = False
        self.lock = threading.RLock()
        self.server = None
        self._path = ""
        self.reset()

    def reset(self):
        """Back to an empty shop with the default behaviour (``async_webhooks`` kept)."""
        with self.lock:
            self.strip_authorization = False  # a server that drops the Authorization header
            self.https = False  # behave as a shop reached over https (else: plain http, OAuth only)
            self.webhook_delivery = "immediate"  # or "queued": sent by run_cron(), merged, like WordPress
            self.check_delivery_urls = False  # refuse loopback / private hosts and odd ports, as WordPress does
            self.products = {}
            self.variations = {}  # variation id -> dict with parent_id
            self.orders = {}
            self.webhooks = {}
            self.faults = []
            self.log = []
            self.deliveries = []
            self.next_id = 5000
            self.locked_ids = set()  # products whose updates fail per item
            self.fatal_ids = set()  # products whose saving crashes a plugin: the whole request fails
            # the recorded shop's settings: prices in EUR, taxes on, prices entered without tax
            self.settings = {
                "general": {"woocommerce_currency": "EUR", "woocommerce_calc_taxes": "yes"},
                "tax": {"woocommerce_prices_include_tax": "no"},
            }
            # False: the settings refused (403), as a plugin blocking them or a key's user who may not
            # manage WooCommerce would have them (the latter also loses the system status)
            self.settings_readable = True
            self._delivery_threads = []
            self.queue = {}  # (webhook id, order id) -> topic, waiting for the cron
            self.nonces = set()

    # ------------------------------------------------------------------
    # catalogue and customers
    # ------------------------------------------------------------------
    def _new_id(self):
        self.next_id += 1
        return self.next_id

    def add_product(self, sku, price="10.00", stock=0, manage_stock=True, product_id=None, backorders="no"):
        with self.lock:
            product_id = product_id or self._new_id()
            self.products[product_id] = {
                "id": product_id,
                "type": "simple",
                "sku": sku,
                "name": f"Product {sku}",
                "status": "publish",
                "regular_price": price,
                "sale_price": "",
                **dict.fromkeys(SALE_DATES),
                "manage_stock": manage_stock,
                "stock_quantity": stock if manage_stock else None,
                "backorders": backorders,
                "variations": [],
            }
            return product_id

    def add_variable(self, sku, variations, stock_on_parent=None):
        """``variations`` = [(sku, stock), ...]; stock_on_parent: the parent keeps the stock."""
        with self.lock:
            parent = self.add_product(sku, stock=stock_on_parent or 0, manage_stock=stock_on_parent is not None)
            self.products[parent]["type"] = "variable"
            ids = []
            for variation_sku, stock in variations:
                variation_id = self._new_id()
                self.variations[variation_id] = {
                    "id": variation_id,
                    "parent_id": parent,
                    "sku": variation_sku,
                    "regular_price": "10.00",
                    "sale_price": "",
                    **dict.fromkeys(SALE_DATES),
                    "manage_stock": "parent" if stock_on_parent is not None else True,
                    "stock_quantity": None if stock_on_parent is not None else stock,
                    "backorders": "no",
                    "attributes": [{"id": 0, "name": "Option", "option": variation_sku}],
                }
                self.products[parent]["variations"].append(variation_id)
                ids.append(variation_id)
            return parent, ids

    def schedule_sale(self, item_id, sale_price, date_from=None, date_to=None):
        """A sale the shop's admin sets on a product or variation: ``sale_price`` from
        ``date_from`` to ``date_to`` (GMT, "YYYY-MM-DDTHH:MM:SS"; None: no limit)."""
        with self.lock:
            record = self.products.get(item_id) or self.variations[item_id]
            record["sale_price"] = sale_price
            record["date_on_sale_from"] = record["date_on_sale_from_gmt"] = date_from
            record["date_on_sale_to"] = record["date_on_sale_to_gmt"] = date_to

    def _stock_holder(self, product_id, variation_id):
        if variation_id:
            variation = self.variations[variation_id]
            return self.products[variation["parent_id"]] if variation["manage_stock"] == "parent" else variation
        return self.products[product_id]

    def stock_of(self, product_id, variation_id=0):
        with self.lock:
            return self._stock_holder(product_id, variation_id)["stock_quantity"]

    def place_order(
        self, lines, status="processing", prices_include_tax=False, coupon=None, shipping="10.00", code="SAVE"
    ):
        """A customer orders ``lines`` = [(product id, variation id, quantity, unit price excl. tax)].

        Taxed at 19% (also shipping) and rounded per line as WooCommerce does; ``coupon``
        is an amount spread over the lines (cents down per line, the rest on the largest).
        """
        with self.lock:
            order = self._new_order(lines, prices_include_tax, coupon, shipping, code)
            self.orders[order["id"]] = order
            self._set_status(order, status, topic="order.created")
            if self.webhook_delivery == "queued":
                self._fire("order.updated", order)  # the real checkout fires both
            return self._order_view(order)

    def open_checkout(self, lines, shipping="10.00"):
        """The block checkout: the customer reaches the checkout page and a draft order exists.

        No stock is held; the draft is listed by GET /orders and fires order.updated."""
        with self.lock:
            order = self._new_order(lines, False, None, shipping, "SAVE")
            order["status"] = "checkout-draft"
            self.orders[order["id"]] = order
            self._fire("order.updated", order)
            return self._order_view(order)

    def checkout(self, order_id, status="processing"):
        """The customer places the draft: it becomes a real order (order.created)."""
        with self.lock:
            order = self.orders[order_id]
            self._set_status(order, status, topic="order.created")
            return self._order_view(order)

    def expire_drafts(self):
        """The shop's daily clean-up: drafts are deleted, without any webhook."""
        with self.lock:
            gone = [i for i, o in self.orders.items() if o["status"] in DRAFTS]
            for order_id in gone:
                del self.orders[order_id]
            return gone

    def delete_order(self, order_id):
        with self.lock:
            self.orders.pop(order_id, None)

    def _new_order(self, lines, prices_include_tax, coupon, shipping, code):
        order_id = self._new_id()
        # a shop with its taxes off (Enable taxes unticked) charges none: no rate, no tax line
        taxed = self.settings["general"].get("woocommerce_calc_taxes") == "yes"
        rate = RATE if taxed else Decimal(0)
        prices_include_tax = prices_include_tax and taxed
        items = []
        for index, (product_id, variation_id, quantity, price) in enumerate(lines, 1):
            subtotal = (Decimal(str(quantity)) * Decimal(str(price))).quantize(CENT, rounding=ROUND_HALF_UP)
            items.append(
                {
                    "id": order_id * 10 + index,
                    "name": f"Item {self._sku_shown(product_id, variation_id)}",
                    "product_id": product_id,
                    "variation_id": variation_id,
                    "quantity": quantity,
                    "tax_class": "",
                    "sku": self._sku_shown(product_id, variation_id),
                    "_subtotal": subtotal,
                    "_total": subtotal,
                }
            )
        coupon_lines = []
        if coupon:
            self._spread(items, Decimal(str(coupon)).quantize(CENT))
            discount_tax = sum((i["_subtotal"] - i["_total"]) * rate / 100 for i in items)
            coupon_lines.append(
                {
                    "id": order_id * 10 + 9,
                    "code": code.lower(),  # WooCommerce keeps coupon codes lower-cased
                    "discount": wc_decimal(Decimal(str(coupon))),
                    "discount_tax": wc_money(discount_tax),
                    "discount_type": "fixed_cart",
                    "nominal_amount": wc_number(coupon),
                    "free_shipping": False,
                }
            )
        item_tax = Decimal(0)
        for item in items:
            subtotal, total = item.pop("_subtotal"), item.pop("_total")
            exact_subtotal_tax, exact_tax = subtotal * rate / 100, total * rate / 100
            tax = exact_tax.quantize(CENT, rounding=ROUND_HALF_UP)
            item_tax += tax
            item.update(
                subtotal=wc_money(subtotal),
                subtotal_tax=wc_money(exact_subtotal_tax),
                total=wc_money(total),
                total_tax=wc_money(tax),
                taxes=[{"id": 1, "total": wc_decimal(exact_tax), "subtotal": wc_decimal(exact_subtotal_tax)}]
                if taxed
                else [],
                meta_data=[],
                price=wc_number(total / Decimal(str(item["quantity"]))),
            )
        shipping_total = Decimal(str(shipping or 0))
        shipping_lines, shipping_tax = [], Decimal(0)
        if shipping_total:
            shipping_tax = (shipping_total * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            shipping_lines.append(
                {
                    "id": order_id * 10 + 8,
                    "method_title": "Courier",
                    "method_id": "flat_rate",
                    "total": wc_money(shipping_total),
                    "total_tax": wc_money(shipping_tax),
                    "taxes": [{"id": 1, "total": wc_decimal(shipping_total * rate / 100), "subtotal": ""}]
                    if taxed
                    else [],
                }
            )
        lines_total = sum(Decimal(i["total"]) for i in items)
        total_tax = item_tax + shipping_tax
        stamp = gmt_now()
        billing = {
            "first_name": "Ion",
            "last_name": "Popescu",
            "company": "",
            "address_1": "Str. Mare 5",
            "address_2": "",
            "city": "Iasi",
            "state": "IS",
            "postcode": "700001",
            "country": "RO",
            "email": "ion@example.com",
            "phone": "0744000000",
        }
        order = {
            "id": order_id,
            "parent_id": 0,
            "number": str(order_id),
            "status": "pending",
            "currency": "EUR",
            "version": "9.2.5",
            "prices_include_tax": prices_include_tax,
            "date_created_gmt": stamp,
            "date_modified_gmt": stamp,
            "discount_total": wc_money(sum(Decimal(i["subtotal"]) - Decimal(i["total"]) for i in items)),
            "discount_tax": coupon_lines[0]["discount_tax"] if coupon_lines else "0.00",
            "shipping_total": wc_money(shipping_total),
            "shipping_tax": wc_money(shipping_tax),
            "cart_tax": wc_money(item_tax),
            "total": wc_money(lines_total + shipping_total + total_tax),
            "total_tax": wc_money(total_tax),
            "customer_id": 0,
            "customer_note": "",
            "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k != "email"},
            "payment_method": "cod",
            "payment_method_title": "Cash on delivery",
            "line_items": items,
            "tax_lines": [
                dict(
                    TAX_LINE,
                    id=order_id * 10 + 7,
                    tax_total=wc_money(item_tax),
                    shipping_tax_total=wc_money(shipping_tax),
                )
            ]
            if taxed
            else [],
            "shipping_lines": shipping_lines,
            "fee_lines": [],
            "coupon_lines": coupon_lines,
            "refunds": [],
            "stock_reduced": False,
        }
        return order

    def refund(self, order_id, amount, restock=None, reason=""):
        """A refund made in the shop's admin (``POST orders/<id>/refunds``): ``restock``
        {line item id: quantity} puts those units back in stock ("Restock refunded
        items"); refunding the whole total makes the order ``refunded``, which gives no
        stock back by itself."""
        with self.lock:
            order = self.orders[order_id]
            refund_id = self._new_id()
            order["refunds"].append({"id": refund_id, "reason": reason, "total": wc_money(-Decimal(str(amount)))})
            for line in order["line_items"]:
                self._restock(line, min((restock or {}).get(line["id"], 0), self._reduced_on(line)))
            refunded = -sum(Decimal(r["total"]) for r in order["refunds"])
            if refunded >= Decimal(order["total"]):
                order["status"] = "refunded"
            order["date_modified_gmt"] = gmt_now()
            self._fire("order.updated", order)
            return refund_id

    @staticmethod
    def _spread(items, amount):
        """A fixed cart coupon over the lines as WooCommerce does: each line's share in
        cents rounded down, the cents left over on the largest lines."""
        base = sum(i["_subtotal"] for i in items)
        if not base:
            return
        shares = [
            min(i["_subtotal"], (amount * i["_subtotal"] / base).quantize(CENT, rounding=ROUND_DOWN)) for i in items
        ]
        left = amount - sum(shares)
        for index in sorted(range(len(items)), key=lambda k: -items[k]["_subtotal"]):
            if left <= 0:
                break
            extra = min(left, items[index]["_subtotal"] - shares[index])
            shares[index] += extra
            left -= extra
        for item, share in zip(items, shares, strict=True):
            item["_total"] = item["_subtotal"] - share

    def set_order_status(self, order_id, status):
        with self.lock:
            self._set_status(self.orders[order_id], status, topic="order.updated")

    def _set_status(self, order, status, topic):
        if status in REDUCING and not order["stock_reduced"]:
            self._move_stock(order, -1)
            order["stock_reduced"] = True
        elif status in RESTORING and order["stock_reduced"]:
            self._move_stock(order, 1)
            order["stock_reduced"] = False
        order["status"] = status
        order["date_modified_gmt"] = gmt_now()
        self._fire(topic, order)

    def _move_stock(self, order, sign):
        """Lower the stock by each line's quantity, noted in the line's ``_reduced_stock``
        meta as WooCommerce does, or give back what that meta still holds."""
        for line in order["line_items"]:
            self._restock(line, -line["quantity"] if sign < 0 else self._reduced_on(line))

    @staticmethod
    def _reduced_on(line):
        return sum(int(m["value"]) for m in line["meta_data"] if m["key"] == "_reduced_stock")

    def _restock(self, line, quantity):
        """Put ``quantity`` of the line back on the shelf (lower it when negative)."""
        holder = self._stock_holder(line["product_id"], line["variation_id"])
        if not quantity or holder.get("manage_stock") is not True or holder["stock_quantity"] is None:
            return
        holder["stock_quantity"] += quantity
        reduced = self._reduced_on(line) - quantity
        line["meta_data"] = [m for m in line["meta_data"] if m["key"] != "_reduced_stock"]
        if reduced > 0:
            line["meta_data"].append(
                {
                    "id": line["id"] * 10,
                    "key": "_reduced_stock",
                    "value": str(reduced),
                    "display_key": "_reduced_stock",
                    "display_value": str(reduced),
                }
            )

    def add_fault(self, kind, path="*", count=1, **extra):
        """kind: timeout (delay=s, or held=a threading.Event: on its way until that is set,
        then applied; after_processing=True: applied, then answered late), 429
        (retry_after=s), 500, 503, malformed, null (a 200 with JSON null), no_route (WordPress's 404 for a path
        nothing answers, as when WooCommerce is paused)."""
        with self.lock:
            self.faults.append(dict(extra, kind=kind, path=path, count=count))

    def requests_to(self, method, pattern):
        return [e for e in self.log if e["method"] == method and re.fullmatch(pattern, e["path"])]

    # ------------------------------------------------------------------
    # webhooks
    # ------------------------------------------------------------------
    def _fire(self, topic, order):
        for webhook in list(self.webhooks.values()):
            if webhook["topic"] != topic or webhook["status"] != "active":
                continue
            if self.webhook_delivery == "queued":
                # WordPress's action scheduler: one pending delivery per webhook and order,
                # its body built when it is sent
                self.queue[(webhook["id"], order["id"])] = topic
                continue
            self._send(webhook, order, secrets.token_hex(16))

    def run_cron(self):
        """WordPress's cron on a page view: send what is queued, order.updated first."""
        with self.lock:
            queued = sorted(self.queue.items(), key=lambda entry: (entry[1] != "order.updated", entry[0]))
            self.queue.clear()
            delivery_id = secrets.token_hex(16)  # one run's deliveries share it
            for (webhook_id, order_id), _topic in queued:
                webhook, order = self.webhooks.get(webhook_id), self.orders.get(order_id)
                if webhook and order and webhook["status"] == "active":
                    self._send(webhook, order, delivery_id)
        self.wait_deliveries()

    def _send(self, webhook, order, delivery_id):
        topic = webhook["topic"]
        body = json.dumps(self._order_view(order)).encode()
        signature = base64.b64encode(hmac.new(webhook["secret"].encode(), body, hashlib.sha256).digest())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.2.5 Hookshot (WordPress/7.0)",
            "X-WC-Webhook-Source": f"{self.url if self.server else 'http://shop.example'}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": "order",
            "X-WC-Webhook-Event": topic.split(".")[1],
            "X-WC-Webhook-Signature": signature.decode(),
            "X-WC-Webhook-ID": str(webhook["id"]),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        self._deliver(webhook, body, headers, order_id=order["id"])

    def delivery_url_refused(self, url):
        """Why WordPress's safe HTTP request refuses ``url``, or '' (only with check_delivery_urls)."""
        if not self.check_delivery_urls:
            return ""
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "invalid URL"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if port not in SAFE_PORTS:
            return f"port {port} is not allowed"
        try:
            address = ipaddress.ip_address(socket.gethostbyname(parts.hostname))
        except (OSError, ValueError):
            return "host not found"
        if address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified:
            return "loopback or private address"
        return ""

    def _deliver(self, webhook, body, headers, order_id=None, ping=False):
        """Deliver once, never retried (as WooCommerce does); a failure counts, and after
        more than 5 failures in a row the webhook is disabled (a ping never counts).

        Synchronously by default, so that a test's Odoo handles the delivery while the
        test waits; ``async_webhooks`` delivers from a thread (the demo).
        """

        def send():
            status, answer = None, ""
            refused = self.delivery_url_refused(webhook["delivery_url"])
            if not refused:
                request = urllib.request.Request(webhook["delivery_url"], data=body, headers=headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=20) as response:
                        status, answer = response.status, response.read(200).decode(errors="replace")
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError:
                    status = None
            with self.lock:
                self.deliveries.append(
                    {
                        "webhook": webhook["id"],
                        "status": status,
                        "topic": headers.get("X-WC-Webhook-Topic"),
                        "order": order_id,
                        "delivery_id": headers.get("X-WC-Webhook-Delivery-ID"),
                        "answer": answer,
                        "refused": refused,
                        "ping": ping,
                    }
                )
                if ping:
                    return
                if status is not None and 200 <= status < 303:
                    webhook["failure_count"] = 0
                else:
                    webhook["failure_count"] = webhook.get("failure_count", 0) + 1
                    if webhook["failure_count"] > MAX_FAILURES:
                        webhook["status"] = "disabled"

        if not self.async_webhooks:
            send()
            return
        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        self._delivery_threads.append(thread)

    def wait_deliveries(self, timeout=20):
        for thread in list(self._delivery_threads):
            thread.join(timeout)
        self._delivery_threads.clear()

    # ------------------------------------------------------------------
    # server
    # ------------------------------------------------------------------
    def start(self, port=0):
        simulator = self

        class Handler(WooHandler):
            sim = simulator

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    # ------------------------------------------------------------------
    # the API
    # ------------------------------------------------------------------
    def auth_error(self, method, path, query, headers):
        """None when the request is authenticated as the shop checks it, else the WooError."""
        header = headers.get("Authorization", "")
        basic = header.startswith("Basic ") and not self.strip_authorization
        if "oauth_signature" in query:
            if self.https:
                return WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
            return self._oauth_error(method, path, query, headers)
        if basic:
            key, _sep, secret = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
        elif "consumer_key" in query:
            key, secret = query.get("consumer_key", [""])[0], query.get("consumer_secret", [""])[0]
        else:
            key = secret = None
        if key is None or not self.https:
            # over plain http WordPress sees no user at all: not an authentication error code
            return WooError(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if not hmac.compare_digest(key, self.key):
            return WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        if not hmac.compare_digest(secret, self.secret):
            return WooError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return None

    def _oauth_error(self, method, path, query, headers):
        params = {k: v[0] for k, v in query.items()}
        if params.get("oauth_consumer_key") != self.key:
            return WooError(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        algorithm = params.get("oauth_signature_method")
        if algorithm not in ("HMAC-SHA1", "HMAC-SHA256"):
            return WooError(
                401, "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid."
            )
        try:
            stamp = int(params.get("oauth_timestamp", ""))
        except ValueError:
            stamp = 0
        if abs(time.time() - stamp) > 15 * 60:
            return WooError(401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
        nonce = params.get("oauth_nonce", "")
        if not nonce or (stamp, nonce) in self.nonces:
            return WooError(
                401, "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used."
            )
        url = f"http://{headers.get('Host', '')}{PREFIX}{path}"
        pairs = sorted((_encode(k), _encode(v)) for k, v in params.items() if k != "oauth_signature")
        base = f"{method}&{_encode(url)}&" + "%26".join(f"{k}%3D{v}" for k, v in pairs)
        digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
        expected = base64.b64encode(hmac.new(f"{self.secret}&".encode(), base.encode(), digest).digest()).decode()
        if not hmac.compare_digest(expected, params.get("oauth_signature", "").replace(" ", "+")):
            return WooError(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
        with self.lock:
            self.nonces.add((stamp, nonce))
        return None

    def handle(self, method, path, query, headers, body):
        """Return (status, headers, body bytes)."""
        entry = {"method": method, "path": path, "items": 0, "time": time.monotonic(), "query": query}
        with self.lock:
            self.log.append(entry)
            fault = self._take_fault(path)
        late = 0.0  # applied, then answered late: the client may give up on a done change
        if fault:
            kind = fault["kind"]
            if kind == "timeout" and fault.get("after_processing"):
                late = fault.get("delay", 3.0)
            elif kind == "timeout" and fault.get("held"):
                fault["held"].wait(fault.get("delay", 30.0))
            elif kind == "timeout":
                time.sleep(fault.get("delay", 3.0))
            elif kind == "429":
                return 429, {"Retry-After": str(fault.get("retry_after", 1))}, b'{"code": "too_many_requests"}'
            elif kind in ("500", "502", "503"):
                return int(kind), {}, b"<html>Service Unavailable</html>"
            elif kind == "malformed":
                return 200, {}, b"<html><body>Cache error</body></html>"
            elif kind == "null":  # a cache or a security plugin answering for the shop
                return 200, {"Content-Type": "application/json"}, b"null"
            elif kind == "no_route":  # WordPress up, WooCommerce paused or deactivated
                return 404, {}, json.dumps(WooError(404, "rest_no_route", NO_ROUTE).body()).encode()
        error = self.auth_error(method, path, query, headers)
        if error:
            return error.status, {}, json.dumps(error.body()).encode()
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {}, json.dumps(WooError(400, "rest_invalid_json", "Invalid JSON body").body()).encode()
        try:
            with self.lock:
                self._path = path
                status, extra_headers, result = self.route(method, path, query, data, entry)
        except WooError as error:
            return error.status, {}, json.dumps(error.body()).encode()
        finally:
            time.sleep(late)
        return status, extra_headers, json.dumps(result).encode()

    def _take_fault(self, path):
        for fault in self.faults:
            if fault["path"] in ("*", path):
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def route(self, method, path, query, data, entry):
        parts = path.strip("/").split("/")
        if method == "GET" and parts == ["products"]:
            products = list(self.products.values())
            if query.get("sku"):
                products = [p for p in products if p["sku"] == query["sku"][0]]
            return self._page(self._sorted(products, query, "date"), query, self._product_view)
        if method == "GET" and len(parts) == 3 and parts[0] == "products" and parts[2] == "variations":
            parent = self._product(parts[1])
            records = [self.variations[v] for v in parent["variations"]]
            return self._page(self._sorted(records, query, "date"), query, self._variation_view)
        if method == "POST" and parts == ["products", "batch"]:
            return 200, {}, self._batch(data, entry, self.products, None)
        if method == "POST" and len(parts) == 4 and parts[0] == "products" and parts[2:] == ["variations", "batch"]:
            parent = self._product(parts[1])
            return 200, {}, self._batch(data, entry, self.variations, parent["id"])
        if method == "GET" and parts == ["orders"]:
            return self._page(self._orders(query), query, self._order_view)
        if len(parts) == 2 and parts[0] == "orders":
            order = self.orders.get(int(parts[1])) if parts[1].isdigit() else None
            if not order:
                raise WooError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if method == "PUT" and "status" in data:
                if data["status"] not in ORDER_STATUSES:
                    raise WooError(400, "rest_invalid_param", "Invalid parameter(s): status")
                self._set_status(order, data["status"], topic="order.updated")
            return 200, {}, self._order_view(order)
        if parts[0] == "webhooks":
            return self._webhooks(method, parts[1:], query, data)
        if method == "GET" and len(parts) == 3 and parts[0] == "settings":
            return 200, {}, self._setting(*parts[1:])
        if method == "GET" and parts == ["system_status"]:
            return 200, {}, {"environment": {"version": "9.2.5", "site_url": self.url if self.server else ""}}
        raise WooError(404, "rest_no_route", NO_ROUTE)

    def _setting(self, group, setting_id):
        """One setting as ``GET settings/<group>/<id>`` shows it (reading settings needs the
        manage_woocommerce capability, which a key of a plain editor lacks)."""
        if not self.settings_readable:
            # rest_authorization_required_code(): 403 to a request authenticated by its key
            raise WooError(403, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        if group not in self.settings:
            raise WooError(404, "rest_setting_setting_group_invalid", "Invalid setting group.")
        if setting_id not in self.settings[group]:
            raise WooError(404, "rest_setting_setting_invalid", "Invalid setting.")
        label, kind, default, options = SETTINGS[setting_id]
        setting = {"id": setting_id, "label": label, "description": "", "type": kind, "default": default}
        if options:
            setting["options"] = options
        setting["value"] = self.settings[group][setting_id]
        return setting

    @staticmethod
    def _sorted(records, query, default):
        """Newest first (WordPress's default ``orderby=date&order=desc``) unless asked."""
        orderby = query.get("orderby", [default])[0]
        descending = query.get("order", ["desc"])[0] == "desc"
        if orderby in ("date", "id"):
            return sorted(records, key=lambda r: r["id"], reverse=descending)
        return sorted(records, key=lambda r: (str(r.get(orderby) or ""), r["id"]), reverse=descending)

    def _product(self, ident):
        product = self.products.get(int(ident)) if str(ident).isdigit() else None
        if not product:
            raise WooError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    def _product_view(self, product):
        view = deepcopy(product)
        self._stock_view(view, product)
        self._price_view(view)
        return view

    @staticmethod
    def _price_view(view):
        """``price``, what the shop charges now: the sale price within its dates, else the
        regular price (WC_Product::is_on_sale)."""
        now, sale = gmt_now(), view.get("sale_price") or ""
        start, end = view.get("date_on_sale_from_gmt"), view.get("date_on_sale_to_gmt")
        view["on_sale"] = sale != "" and (not start or start <= now) and (not end or now <= end)
        view["price"] = sale if view["on_sale"] else view.get("regular_price") or ""

    def _sku_shown(self, product_id, variation_id):
        """A variation without a SKU of its own shows its parent's (WC_Product_Variation::get_sku
        in the 'view' context), in its own record and in order lines."""
        if variation_id:
            variation = self.variations[variation_id]
            return variation["sku"] or self.products[variation["parent_id"]]["sku"]
        return self.products[product_id]["sku"]

    def _variation_view(self, variation):
        view = deepcopy(variation)
        view["sku"] = self._sku_shown(variation["parent_id"], variation["id"])
        if variation["manage_stock"] == "parent":
            # the shop shows the parent's quantity and backorders on a variation using the parent's stock
            self._stock_view(view, self.products[variation["parent_id"]])
        else:
            self._stock_view(view, variation)
        view["type"] = "variation"
        self._price_view(view)
        return view

    @staticmethod
    def _stock_view(view, holder):
        """The stock fields the shop derives from the record keeping the stock: sold out at 0
        unless backorders are allowed, then "on backorder"."""
        allowed = holder["backorders"] != "no"
        view["stock_quantity"] = holder["stock_quantity"]
        view["backorders"], view["backorders_allowed"] = holder["backorders"], allowed
        if (holder["stock_quantity"] or 0) > 0:
            view["stock_status"] = "instock"
        elif holder["manage_stock"] is True and allowed:
            view["stock_status"] = "onbackorder"
        else:
            view["stock_status"] = "outofstock"
        view["backordered"] = view["stock_status"] == "onbackorder"

    def _order_view(self, order):
        return {k: deepcopy(v) for k, v in order.items() if k != "stock_reduced"}

    def _orders(self, query):
        orders = list(self.orders.values())
        after = query.get("modified_after", [None])[0]
        if after:
            orders = [o for o in orders if o["date_modified_gmt"] > after[:19]]
        statuses = query.get("status") or query.get("status[]")
        if statuses and "any" not in statuses:
            orders = [o for o in orders if o["status"] in statuses]
        if query.get("orderby", ["date"])[0] == "modified":
            orders.sort(key=lambda o: (o["date_modified_gmt"], o["id"]))
        else:
            orders.sort(key=lambda o: (o["date_created_gmt"], o["id"]))
        if query.get("order", ["desc"])[0] == "desc":
            orders.reverse()
        return orders

    def _page(self, records, query, view, path=None):
        try:
            per_page = int(query.get("per_page", ["10"])[0])
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            raise WooError(400, "rest_invalid_param", "Invalid parameter(s): per_page") from None
        if not 1 <= per_page <= 100:
            raise WooError(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        total = len(records)
        pages = -(-total // per_page)  # "0" for an empty list, as WordPress answers
        chunk = records[(page - 1) * per_page : page * per_page] if page >= 1 else []
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        if page > 1 and pages:
            links.append(f'<{self._page_url(query, min(page - 1, pages))}>; rel="prev"')
        if page < pages:
            links.append(f'<{self._page_url(query, page + 1)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return 200, headers, [view(record) for record in chunk]

    def _page_url(self, query, page):
        params = "&".join(
            f"{k}={_encode(v[0])}"
            for k, v in query.items()
            if k != "page" and not k.startswith(("oauth_", "consumer_"))
        )
        return f"{self.url if self.server else ''}{PREFIX}{self._path}?{params}&page={page}"

    def _batch(self, data, entry, store, parent_id):
        items = (data.get("create") or []) + (data.get("update") or []) + (data.get("delete") or [])
        entry["items"] = len(items)
        if len(items) > MAX_BATCH:
            raise WooError(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {MAX_BATCH} items for this request.",
            )
        answers = []
        for item in data.get("update") or []:
            record = store.get(item.get("id")) if isinstance(item, dict) else None
            if record is None:
                code = f"woocommerce_rest_product{'_variation' if parent_id else ''}_invalid_id"
                item_id = item.get("id") if isinstance(item, dict) else None
                answers.append(item_error(item_id, WooError(400, code, "Invalid ID.")))
                continue
            if record["id"] in self.locked_ids:
                refusal = WooError(
                    403, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
                )
                answers.append(item_error(record["id"], refusal))
                continue
            if record["id"] in self.fatal_ids:  # the items before it stay saved
                raise WooError(500, "internal_server_error", CRITICAL_ERROR)
            if parent_id and record.get("parent_id") != parent_id:
                # the real shop does not refuse it: the variation moves to that parent and
                # loses its attributes
                old = self.products.get(record["parent_id"])
                if old and record["id"] in old["variations"]:
                    old["variations"].remove(record["id"])
                self.products[parent_id]["variations"].append(record["id"])
                record["parent_id"] = parent_id
                record["attributes"] = []
            if item.get("backorders", "no") not in BACKORDERS:
                invalid = WooError(400, "rest_invalid_param", "Invalid parameter(s): backorders")
                params = {"backorders": "backorders is not one of no, notify, and yes."}
                answers.append(item_error(record["id"], invalid, params=params))
                continue
            if "backorders" in item:
                record["backorders"] = item["backorders"]
            if "manage_stock" in item:
                record["manage_stock"] = item["manage_stock"]
            if "stock_quantity" in item and record.get("manage_stock") is True:
                with contextlib.suppress(TypeError, ValueError):
                    record["stock_quantity"] = int(item["stock_quantity"])  # "11" accepted, -3 too
            for key in ("regular_price", "sale_price"):
                if key in item:
                    record[key] = str(item[key])
            for key in ("date_on_sale_from", "date_on_sale_to"):
                if item.get(key) is not None:  # null is ignored (isset), "" clears the date
                    record[key] = record[f"{key}_gmt"] = item[key] or None
            answers.append(self._variation_view(record) if parent_id else self._product_view(record))
        return {"create": [], "update": answers, "delete": []}

    # ------------------------------------------------------------------
    # webhooks
    # ------------------------------------------------------------------
    def _webhook_view(self, webhook):
        return {k: v for k, v in webhook.items() if k not in ("secret",)}

    def _webhooks(self, method, rest, query, data):
        if not rest:
            if method == "GET":
                hooks = sorted(self.webhooks.values(), key=lambda w: -w["id"])
                if query.get("status"):
                    hooks = [w for w in hooks if w["status"] == query["status"][0]]
                return self._page(hooks, query, self._webhook_view)
            if method == "POST":
                return 201, {}, self._create_webhook(data)
        elif len(rest) == 1 and rest[0].isdigit():
            webhook = self.webhooks.get(int(rest[0]))
            if not webhook:
                raise WooError(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
            if method == "GET":
                return 200, {}, self._webhook_view(webhook)
            if method == "PUT":
                for key in ("name", "delivery_url", "secret", "topic"):
                    if key in data:
                        webhook[key] = data[key]
                if "status" in data:
                    if data["status"] not in ("active", "paused", "disabled"):
                        raise WooError(400, "rest_invalid_param", "Invalid parameter(s): status")
                    webhook["status"] = data["status"]
                    if data["status"] == "active":
                        webhook["failure_count"] = 0
                return 200, {}, self._webhook_view(webhook)
            if method == "DELETE":
                if query.get("force", [""])[0] not in ("true", "1"):
                    raise WooError(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
                del self.webhooks[webhook["id"]]
                return 200, {}, self._webhook_view(webhook)
        raise WooError(404, "rest_no_route", NO_ROUTE)

    def _create_webhook(self, data):
        webhook_id = self._new_id()
        topic = data.get("topic") or ""
        webhook = {
            "id": webhook_id,
            "name": data.get("name", ""),
            "status": data.get("status") or "active",
            "topic": topic,
            "resource": topic.partition(".")[0],
            "event": topic.partition(".")[2],
            "delivery_url": data.get("delivery_url"),
            "secret": data.get("secret", ""),
            "failure_count": 0,
            "date_created_gmt": gmt_now(),
        }
        self.webhooks[webhook_id] = webhook
        # the unsigned creation ping: its result is not checked, the webhook is created anyway
        self._deliver(
            webhook,
            f"webhook_id={webhook_id}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-WC-Webhook-Source": "http://shop.example/"},
            ping=True,
        )
        return self._webhook_view(webhook)


class WooHandler(BaseHTTPRequestHandler):
    sim = None
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def _serve(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/_sim/") and method == "POST":
            result = self._control(json.loads(body or b"{}"))
            status, headers, payload = (404, {}, b"{}") if result is None else (200, {}, json.dumps(result).encode())
        elif not url.path.startswith(PREFIX):
            status, headers, payload = 404, {}, b'{"code": "rest_no_route"}'
        else:
            status, headers, payload = self.sim.handle(
                method, url.path[len(PREFIX) :], parse_qs(url.query, keep_blank_values=True), self.headers, body
            )
        self._answer(status, headers, payload)

    def _answer(self, status, headers, payload):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)

    def do_GET(self):
        if self.path == "/_sim/state":
            with self.sim.lock:
                return self._answer(
                    200,
                    {},
                    json.dumps(
                        {"products": self.sim.products, "orders": self.sim.orders, "variations": self.sim.variations}
                    ).encode(),
                )
        self._serve("GET")

    def _control(self, data):
        """Endpoints for other processes (the demo): /_sim/products, /_sim/orders."""
        if self.path == "/_sim/products":
            return {"id": self.sim.add_product(data["sku"], data.get("price", "10.00"), data.get("stock", 0))}
        if self.path == "/_sim/orders":
            lines = [tuple(line) for line in data["lines"]]
            return self.sim.place_order(lines, status=data.get("status", "processing"))
        if self.path == "/_sim/checkout":
            return self.sim.open_checkout([tuple(line) for line in data["lines"]])
        if self.path == "/_sim/cron":
            self.sim.run_cron()
            return {"ok": True}
        return None

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")

    def do_DELETE(self):
        self._serve("DELETE")


def main():
    parser = argparse.ArgumentParser(description="WooCommerce REST API simulator")
    parser.add_argument("--port", type=int, default=8902)
    parser.add_argument("--key", default="ck_test")
    parser.add_argument("--secret", default="cs_test")
    parser.add_argument(
        "--cron-every",
        type=float,
        default=0,
        help="queue webhooks like WordPress and send them every N seconds (merged, order.updated first)",
    )
    args = parser.parse_args()
    simulator = WooSimulator(args.key, args.secret).start(args.port)
    simulator.async_webhooks = True
    if args.cron_every > 0:
        simulator.webhook_delivery = "queued"

        def cron():
            while True:
                time.sleep(args.cron_every)
                simulator.run_cron()

        threading.Thread(target=cron, daemon=True).start()
    print(f"WooCommerce simulator on {simulator.url} (Ctrl-C stops)", flush=True)  # pylint: disable=print-used
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
