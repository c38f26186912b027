"""A local simulator of the eMAG Marketplace API (api-3), for tests and the demo.

Plain Python, standard library only, no Odoo. It behaves like the documented API:
POST with JSON bodies, HTTP Basic auth, the ``{"isError", "messages", "results"}``
envelope, at most 50 entities per save, 12 req/s for order resources and 3 req/s for
everything else per account (HTTP 429 beyond), order statuses and transitions,
acknowledge, whole-order ``order/save``, refused items inside a successful answer
(a price outside its band), a stock change during a campaign refused with HTTP 400
for the whole request, ``sale_price`` above 0, order windows of a month at most,
order types (3 fulfilled by the seller, 2 fulfilled by eMAG), invoice attachments
(``order/attachments/save``: the URL is fetched and must serve a PDF), the seller's
callback URLs (``GET url?order_id=…`` on a new order, a cancellation and a return),
and injectable faults (timeouts, 5xx, 429, malformed JSON, whole-batch refusals,
requests delayed on their way, messages naming no offer).

Run it standalone::

    python3 emag_simulator.py --port 8901 --username seller --password secret \
        [--callback-url http://odoo/multichannel/emag/1/<token>]

Tests start it in-process (``EmagSimulator().start()``) and drive it through its
methods; other processes use the ``/_sim/...`` control endpoints.
"""

import argparse
import base64
import calendar
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from copy import deepcopy
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

CANCELED, NEW, IN_PROGRESS, PREPARED, FINALIZED, RETURNED = range(6)
TRANSITIONS = {IN_PROGRESS: {PREPARED, FINALIZED, CANCELED}, PREPARED: {FINALIZED, CANCELED}, FINALIZED: {RETURNED}}
WHOLE_ORDER_KEYS = ("id", "status", "payment_mode_id", "customer", "products", "date", "type")
DATE = "%Y-%m-%d %H:%M:%S"
MAX_STOCK = 65535
SELLER_FULFILLED, EMAG_FULFILLED = 3, 2
# order/attachments/save types [doc]: 1 invoice (the type eMAG counts as the order's
# invoice, storno invoices included), 3 warranty, 4 user manual, 8 user guide, 10 AWB, 11 proforma
ATTACHMENT_TYPES = {1, 3, 4, 8, 10, 11}
CALLBACK_EVENTS = ("order", "cancellation", "return")


PLATFORM_TIMEZONE = "Europe/Bucharest"


def platform_now():
    """eMAG dates are the platform's local time, without a zone."""
    return datetime.now(ZoneInfo(PLATFORM_TIMEZONE)).replace(tzinfo=None)


def one_month_after(moment):
    """The same day and time a calendar month later (the month's last day when it has no
    such day): the longest window eMAG reads orders over."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def now_text():
    return platform_now().strftime(DATE)


class ApiError(Exception):
    def __init__(self, messages, status=200):
        super().__init__(messages)
        self.messages = messages if isinstance(messages, list) else [messages]
        self.status = status


# the standard, reduced and nil rates of each platform's country (eMAG's vat/read gives
# them with its own ids; which ids is not documented)
PLATFORM_VAT_RATES = {
    "ro": (0.21, 0.11, 0.0),
    "bg": (0.20, 0.09, 0.0),
    "hu": (0.27, 0.18, 0.05, 0.0),
    "fd_ro": (0.21, 0.11, 0.0),
}


class EmagSimulator:
    def __init__(self, username="seller", password="secret", order_rate=12, other_rate=3, max_batch=50, platform="ro"):
        self.accounts = {username: password}
        self.platform = platform  # each platform has its country's VAT rates
        self.rates = {"order": order_rate, "other": other_rate}
        self.max_batch = max_batch
        # eMAG's documentation gives no body for its 400s; its 429 comes without the usual
        # envelope ({"message": …}): with this set, the 400s come so too
        self.bare_http_errors = False
        self.api_rights = True
        self.allowed_ips = None  # None: every IP is whitelisted
        self.lock = threading.RLock()
        # the seller's callback URLs, per event; eMAG calls them GET url?order_id=…
        self.callback_urls = {}
        self.callbacks_async = True  # as eMAG: the customer does not wait for the seller's server
        self.verify_attachment_urls = True  # fetch each attachment URL: public, and a PDF
        self.reset()
        self.server = None

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    def reset(self):
        with self.lock:
            self.offers = {}
            self.orders = {}
            self.vat_rates = [
                {"vat_id": vat_id, "vat_rate": rate} for vat_id, rate in enumerate(PLATFORM_VAT_RATES[self.platform], 1)
            ]
            self.faults = []
            self.transit_delays = []  # (path or "*", seconds): a request delayed on its way in
            # {order id: changes}: the order changes right when it is acknowledged, so the
            # re-read after the acknowledgement differs from the list read before it
            self.acknowledge_changes = {}
            # eMAG's documentation makes acknowledging the only way from new to in progress
            # and says nothing of acknowledging again: accepted (nothing changes), or refused
            # with strict_acknowledge
            self.strict_acknowledge = False
            self.callback_log = []  # one dict per callback the simulator made
            self.log = []  # one dict per API request
            self.windows = {}
            self.next_order_id = 100001

    def add_offer(
        self,
        offer_id,
        part_number="",
        stock=0,
        sale_price=100.0,
        ean=None,
        name=None,
        min_sale_price=None,
        max_sale_price=None,
        campaign=None,
        status=1,
        vat_id=1,
    ):
        with self.lock:
            self.offers[int(offer_id)] = {
                "id": int(offer_id),
                "status": status,
                "part_number": part_number,
                "part_number_key": f"PNK{offer_id}",
                "name": name or f"Product {offer_id}",
                "ean": list(ean or []),
                "sale_price": sale_price,
                "recommended_price": None,
                "min_sale_price": min_sale_price if min_sale_price is not None else round(sale_price * 0.5, 4),
                "max_sale_price": max_sale_price if max_sale_price is not None else round(sale_price * 2, 4),
                "vat_id": vat_id,
                "handling_time": [{"warehouse_id": 1, "value": 1}],
                "stock": [{"warehouse_id": 1, "value": stock}],
                "campaign": campaign,
            }
            return self.offers[int(offer_id)]

    def stock_of(self, offer_id):
        with self.lock:
            return sum(item["value"] for item in self.offers[int(offer_id)]["stock"])

    def place_order(
        self, lines, customer=None, payment_mode_id=1, shipping_tax=15.0, vouchers=None, order_type=SELLER_FULFILLED
    ):
        """A customer orders ``lines`` = [(offer id, quantity), ...]; the offers' stock drops.

        ``order_type`` 2 is fulfilled by eMAG from its own warehouse: the seller's offer
        stock does not move. The seller's new-order callback is called either way.
        """
        with self.lock:
            order_id = self.next_order_id
            self.next_order_id += 1
            products = []
            for index, (offer_id, quantity) in enumerate(lines, 1):
                offer = self.offers[int(offer_id)]
                if order_type == SELLER_FULFILLED:
                    self._change_stock(offer, -quantity)
                vat = next(v["vat_rate"] for v in self.vat_rates if v["vat_id"] == offer["vat_id"])
                products.append(
                    {
                        "id": order_id * 100 + index,
                        "product_id": offer["id"],
                        "part_number": offer["part_number"],
                        "ext_part_number": offer["part_number"],
                        "part_number_key": offer["part_number_key"],
                        "name": offer["name"],
                        "quantity": quantity,
                        "sale_price": f"{offer['sale_price']:.4f}",
                        "vat": f"{vat:.4f}",
                        "status": 1,
                    }
                )
            stamp = now_text()
            self.orders[order_id] = {
                "id": order_id,
                "status": NEW,
                "type": order_type,
                "date": stamp,
                "modified": stamp,
                "payment_mode_id": payment_mode_id,
                "shipping_tax": shipping_tax,
                "customer": customer or default_customer(order_id),
                "products": products,
                "vouchers": vouchers or [],
                "cancellation_request": None,
                "reason_cancellation": None,
                "attachments": [],
            }
            placed = deepcopy(self.orders[order_id])
        self.call_back("order", order_id)
        return placed

    def customer_cancel(self, order_id):
        with self.lock:
            order = self.orders[int(order_id)]
            self._set_order_status(order, CANCELED)
            order["reason_cancellation"] = 24
        self.call_back("cancellation", order_id)

    def customer_asks_to_cancel(self, order_id):
        """The customer asks to cancel an order the seller already took (status 2 or 3): eMAG
        flags it and leaves the decision to the seller. The docs name the fields only; the
        flag's shape (1) is a guess, the reason is eMAG's code 24 (customer request)."""
        with self.lock:
            order = self.orders[int(order_id)]
            order["cancellation_request"] = 1
            order["reason_cancellation"] = 24
            order["modified"] = now_text()
        self.call_back("cancellation", order_id)

    def customer_return(self, order_id):
        """The customer returns a finalized order (4 -> 5)."""
        with self.lock:
            order = self.orders[int(order_id)]
            if order["status"] != FINALIZED:
                raise ApiError(f"Order {order_id} is not finalized and cannot be returned")
            self._set_order_status(order, RETURNED)
        self.call_back("return", order_id)

    # ------------------------------------------------------------------
    # callbacks to the seller
    # ------------------------------------------------------------------
    def call_back(self, event, order_id):
        """GET the seller's ``event`` URL with ``?order_id=``; in the background unless told not to."""
        url = self.callback_urls.get(event)
        if not url:
            return
        url = f"{url}{'&' if '?' in url else '?'}order_id={int(order_id)}"
        if self.callbacks_async:
            threading.Thread(target=self._deliver_callback, args=(event, url), daemon=True).start()
        else:
            self._deliver_callback(event, url)

    def _deliver_callback(self, event, url):
        entry = {"event": event, "url": url, "time": time.monotonic()}
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - the seller's URL
                entry.update(status=answer.status, body=answer.read(200).decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            entry.update(status=error.code, body=error.read(200).decode("utf-8", "replace"))
        except (OSError, ValueError) as error:
            entry.update(status=None, body=f"{type(error).__name__}: {error}")
        entry["duration"] = time.monotonic() - entry["time"]
        with self.lock:
            self.callback_log.append(entry)

    def _set_order_status(self, order, status):
        if status == CANCELED and order["status"] != CANCELED:
            for line in order["products"]:
                if line["status"] and int(line["product_id"]) in self.offers:
                    self._change_stock(self.offers[int(line["product_id"])], line["quantity"])
        order["status"] = status
        order["modified"] = now_text()

    def _change_stock(self, offer, delta):
        offer["stock"][0]["value"] = max(0, min(MAX_STOCK, offer["stock"][0]["value"] + delta))

    def add_fault(self, kind, resource="*", count=1, **extra):
        """kind: timeout (delay=s, or held=a threading.Event: on its way until that is set,
        then applied; after_processing=True: applied, then answered late), 500,
        503, 429, malformed, reject_batch (offer_id=...), doc_error, message (text=...: a
        message naming no offer added to a successful answer), wrong_type (``results`` an
        object where a list is documented)."""
        with self.lock:
            self.faults.append(dict(extra, kind=kind, resource=resource, count=count))

    def requests_to(self, path):
        return [entry for entry in self.log if entry["path"] == path]

    def throttled(self):
        """The requests refused because the client went over the rate limit."""
        with self.lock:
            return [entry for entry in self.log if entry.get("throttled")]

    def max_rate(self, rate_class):
        """The most requests of a class the simulator saw within any one second."""
        stamps = sorted(e["time"] for e in self.log if e["class"] == rate_class)
        best, start = 0, 0
        for end, stamp in enumerate(stamps):
            while stamp - stamps[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    # ------------------------------------------------------------------
    # server
    # ------------------------------------------------------------------
    def start(self, port=0):
        simulator = self

        class Handler(EmagHandler):
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
    def port(self):
        return self.server.server_address[1]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/api-3"

    # ------------------------------------------------------------------
    # request handling
    # ------------------------------------------------------------------
    def _throttled(self, account, rate_class):
        with self.lock:
            window = self.windows.setdefault((account, rate_class), deque())
            now = time.monotonic()
            while window and now - window[0] >= 1.0:
                window.popleft()
            window.append(now)  # invalid and refused requests count too
            return len(window) > self.rates[rate_class]

    def _take_fault(self, path):
        with self.lock:
            for fault in self.faults:
                if fault["resource"] in ("*", path) and fault["kind"] != "reject_batch":
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _transit_delay(self, path):
        with self.lock:
            for index, (resource, seconds) in enumerate(self.transit_delays):
                if resource in ("*", path):
                    del self.transit_delays[index]
                    return seconds
        return 0

    def handle_api(self, path, body, account, password, client_ip):
        """Return (HTTP status, headers, body bytes) for one API request."""
        parts = path.split("/")
        resource, action = parts[0], parts[1] if len(parts) > 1 else ""
        rate_class = "order" if resource == "order" else "other"
        # ids in the path are left out (order/acknowledge/123); sub-actions kept (order/attachments/save)
        key = f"{resource}/{action}" + (f"/{parts[2]}" if action == "attachments" and len(parts) > 2 else "")
        delay = self._transit_delay(key)
        if delay:
            time.sleep(delay)  # the request is still on its way: eMAG has not seen it yet
        entry = {"time": time.monotonic(), "path": key, "class": rate_class, "items": 0}
        with self.lock:
            self.log.append(entry)
        if self._throttled(account, rate_class):
            entry["status"] = 429
            entry["throttled"] = True  # the client went over the rate limit (not an injected 429)
            limit = self.rates[rate_class] * 3
            return (
                429,
                {"X-RateLimit-Limit-3second": str(limit), "X-RateLimit-Remaining-3second": "0"},
                json.dumps({"message": "API rate limit exceeded"}).encode(),
            )
        if self.accounts.get(account) != password:
            entry["status"] = 401
            return 401, {}, envelope_bytes(True, ["Invalid username or password"])
        if not self.api_rights:
            entry["status"] = 403
            return 403, {}, envelope_bytes(True, ["This user does not have API rights"])
        if self.allowed_ips is not None and client_ip not in self.allowed_ips:
            entry["status"] = 403
            return 403, {}, envelope_bytes(True, [f"IP {client_ip} is not whitelisted for API access"])
        fault = self._take_fault(entry["path"])
        if fault and fault["kind"] in ("500", "502", "503"):
            entry["status"] = int(fault["kind"])
            return int(fault["kind"]), {}, b"<html><body>Service Unavailable</body></html>"
        if fault and fault["kind"] == "429":
            entry["status"] = 429
            return 429, {}, json.dumps({"message": "API rate limit exceeded"}).encode()
        if fault and fault["kind"] == "malformed":
            entry["status"] = 200
            return 200, {}, b"<html><head><title>Maintenance</title></head>"
        if fault and fault["kind"] == "timeout" and not fault.get("after_processing"):
            if fault.get("held"):
                fault["held"].wait(fault.get("delay", 30.0))
            else:
                time.sleep(fault.get("delay", 3.0))
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            entry["status"] = 400
            return 400, {}, envelope_bytes(True, ["Request body is not valid JSON"])
        entry["payload"] = payload
        try:
            with self.lock:
                results, messages = self.dispatch(resource, action, parts[2:], payload, entry)
            is_error = False
            if fault and fault["kind"] == "doc_error":
                is_error, messages = True, ["Documentation error: the request does not match the documentation"]
            if fault and fault["kind"] == "message":
                messages = [*messages, fault.get("text", "Some offers could not be saved")]
        except ApiError as error:
            results, messages, is_error, status = [], error.messages, True, error.status
        else:
            status = 200
        if fault and fault["kind"] == "wrong_type" and not is_error:
            results = {"results": results}  # an object where the documentation says a list
        if fault and fault["kind"] == "timeout" and fault.get("after_processing"):
            time.sleep(fault.get("delay", 3.0))
        entry["status"] = status
        if status >= 400 and self.bare_http_errors:
            return status, {}, json.dumps({"message": "; ".join(str(m) for m in messages)}).encode()
        return status, {}, envelope_bytes(is_error, messages, results)

    def dispatch(self, resource, action, rest, payload, entry):
        route = {
            ("offer", "save"): self.offer_save,
            ("product_offer", "save"): self.product_offer_save,
            ("product_offer", "read"): self.product_offer_read,
            ("product_offer", "count"): self.product_offer_count,
            ("order", "read"): self.order_read,
            ("order", "count"): self.order_count,
            ("order", "save"): self.order_save,
            ("order", "acknowledge"): lambda p, e: self.order_acknowledge(rest, e),
            ("order", "attachments"): lambda p, e: self.order_attachments(rest, p, e),
            ("vat", "read"): lambda p, e: (deepcopy(self.vat_rates), []),
        }.get((resource, action))
        if not route:
            raise ApiError(f"Resource {resource}/{action} does not exist")
        if not isinstance(payload, dict):
            raise ApiError("The request must be a JSON object")
        return route(payload, entry)

    def _save_items(self, payload, entry):
        items = payload.get("data")
        if not isinstance(items, list) or not items:
            raise ApiError("'data' must be a non-empty list")
        entry["items"] = len(items)
        if len(items) > self.max_batch:
            raise ApiError(f"Maximum {self.max_batch} entities per request, got {len(items)}")
        for fault in self.faults:
            if fault["kind"] == "reject_batch" and any(
                isinstance(i, dict) and i.get("id") == fault["offer_id"] for i in items
            ):
                raise ApiError("Invalid data in request")
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), int) or not 0 < item["id"] < 2**24:
                raise ApiError("Invalid data in request: every entity needs an integer id")
            for stock in item.get("stock") or []:
                if not isinstance(stock.get("value"), int) or not 0 <= stock["value"] <= MAX_STOCK:
                    raise ApiError("Invalid data in request: stock value must be an integer 0..65535")
        for item in items:
            # eMAG's documentation: a stock change refused during a campaign is an HTTP 400
            # naming the campaign, for the whole request
            offer = self.offers.get(item["id"])
            if offer and offer.get("campaign") and "stock" in item:
                raise ApiError(
                    f"Offer {item['id']}: stock cannot be changed during the campaign '{offer['campaign']}'",
                    status=400,
                )
        return items

    def offer_save(self, payload, entry):
        messages = []
        for item in self._save_items(payload, entry):
            offer = self.offers.get(item["id"])
            if not offer:
                messages.append(f"Offer {item['id']} does not exist; create it with product_offer/save")
                continue
            self._refuse_or_apply(offer, item, messages)
        return [], messages

    def _refuse_or_apply(self, offer, item, messages):
        """Apply ``item`` to ``offer``, or add eMAG's refusal to ``messages``; True when applied."""
        refusal = self._offer_refusal(offer, item)
        if refusal:
            messages.append({"id": item["id"], "message": refusal})
            return False
        self._apply_offer(offer, item)
        return True

    def _offer_refusal(self, offer, item):
        merged = dict(offer, **{k: v for k, v in item.items() if v is not None})
        sale, low, high = merged.get("sale_price"), merged.get("min_sale_price"), merged.get("max_sale_price")
        if sale is not None and sale <= 0:
            return "sale_price must be greater than 0"
        if sale is not None and low is not None and high is not None and not low <= sale <= high:
            return f"sale_price {sale} must lie between min_sale_price {low} and max_sale_price {high}"
        recommended = item.get("recommended_price")
        if recommended is not None and sale is not None and recommended <= sale:
            return "recommended_price must be greater than sale_price"
        if "vat_id" in item and item["vat_id"] not in {v["vat_id"] for v in self.vat_rates}:
            return f"Unknown vat_id {item['vat_id']}"
        return None

    def _apply_offer(self, offer, item):
        for key, value in item.items():
            if key in ("id", "part_number_key", "ean", "part_number", "name") and key in offer and offer[key]:
                continue
            offer[key] = deepcopy(value)

    def product_offer_save(self, payload, entry):
        messages = []
        for item in self._save_items(payload, entry):
            offer = self.offers.get(item["id"])
            if offer is None:
                missing = [
                    k
                    for k in (
                        "status",
                        "sale_price",
                        "vat_id",
                        "handling_time",
                        "stock",
                        "min_sale_price",
                        "max_sale_price",
                    )
                    if k not in item
                ]
                if not (item.get("part_number_key") or item.get("ean") or item.get("name")):
                    missing.append("part_number_key, ean or name")
                if missing:
                    messages.append({"id": item["id"], "message": f"Missing on first save: {', '.join(missing)}"})
                    continue
                offer = {
                    "id": item["id"],
                    "part_number": item.get("part_number", ""),
                    "campaign": None,
                    "part_number_key": item.get("part_number_key") or f"PNK{item['id']}",
                    "name": item.get("name") or f"Product {item['id']}",
                    "ean": item.get("ean") or [],
                    "recommended_price": None,
                }
            if self._refuse_or_apply(offer, item, messages):
                self.offers[item["id"]] = offer
        return [], messages

    def _page(self, payload, records):
        per_page, page = payload.get("itemsPerPage", 100), payload.get("currentPage", 1)
        if not isinstance(per_page, int) or not 1 <= per_page <= 100:
            raise ApiError("itemsPerPage must be between 1 and 100")
        if not isinstance(page, int) or page < 1:
            raise ApiError("currentPage must be at least 1")
        return records[(page - 1) * per_page : page * per_page]

    def _offers_matching(self, payload):
        offers = sorted(self.offers.values(), key=lambda o: o["id"])
        if "id" in payload:
            offers = [o for o in offers if o["id"] == payload["id"]]
        if "status" in payload:
            offers = [o for o in offers if o["status"] == payload["status"]]
        return offers

    def product_offer_read(self, payload, entry):
        page = self._page(payload, self._offers_matching(payload))
        results = []
        for offer in page:
            reading = deepcopy(offer)
            reading.pop("campaign", None)
            general = sum(s["value"] for s in offer["stock"])
            unacknowledged = sum(
                line["quantity"]
                for o in self.orders.values()
                if o["status"] == NEW
                for line in o["products"]
                if line["product_id"] == offer["id"]
            )
            reading.update(general_stock=general, estimated_stock=max(0, general - unacknowledged))
            results.append(reading)
        return results, []

    def product_offer_count(self, payload, entry):
        return count_result(len(self._offers_matching(payload)), payload), []

    def _orders_matching(self, payload):
        orders = sorted(self.orders.values(), key=lambda o: o["id"])
        if "id" in payload:
            orders = [o for o in orders if o["id"] == int(payload["id"])]
        if "status" in payload:
            wanted = payload["status"] if isinstance(payload["status"], list) else [payload["status"]]
            orders = [o for o in orders if o["status"] in wanted]
        orders = [o for o in orders if o["type"] == payload.get("type", 3)]
        for field in ("created", "modified"):
            after, before = payload.get(f"{field}After"), payload.get(f"{field}Before")
            if before and not after:
                raise ApiError(f"{field}Before needs {field}After")
            if after:
                start = parse_date(after, f"{field}After")
                end = parse_date(before, f"{field}Before") if before else platform_now()
                if end > one_month_after(start):
                    raise ApiError(f"The {field} window may be one month at most")
                key = "date" if field == "created" else "modified"
                orders = [o for o in orders if start <= datetime.strptime(o[key], DATE) <= end]
        return orders

    def order_read(self, payload, entry):
        return deepcopy(self._page(payload, self._orders_matching(payload))), []

    def order_count(self, payload, entry):
        return count_result(len(self._orders_matching(payload)), payload), []

    def order_acknowledge(self, rest, entry):
        if not rest or not rest[0].isdigit() or int(rest[0]) not in self.orders:
            raise ApiError("Order not found")
        order = self.orders[int(rest[0])]
        if order["status"] == CANCELED:
            raise ApiError(f"Order {order['id']} was canceled and cannot be acknowledged")
        if order["status"] != NEW and self.strict_acknowledge:
            raise ApiError(f"Order {order['id']} is not new and cannot be acknowledged")
        if order["status"] == NEW:
            self._set_order_status(order, IN_PROGRESS)
        order.update(deepcopy(self.acknowledge_changes.pop(order["id"], {})))
        return [], []

    def order_attachments(self, rest, payload, entry):
        if rest != ["save"]:
            raise ApiError("Resource order/attachments/" + "/".join(rest) + " does not exist")
        items = payload.get("data")
        if not isinstance(items, list) or not items:
            raise ApiError("'data' must be a non-empty list")
        entry["items"] = len(items)
        if len(items) > self.max_batch:
            raise ApiError(f"Maximum {self.max_batch} entities per request, got {len(items)}")
        checked = []
        for item in items:
            if not isinstance(item, dict):
                raise ApiError("Invalid data in request: every attachment is an object")
            order = self.orders.get(item.get("order_id")) if isinstance(item.get("order_id"), int) else None
            if not order:
                raise ApiError(f"Order {item.get('order_id')!r} not found")
            if item.get("type") not in ATTACHMENT_TYPES:
                raise ApiError(f"Attachment type {item.get('type')!r} is not allowed")
            url = item.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ApiError("The attachment url must be a public http(s) URL")
            if not str(item.get("name") or "").strip():
                raise ApiError("The attachment needs a name")
            checked.append((order, item))
        for order, item in checked:
            if self.verify_attachment_urls:
                self.lock.release()  # the seller's server may call back here while serving the file
                try:
                    problem = self._pdf_problem(item["url"])
                finally:
                    self.lock.acquire()
                if problem:
                    raise ApiError(f"Order {order['id']}: the attachment could not be downloaded: {problem}")
            attachment = {"name": item["name"], "url": item["url"], "type": item["type"]}
            # eMAG's documentation does not say that saving one again replaces it: kept twice
            order["attachments"] = [*order.get("attachments", []), attachment]
        return [], []

    @staticmethod
    def _pdf_problem(url):
        try:
            with urllib.request.urlopen(url, timeout=20) as answer:  # noqa: S310 - the seller's URL
                kind = answer.headers.get("Content-Type", "")
                head = answer.read(5)
        except urllib.error.HTTPError as error:
            return f"HTTP {error.code}"
        except (OSError, ValueError) as error:
            return f"{type(error).__name__}"
        if "application/pdf" not in kind and not head.startswith(b"%PDF"):
            return f"not a PDF ({kind or 'no Content-Type'})"
        return None

    def order_save(self, payload, entry):
        items = payload.get("data")
        if not isinstance(items, list) or len(items) != 1:
            raise ApiError("order/save takes one order in 'data'")
        entry["items"] = 1
        sent = items[0]
        missing = [key for key in WHOLE_ORDER_KEYS if key not in sent]
        if missing:
            raise ApiError(f"Send the whole order as read: missing {', '.join(missing)}")
        order = self.orders.get(sent["id"])
        if not order:
            raise ApiError(f"Order {sent['id']} not found")
        target = sent["status"]
        if target != order["status"]:
            if target not in TRANSITIONS.get(order["status"], set()):
                raise ApiError(f"Status cannot change from {order['status']} to {target}")
            if target == CANCELED and not sent.get("reason_cancellation"):
                raise ApiError("A cancellation needs reason_cancellation")
            order["reason_cancellation"] = sent.get("reason_cancellation")
            self._set_order_status(order, target)
        return [], []


def count_result(total, payload):
    per_page = payload.get("itemsPerPage", 100)
    return {"noOfItems": str(total), "noOfPages": str(-(-total // per_page)), "itemsPerPage": str(per_page)}


def parse_date(value, name):
    try:
        return datetime.strptime(value, DATE)
    except (TypeError, ValueError):
        raise ApiError(f"{name} must be YYYY-mm-dd HH:ii:ss") from None


def envelope_bytes(is_error, messages, results=None):
    return json.dumps(
        {"isError": is_error, "messages": messages, "results": results if results is not None else []}
    ).encode()


def default_customer(order_id):
    return {
        "id": order_id,
        "name": "Maria Ionescu",
        "email": f"{order_id:x}a1b2c3@hash.emag.ro",
        "phone_1": "0722000000",
        "company": "",
        "code": "",
        "legal_entity": 0,
        "billing_name": "Maria Ionescu",
        "billing_phone": "0722000000",
        "billing_country": "RO",
        "billing_suburb": "Bucuresti",
        "billing_city": "Bucuresti",
        "billing_street": "Str. Lunga 10",
        "billing_postal_code": "010101",
        "shipping_contact": "Maria Ionescu",
        "shipping_phone": "0722000000",
        "shipping_country": "RO",
        "shipping_suburb": "Bucuresti",
        "shipping_city": "Bucuresti",
        "shipping_street": "Str. Lunga 10",
        "shipping_postal_code": "010101",
    }


class EmagHandler(BaseHTTPRequestHandler):
    sim = None
    protocol_version = "HTTP/1.1"
    # one segment per answer and no Nagle delay: otherwise every keep-alive call
    # waits ~40 ms for a delayed ACK and the simulator, not the client, is measured
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, status, headers, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.wfile.write(body)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _credentials(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return "", None
        try:
            account, _sep, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return "", None
        return account, password

    def do_POST(self):
        body = self._body()
        if self.path.startswith("/_sim/"):
            return self._control(body)
        if not self.path.startswith("/api-3/"):
            return self._send(404, {}, b'{"message": "not found"}')
        account, password = self._credentials()
        self._send(
            *self.sim.handle_api(
                self.path[len("/api-3/") :].strip("/"), body, account, password, self.client_address[0]
            )
        )

    def do_GET(self):
        if self.path == "/_sim/state":
            with self.sim.lock:
                state = {"offers": self.sim.offers, "orders": self.sim.orders}
                return self._send(200, {}, json.dumps(state, default=str).encode())
        self._send(405, {}, b'{"message": "use POST"}')

    def _control(self, body):
        data = json.loads(body or b"{}")
        sim = self.sim
        if self.path == "/_sim/reset":
            sim.reset()
            result = {}
        elif self.path == "/_sim/offers":
            result = sim.add_offer(**data)
        elif self.path == "/_sim/orders":
            result = sim.place_order(
                [tuple(line) for line in data["lines"]],
                customer=data.get("customer"),
                order_type=data.get("type", SELLER_FULFILLED),
            )
        elif self.path == "/_sim/cancel":
            sim.customer_cancel(data["order_id"])
            result = {}
        elif self.path == "/_sim/return":
            sim.customer_return(data["order_id"])
            result = {}
        elif self.path == "/_sim/callbacks":
            sim.callback_urls = {event: data[event] for event in CALLBACK_EVENTS if data.get(event)}
            result = dict(sim.callback_urls)
        elif self.path == "/_sim/faults":
            sim.add_fault(**data)
            result = {}
        else:
            return self._send(404, {}, b'{"message": "unknown control endpoint"}')
        self._send(200, {}, json.dumps(result, default=str).encode())


def main():
    parser = argparse.ArgumentParser(description="eMAG Marketplace API simulator")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument("--username", default="seller")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--callback-url", help="the seller's callback URL, for new orders, cancellations and returns")
    parser.add_argument("--platform", choices=sorted(PLATFORM_VAT_RATES), default="ro", help="whose VAT rates")
    args = parser.parse_args()
    simulator = EmagSimulator(args.username, args.password, platform=args.platform).start(args.port)
    if args.callback_url:
        simulator.callback_urls = dict.fromkeys(CALLBACK_EVENTS, args.callback_url)
    print(f"eMAG simulator on {simulator.base_url} (Ctrl-C stops)", flush=True)  # pylint: disable=print-used
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
