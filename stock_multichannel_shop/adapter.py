"""The WooCommerce adapter: the core's contract translated to the wc/v3 REST API."""

import ipaddress
import json
import logging
import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from odoo.addons.stock_multichannel.lib.adapter import (
    ChannelAdapter,
    ChannelError,
    ExternalOffer,
    FetchedOrders,
    ItemResult,
    ListingExtra,
    ShownItem,
    ShownPage,
    TransportError,
)
from odoo.addons.stock_multichannel.lib.messages import translatable

from .api import translate
from .api.client import CHANGE_STAMP as GMT
from .api.client import total_pages
from .const import SAFE_PORTS, SHOP_STATUS, TOPICS, WEBHOOK_NAME

_lt = translatable(__name__)
_logger = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=2)
#: an order's stamp further ahead of Odoo's clock than this is not taken at all
STAMP_AHEAD = timedelta(hours=1)
UNSTOCKED_TYPES = ("external", "grouped")  # products WooCommerce never keeps a quantity for
FIRST_LOOK_BACK = timedelta(days=1)


@dataclass
class ShopListingExtra(ListingExtra):
    """A shop listing: a variation may keep its stock on its parent product."""

    stock_on_parent: bool = False


@dataclass(frozen=True)
class ShopPricing:
    """How the shop prices: its currency, whether the prices entered in it are what
    customers pay, tax included, and whether it charges tax at all."""

    currency: str
    with_tax: bool
    charges_tax: bool = True


@dataclass
class ShopShownItem(ShownItem):
    """What the shop shows of a variation: whether it keeps its stock on its parent now
    (the shop's admin may switch it either way)."""

    stock_on_parent: bool = False


@dataclass
class ShopOffer(ExternalOffer):
    """A shop product or variation; a variation may keep its stock on its parent product."""

    stock_on_parent: bool = False


def _shown(record, variation=False):
    manage = record.get("manage_stock")
    quantity = record.get("stock_quantity") if manage in (True, "parent") else None
    if record.get("type") == "variable":
        price = None  # its variations' lowest: each variation is compared on its own
    elif "price" in record:
        price = record["price"]  # what the shop charges now: its sale price only within its dates
    else:
        price = record.get("sale_price") or record.get("regular_price")
    try:
        price = float(price) if price not in (None, "") else None
    except (TypeError, ValueError):
        price = None
    shown = {
        "external_id": str(record.get("id")),
        "quantity": None if quantity is None else int(quantity),
        "price": price,
        "unlimited": translate.allows_backorders(record),
    }
    if variation:
        return ShopShownItem(**shown, stock_on_parent=translate.stock_on_parent(record))
    return ShownItem(**shown)


def _ours(hook, delivery_url):
    name = str(hook.get("name") or "")
    legacy = name in (f"Odoo {topic}" for topic in TOPICS)  # the names of the first version
    return name.startswith(WEBHOOK_NAME) or legacy or bool(delivery_url and hook.get("delivery_url") == delivery_url)


def delivery_url_problem(url, resolve=socket.gethostbyname):
    """Why WordPress would refuse to deliver to ``url`` (its safe HTTP request), or ''.

    WordPress only delivers to public hosts on ports 80, 443 and 8080 — Odoo's own 8069
    or a private address is refused at every delivery, while the webhook is still created.
    """
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _lt("%(url)r is not an http(s) address", url=url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return _lt("%(url)r has an invalid port", url=url)
    if port not in SAFE_PORTS:
        return _lt(
            "the shop's WordPress only delivers webhooks to ports 80, 443 or 8080, not %(port)s: publish Odoo "
            "on 443 behind a reverse proxy and set web.base.url to that https address",
            port=port,
        )
    try:
        address = ipaddress.ip_address(resolve(parts.hostname))
    except (OSError, ValueError, UnicodeError):
        return _lt("the host %(host)s of the webhook URL cannot be resolved", host=parts.hostname)
    if address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified:
        return _lt(
            "%(host)s is a loopback or private address (%(address)s): the shop's WordPress refuses to "
            "deliver there; Odoo must be reachable from the shop on a public address",
            host=parts.hostname,
            address=str(address),
        )
    if parts.scheme != "https":
        return _lt("the webhook URL is plain http: the order data would cross the Internet unencrypted; use https")
    return ""


class WooCommerceAdapter(ChannelAdapter):
    batch_size = 100
    # WooCommerce lowers its own stock on orders: import them first, or a push of an
    # older quantity would undo the decrement and oversell
    lowers_stock_on_order = True

    def __init__(self, channel):
        super().__init__(channel)
        self.client = channel._woo_client()
        self._pricing = None
        self._pricing_refused = False

    @property
    def late_arrival_seconds(self):
        # PHP goes on with a batch after the client gave up on it: for about as long again
        return 2 * self.client.timeout

    # ------------------------------------------------------------------
    # products
    # ------------------------------------------------------------------
    def push_stock(self, updates):
        groups = defaultdict(dict)  # batch path -> {item id: (item, [updates])}
        for update in updates:
            parent = update.extra.parent_id
            if parent and isinstance(update.extra, ShopListingExtra) and update.extra.stock_on_parent:
                path, item_id = "products", int(parent)
            elif parent:
                path, item_id = f"products/{int(parent)}/variations", int(update.external_id)
            else:
                path, item_id = "products", int(update.external_id)
            item, owners = groups[path].get(item_id, (None, []))
            # several variations sharing the parent's stock: never show more than the scarcest
            quantity = update.quantity if item is None else min(item["stock_quantity"], update.quantity)
            groups[path][item_id] = (translate.stock_item(item_id, quantity), owners + [update])
        return self._send(groups)

    def push_prices(self, updates):
        """Prices in the shop's own terms: its currency (a pricelist in another one is
        refused, nothing sent), with tax or without as the shop's prices are entered."""
        try:
            pricing = self.pricing()
        except TransportError as error:
            # nothing of the batch was sent: no late arrival to wait for, no listing to blame
            message = error.args[0] if error.args else str(error)
            raise TransportError(message, retry_after=error.retry_after, maybe_applied=False) from None
        for update in updates:
            self._check_currency(pricing, update.currency)
        groups = defaultdict(dict)
        for update in updates:
            parent = update.extra.parent_id
            path = f"products/{int(parent)}/variations" if parent else "products"
            item_id = int(update.external_id)
            price = self._shop_price(update.price, update.extra, pricing)
            regular = self._shop_price(update.regular_price, update.extra, pricing)
            places = self._price_places(update.extra, pricing)
            groups[path][item_id] = (translate.price_item(item_id, price, regular, places), [update])
        return self._send(groups)

    def pricing(self):
        """The shop's :class:`ShopPricing`, read once per adapter (a push, an audit, a test).

        Needs three small reads of the shop's settings (two when it charges no tax)."""
        if self._pricing is None:
            currency = str(self.client.setting("general", "woocommerce_currency") or "")
            taxes_on = self.client.setting("general", "woocommerce_calc_taxes") == "yes"
            # a shop that charges no tax sells at the price it shows: that price holds the tax
            with_tax = not taxes_on or self.client.setting("tax", "woocommerce_prices_include_tax") == "yes"
            self._pricing = ShopPricing(currency, with_tax, charges_tax=taxes_on)
        return self._pricing

    @staticmethod
    def _check_currency(pricing, currency):
        if currency != pricing.currency:
            raise ChannelError(
                _lt(
                    "the shop sells in %(shop)s and the channel's pricelist is in %(odoo)s: no price is sent "
                    "until the channel has a pricelist in %(shop)s.",
                    shop=pricing.currency or "?",
                    odoo=currency,
                )
            )

    @staticmethod
    def _shop_price(price, extra, pricing):
        tax = extra.tax
        if not tax:
            return price
        return tax.with_tax(price) if pricing.with_tax else tax.without_tax(price)

    @staticmethod
    def _price_places(extra, pricing):
        """A net price Odoo worked out from one with tax is sent with 4 decimals: the shop adds
        the tax back to it, and from 2 it would show a cent off (9.99 → 8.39 → 9.98; from 8.3950,
        9.99), as WooCommerce advises for prices entered without tax."""
        return 4 if extra.tax and extra.tax.price_includes_tax and not pricing.with_tax else 2

    def price_as_shown(self, price, extra):
        pricing = self._pricing
        if pricing is None or pricing.currency != self.channel.pricelist_id.currency_id.name:
            return None  # the shop's terms unknown (see read_shown), or no price sent: not compared
        return float(translate.money(self._shop_price(price, extra, pricing), self._price_places(extra, pricing)))

    def _send(self, groups):
        results = []
        for path, entries in groups.items():
            answers = {}
            for answer in self.client.batch_update(path, [i for i, _o in entries.values()]):
                if isinstance(answer, dict):
                    answers[answer.get("id")] = answer
            parent = int(path.split("/")[1]) if path.endswith("/variations") else None
            for item_id, (_item, owners) in entries.items():
                answer = answers.get(item_id)
                error = translate.item_error(answer)
                if not error and parent and isinstance(answer, dict) and answer.get("parent_id") not in (None, parent):
                    error = f"the shop reports this variation under product {answer.get('parent_id')}, not {parent}"
                # no answer for the item: whether the shop saved it is unknown
                results += [
                    ItemResult(u.key, not error, error, answer=error or "saved", refused=isinstance(answer, dict))
                    for u in owners
                ]
        return results

    def fetch_offers(self):
        offers = []
        for product in self.client.get_all("products"):
            if product.get("type") == "variable":
                for variation in self.client.get_all(f"products/{product['id']}/variations"):
                    # always the parent the shop reports: a variation sent under another
                    # parent id is moved there by the shop, not refused
                    parent = variation.get("parent_id") or product["id"]
                    # a variation without a SKU of its own shows its parent's: no SKU to match it by
                    sku = variation.get("sku") or ""
                    if sku == (product.get("sku") or ""):
                        sku = ""
                    offers.append(
                        ShopOffer(
                            external_id=str(variation["id"]),
                            sku=sku,
                            name=f"{product.get('name')} / {variation.get('sku') or variation['id']}",
                            parent_id=str(parent),
                            stock_on_parent=translate.stock_on_parent(variation),
                        )
                    )
            else:
                offers.append(
                    ExternalOffer(
                        external_id=str(product["id"]), sku=product.get("sku") or "", name=product.get("name") or ""
                    )
                )
        return offers

    def read_shown(self, cursor=None, external_ids=None):
        """What the shop shows now (for the drift audit): one page of products with
        their variations; the cursor is the next page number."""
        wanted = {str(i) for i in external_ids} if external_ids is not None else None
        # the terms of the prices read, to compare them with Odoo's; unread: quantities only
        self._readable_pricing("%s: prices not compared, the shop's settings unread: %s")
        page, items = int(cursor or 1), []
        while True:
            products, headers = self.client.request(
                "GET", "products", {"per_page": 100, "page": page, "orderby": "id", "order": "asc"}
            )
            for product in products or []:
                if product.get("type") in UNSTOCKED_TYPES:
                    continue  # the shop keeps no stock for them, whatever is sent: no drift to fix
                if product.get("type") == "variable":
                    variations = self.client.get_all(f"products/{product['id']}/variations")
                    items += [_shown(v, variation=True) for v in variations]
                items.append(_shown(product))
            pages = total_pages(headers)
            following = str(page + 1) if products and page < pages else None
            if wanted is None:
                return ShownPage(items, following)
            if not following:
                return ShownPage([item for item in items if item.external_id in wanted])
            page += 1

    # ------------------------------------------------------------------
    # orders
    # ------------------------------------------------------------------
    def fetch_orders(self, watermark):
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        last = _stamp(watermark)
        since = last - OVERLAP if last else now - FIRST_LOOK_BACK
        orders = self.client.get_changed("orders", since.strftime(GMT))
        # never past now: an order stamped in the future (a clock set back, a plugin's time
        # zone) would make the polls skip the orders changed meanwhile; one far ahead is not
        # taken at all. A shop whose clock runs ahead has its last minutes read again (each
        # order imported once), never skipped
        latest = now + STAMP_AHEAD
        stamps = [stamp for stamp in map(_stamp, map(translate.modified, orders)) if stamp and stamp <= latest]
        newest = max(stamps, default=last)
        newest = min(newest, now).strftime(GMT) if newest else None
        # checkout drafts are not orders yet: never handed to the core (never held, never
        # imported); when the customer places one, it comes back with its real status
        real = [order for order in orders if not translate.is_draft(order)]
        return FetchedOrders([self.normalized_order(order) for order in real], watermark=newest)

    def read_order(self, external_id):
        """The shop's order as it is now, or None when it is gone (deleted, or a draft)."""
        try:
            order_id = int(external_id)
        except (TypeError, ValueError):
            return None
        order = self.client.get_one(f"orders/{order_id}")
        if not isinstance(order, dict) or translate.is_draft(order):
            return None
        return order

    def translate_order(self, order):
        return translate.normalize_order(order, self._charges_tax())

    def _charges_tax(self):
        """Whether the shop charges tax (its *Enable taxes*): read with its prices' terms,
        once per adapter; taken as charging when its settings cannot be read (each order
        then says its own rates)."""
        pricing = self._readable_pricing("%s: the shop's tax setting unread: %s")
        return pricing.charges_tax if pricing else True

    def _readable_pricing(self, unread_message):
        """:meth:`pricing`, or None when the shop's settings cannot be read (a security
        plugin, a key's rights, a failure), tried once per adapter; ``unread_message``
        (channel, error) says what goes without them."""
        if self._pricing is None and not self._pricing_refused:
            try:
                self.pricing()
            except (ChannelError, TransportError) as error:
                _logger.info(unread_message, self.channel.name, error)
                self._pricing_refused = True
        return self._pricing

    def read_notified_order(self, order_ref, body=None):
        """A signed webhook carries the order itself: translated as delivered (a body
        that cannot be read is stored for a human all the same; the poll brings the
        order as the shop has it)."""
        try:
            order = json.loads(body)
        except (TypeError, ValueError):
            order = body
        return self.normalized_order(order)

    def send_order_status(self, external_id, status, payload):
        target = SHOP_STATUS.get(status)
        if not target:
            raise ChannelError(_lt("unknown status %(status)r", status=status))
        order, _headers = self.client.request("GET", f"orders/{int(external_id)}")
        current = order.get("status")
        if current == target:
            return _lt("already %(status)s on the shop", status=target)
        if target == "completed" and current in ("cancelled", "refunded", "failed"):
            raise ChannelError(_lt("the order is %(status)s on the shop and cannot be completed", status=current))
        self.client.request("PUT", f"orders/{int(external_id)}", payload={"status": target})
        return _lt("shop order %(order)s: %(old)s -> %(new)s", order=external_id, old=current, new=target)

    def test_connection(self):
        """The keys, their read rights and the transport, as the shop checks them."""
        status, _headers = self.client.request("GET", "system_status")
        version = (status or {}).get("environment", {}).get("version", "?")
        self.client.request("GET", "orders", {"per_page": 1})  # the key may read orders
        pricing = self.pricing()  # the key may read the shop's terms of its prices
        if self.channel.pricelist_id:
            self._check_currency(pricing, self.channel.pricelist_id.currency_id.name)
        how = {
            "basic": _lt("HTTPS with Basic auth"),
            "query": _lt("keys in the query string"),
            "oauth": _lt("OAuth 1.0a signatures over plain http"),
        }[self.client.auth_mode]
        return _lt(
            "Connected to the shop (WooCommerce %(version)s, %(how)s). Prices in %(currency)s, %(terms)s.",
            version=version,
            how=how,
            currency=pricing.currency,
            terms=_lt("sent with tax") if pricing.with_tax else _lt("sent without tax"),
        )

    # ------------------------------------------------------------------
    # webhooks
    # ------------------------------------------------------------------
    def list_webhooks(self, delivery_url=None):
        """Our webhooks on the shop: named by us, or delivering to ``delivery_url``."""
        hooks = self.client.get_all("webhooks")
        return [h for h in hooks if isinstance(h, dict) and _ours(h, delivery_url)]

    def register_webhooks(self, delivery_url, secret):
        """Replace our webhooks by one per topic: idempotent, the old ones deleted first.

        Returns (webhook ids, notes on what the shop answered)."""
        for hook in self.list_webhooks(delivery_url):
            self.client.request("DELETE", f"webhooks/{int(hook['id'])}", params={"force": "true"})
        ids = []
        for topic in TOPICS:
            hook, _headers = self.client.request(
                "POST",
                "webhooks",
                payload={
                    "name": f"{WEBHOOK_NAME} {topic}",
                    "topic": topic,
                    "delivery_url": delivery_url,
                    "secret": secret,
                    "status": "active",
                },
            )
            ids.append(str(hook.get("id")))
        return ids

    def webhook_status(self, delivery_url=None, reactivate=True):
        """{topic: status} of our webhooks on the shop; disabled or paused ones are set
        active again when ``reactivate`` (the shop disables a webhook after more than
        5 failed deliveries and never retries)."""
        statuses = {}
        for hook in self.list_webhooks(delivery_url):
            status = hook.get("status") or "?"
            if reactivate and status in ("disabled", "paused"):
                hook, _headers = self.client.request("PUT", f"webhooks/{int(hook['id'])}", payload={"status": "active"})
                status = f"reactivated (was {status})" if hook.get("status") == "active" else hook.get("status")
            statuses.setdefault(hook.get("topic") or "?", status)
        return statuses


def _stamp(text):
    """A GMT stamp of the shop's (or the watermark kept from one) as a datetime; None when
    it is none (an empty or unreadable one is never taken as the newest)."""
    try:
        return datetime.strptime(text, GMT) if text else None
    except (TypeError, ValueError):
        return None
