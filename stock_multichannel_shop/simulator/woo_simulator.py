"""A local simulator of the WooCommerce REST API (wc/v3), for tests and the demo.

Plain Python, standard library only, no Odoo. Products and variations (stock on the
variation or on its parent), orders whose status lowers the stock
(processing / on-hold / completed) or gives it back (cancelled / refunded / failed),
batches of at most 100 items (413 beyond) with per-item errors inside a 200 answer,
pagination headers, Basic or query-string authentication, injectable faults, and
webhooks delivered with a real HMAC-SHA256 signature.

Standalone: ``python3 woo_simulator.py --port 8902``. Tests start it in-process.
"""

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.request
from copy import deepcopy
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/wp-json/wc/v3/"
REDUCING = {"processing", "on-hold", "completed"}
RESTORING = {"cancelled", "refunded", "failed"}
MAX_BATCH = 100


def gmt_now():
    return datetime.now(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")


class WooError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return {"code": self.code, "message": self.message, "data": {"status": self.status}}


class WooSimulator:
    def __init__(self, key="ck_test", secret="cs_test"):
        self.key, self.secret = key, secret
        self.strip_authorization = False  # a server that drops the Authorization header
        self.async_webhooks = False
        self.lock = threading.RLock()
        self.server = None
        self.reset()

    def reset(self):
        with self.lock:
            self.products = {}
            self.variations = {}  # variation id -> dict with parent_id
            self.orders = {}
            self.webhooks = {}
            self.faults = []
            self.log = []
            self.deliveries = []
            self.next_id = 5000
            self.locked_ids = set()  # products whose updates fail per item
            self._delivery_threads = []

    # ------------------------------------------------------------------
    # catalogue and customers
    # ------------------------------------------------------------------
    def _new_id(self):
        self.next_id += 1
        return self.next_id

    def add_product(self, sku, price="10.00", stock=0, manage_stock=True, product_id=None):
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
                "manage_stock": manage_stock,
                "stock_quantity": stock if manage_stock else None,
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
                    "manage_stock": "parent" if stock_on_parent is not None else True,
                    "stock_quantity": None if stock_on_parent is not None else stock,
                }
                self.products[parent]["variations"].append(variation_id)
                ids.append(variation_id)
            return parent, ids

    def _stock_holder(self, product_id, variation_id):
        if variation_id:
            variation = self.variations[variation_id]
            return self.products[variation["parent_id"]] if variation["manage_stock"] == "parent" else variation
        return self.products[product_id]

    def stock_of(self, product_id, variation_id=0):
        with self.lock:
            return self._stock_holder(product_id, variation_id)["stock_quantity"]

    def place_order(self, lines, status="processing", prices_include_tax=False, coupon=None, shipping="10.00"):
        """A customer orders ``lines`` = [(product id, variation id, quantity, unit price excl. tax)]."""
        with self.lock:
            order_id = self._new_id()
            items, total, total_tax = [], 0.0, 0.0
            for index, (product_id, variation_id, quantity, price) in enumerate(lines, 1):
                holder = self.variations[variation_id] if variation_id else self.products[product_id]
                subtotal = round(quantity * price, 2)
                tax = round(subtotal * 0.19, 2)
                items.append(
                    {
                        "id": order_id * 10 + index,
                        "product_id": product_id,
                        "variation_id": variation_id,
                        "sku": holder["sku"],
                        "name": f"Item {holder['sku']}",
                        "quantity": quantity,
                        "subtotal": f"{subtotal:.2f}",
                        "subtotal_tax": f"{tax:.2f}",
                        "total": f"{subtotal:.2f}",
                        "total_tax": f"{tax:.2f}",
                        "price": price,
                    }
                )
                total += subtotal
                total_tax += tax
            shipping_tax = round(float(shipping) * 0.19, 2)
            coupons = []
            if coupon:
                discount_tax = round(coupon * 0.19, 2)
                coupons.append({"code": "SAVE", "discount": f"{coupon:.2f}", "discount_tax": f"{discount_tax:.2f}"})
                total -= coupon
                total_tax -= discount_tax
            stamp = gmt_now()
            order = {
                "id": order_id,
                "number": str(order_id),
                "status": "pending",
                "currency": "EUR",
                "prices_include_tax": prices_include_tax,
                "date_created_gmt": stamp,
                "date_modified_gmt": stamp,
                "customer_id": 0,
                "customer_note": "",
                "billing": {
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
                },
                "payment_method": "cod",
                "payment_method_title": "Cash on delivery",
                "line_items": items,
                "shipping_lines": [
                    {
                        "method_id": "flat_rate",
                        "method_title": "Courier",
                        "total": shipping,
                        "total_tax": f"{shipping_tax:.2f}",
                    }
                ],
                "fee_lines": [],
                "coupon_lines": coupons,
                "total": f"{total + float(shipping) + total_tax + shipping_tax:.2f}",
                "total_tax": f"{total_tax + shipping_tax:.2f}",
                "stock_reduced": False,
            }
            order["shipping"] = {k: v for k, v in order["billing"].items() if k not in ("email", "phone")}
            self.orders[order_id] = order
            self._set_status(order, status, topic="order.created")
            return deepcopy(order)

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
        for line in order["line_items"]:
            holder = self._stock_holder(line["product_id"], line["variation_id"])
            if holder.get("manage_stock") is True and holder["stock_quantity"] is not None:
                holder["stock_quantity"] += sign * line["quantity"]

    def add_fault(self, kind, path="*", count=1, **extra):
        """kind: timeout (delay=s), 429 (retry_after=s), 500, 503, malformed."""
        with self.lock:
            self.faults.append(dict(extra, kind=kind, path=path, count=count))

    def requests_to(self, method, pattern):
        return [e for e in self.log if e["method"] == method and re.fullmatch(pattern, e["path"])]

    # ------------------------------------------------------------------
    # webhooks
    # ------------------------------------------------------------------
    def _fire(self, topic, order):
        for webhook in list(self.webhooks.values()):
            if webhook["topic"] == topic and webhook["status"] == "active":
                body = json.dumps({k: v for k, v in order.items() if k != "stock_reduced"}).encode()
                signature = base64.b64encode(hmac.new(webhook["secret"].encode(), body, hashlib.sha256).digest())
                headers = {
                    "Content-Type": "application/json",
                    "X-WC-Webhook-Topic": topic,
                    "X-WC-Webhook-Resource": "order",
                    "X-WC-Webhook-Event": topic.split(".")[1],
                    "X-WC-Webhook-Signature": signature.decode(),
                    "X-WC-Webhook-ID": str(webhook["id"]),
                    "X-WC-Webhook-Delivery-ID": str(self._new_id()),
                }
                self._deliver(webhook, body, headers)

    def _deliver(self, webhook, body, headers):
        """Deliver once, never retried (as WooCommerce does).

        Synchronously by default, so that a test's Odoo handles the delivery while the
        test waits; ``async_webhooks`` delivers from a thread (the demo).
        """

        def send():
            request = urllib.request.Request(webhook["delivery_url"], data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=20) as response:
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = None
            with self.lock:
                self.deliveries.append(
                    {"webhook": webhook["id"], "status": status, "topic": headers.get("X-WC-Webhook-Topic")}
                )

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
    def authenticated(self, headers, query):
        header = headers.get("Authorization", "")
        if header.startswith("Basic ") and not self.strip_authorization:
            key, _sep, secret = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
        else:
            key, secret = query.get("consumer_key", [""])[0], query.get("consumer_secret", [""])[0]
        return hmac.compare_digest(key, self.key) and hmac.compare_digest(secret, self.secret)

    def handle(self, method, path, query, headers, body):
        """Return (status, headers, body bytes)."""
        entry = {"method": method, "path": path, "items": 0, "time": time.monotonic()}
        with self.lock:
            self.log.append(entry)
            fault = self._take_fault(path)
        if fault:
            kind = fault["kind"]
            if kind == "timeout":
                time.sleep(fault.get("delay", 3.0))
            elif kind == "429":
                return 429, {"Retry-After": str(fault.get("retry_after", 1))}, b'{"code": "too_many_requests"}'
            elif kind in ("500", "502", "503"):
                return int(kind), {}, b"<html>Service Unavailable</html>"
            elif kind == "malformed":
                return 200, {}, b"<html><body>Cache error</body></html>"
        if not self.authenticated(headers, query):
            error = WooError(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
            return 401, {}, json.dumps(error.body()).encode()
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {}, json.dumps(WooError(400, "rest_invalid_json", "Invalid JSON body").body()).encode()
        try:
            with self.lock:
                status, extra_headers, result = self.route(method, path, query, data, entry)
        except WooError as error:
            return error.status, {}, json.dumps(error.body()).encode()
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
            return self._page(sorted(self.products.values(), key=lambda p: p["id"]), query, self._product_view)
        if method == "GET" and len(parts) == 3 and parts[0] == "products" and parts[2] == "variations":
            parent = self._product(parts[1])
            records = [self.variations[v] for v in parent["variations"]]
            return self._page(records, query, deepcopy)
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
            if method == "PUT":
                if "status" in data:
                    self._set_status(order, data["status"], topic="order.updated")
                return 200, {}, self._order_view(order)
            return 200, {}, self._order_view(order)
        if method == "POST" and parts == ["webhooks"]:
            return 201, {}, self._create_webhook(data)
        if method == "GET" and parts == ["system_status"]:
            return 200, {}, {"environment": {"version": "9.4.0"}}
        raise WooError(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _product(self, ident):
        product = self.products.get(int(ident)) if str(ident).isdigit() else None
        if not product:
            raise WooError(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    def _product_view(self, product):
        view = deepcopy(product)
        view["stock_status"] = "instock" if (product["stock_quantity"] or 0) > 0 else "outofstock"
        return view

    def _order_view(self, order):
        return {k: deepcopy(v) for k, v in order.items() if k != "stock_reduced"}

    def _orders(self, query):
        orders = sorted(self.orders.values(), key=lambda o: (o["date_modified_gmt"], o["id"]))
        after = query.get("modified_after", [None])[0]
        if after:
            orders = [o for o in orders if o["date_modified_gmt"] > after[:19]]
        if query.get("order", ["desc"])[0] == "desc":
            orders.reverse()
        return orders

    def _page(self, records, query, view):
        per_page = int(query.get("per_page", ["10"])[0])
        page = int(query.get("page", ["1"])[0])
        if not 1 <= per_page <= 100:
            raise WooError(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        total = len(records)
        chunk = records[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max(1, -(-total // per_page)))}
        return 200, headers, [view(record) for record in chunk]

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
            if record is None or (parent_id and record.get("parent_id") != parent_id):
                answers.append(
                    {
                        "id": item.get("id") if isinstance(item, dict) else None,
                        "error": {
                            "code": "woocommerce_rest_product_invalid_id",
                            "message": "Invalid ID.",
                            "data": {"status": 400},
                        },
                    }
                )
                continue
            if record["id"] in self.locked_ids:
                answers.append(
                    {
                        "id": record["id"],
                        "error": {
                            "code": "woocommerce_rest_cannot_edit",
                            "message": "Sorry, you are not allowed to edit this resource.",
                            "data": {"status": 403},
                        },
                    }
                )
                continue
            if "stock_quantity" in item and item.get("manage_stock") is not True:
                record["stock_quantity"] = record["stock_quantity"]  # ignored without manage_stock
            for key in ("manage_stock", "stock_quantity", "regular_price", "sale_price"):
                if key in item:
                    record[key] = item[key]
            answers.append(deepcopy(record))
        return {"create": [], "update": answers, "delete": []}

    def _create_webhook(self, data):
        webhook_id = self._new_id()
        webhook = {
            "id": webhook_id,
            "name": data.get("name", ""),
            "topic": data.get("topic"),
            "delivery_url": data.get("delivery_url"),
            "secret": data.get("secret", ""),
            "status": "active",
        }
        self.webhooks[webhook_id] = webhook
        self._deliver(
            webhook, f"webhook_id={webhook_id}".encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )  # the unsigned creation ping
        return {k: v for k, v in webhook.items() if k != "secret"}


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
                method, url.path[len(PREFIX) :], parse_qs(url.query), self.headers, body
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
        return None

    def do_POST(self):
        self._serve("POST")

    def do_PUT(self):
        self._serve("PUT")


def main():
    parser = argparse.ArgumentParser(description="WooCommerce REST API simulator")
    parser.add_argument("--port", type=int, default=8902)
    parser.add_argument("--key", default="ck_test")
    parser.add_argument("--secret", default="cs_test")
    args = parser.parse_args()
    simulator = WooSimulator(args.key, args.secret).start(args.port)
    simulator.async_webhooks = True
    print(f"WooCommerce simulator on {simulator.url} (Ctrl-C stops)", flush=True)  # pylint: disable=print-used
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
