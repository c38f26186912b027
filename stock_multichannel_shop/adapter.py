"""The WooCommerce adapter: the core's contract translated to the wc/v3 REST API."""

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from odoo.addons.stock_multichannel.lib.adapter import (
    ChannelAdapter,
    ChannelError,
    ExternalOffer,
    FetchedOrders,
    ItemResult,
    register_adapter,
)

from .api import translate

GMT = "%Y-%m-%dT%H:%M:%S"
OVERLAP = timedelta(minutes=2)
FIRST_LOOK_BACK = timedelta(days=1)
SHOP_STATUS = {"shipped": "completed", "cancelled": "cancelled"}


@register_adapter("woocommerce")
class WooCommerceAdapter(ChannelAdapter):
    batch_size = 100
    # WooCommerce lowers its own stock on orders: import them first, or a push of an
    # older quantity would undo the decrement and oversell
    import_orders_before_stock_push = True

    def __init__(self, channel):
        super().__init__(channel)
        self.client = channel._woo_client()

    # ------------------------------------------------------------------
    # products
    # ------------------------------------------------------------------
    def push_stock(self, updates):
        groups = defaultdict(dict)  # batch path -> {item id: (item, [updates])}
        for update in updates:
            parent = update.extra.get("parent_id")
            if parent and update.extra.get("stock_on_parent"):
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
        groups = defaultdict(dict)
        for update in updates:
            parent = update.extra.get("parent_id")
            path = f"products/{int(parent)}/variations" if parent else "products"
            item_id = int(update.external_id)
            groups[path][item_id] = (translate.price_item(item_id, update.price, update.regular_price), [update])
        return self._send(groups)

    def _send(self, groups):
        results = []
        for path, entries in groups.items():
            answers = {a.get("id"): a for a in self.client.batch_update(path, [i for i, _o in entries.values()])}
            for item_id, (_item, owners) in entries.items():
                error = translate.item_error(answers.get(item_id))
                results += [ItemResult(u.key, not error, error, answer=error or "saved") for u in owners]
        return results

    def fetch_offers(self):
        offers = []
        for product in self.client.get_all("products"):
            if product.get("type") == "variable":
                for variation in self.client.get_all(f"products/{product['id']}/variations"):
                    offers.append(
                        ExternalOffer(
                            external_id=str(variation["id"]),
                            sku=variation.get("sku") or "",
                            name=f"{product.get('name')} / {variation.get('sku') or variation['id']}",
                            parent_id=str(product["id"]),
                            stock_on_parent=variation.get("manage_stock") == "parent",
                        )
                    )
            else:
                offers.append(
                    ExternalOffer(
                        external_id=str(product["id"]), sku=product.get("sku") or "", name=product.get("name") or ""
                    )
                )
        return offers

    # ------------------------------------------------------------------
    # orders
    # ------------------------------------------------------------------
    def fetch_orders(self, watermark):
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        since = datetime.strptime(watermark, GMT) - OVERLAP if watermark else now - FIRST_LOOK_BACK
        orders = self.client.get_all(
            "orders",
            {"modified_after": since.strftime(GMT), "dates_are_gmt": "true", "orderby": "modified", "order": "asc"},
        )
        newest = max((o.get("date_modified_gmt") or "" for o in orders), default="") or watermark
        return FetchedOrders([self.normalized_order(order) for order in orders], watermark=newest)

    def translate_order(self, order):
        return translate.normalize_order(order)

    def send_order_status(self, external_id, status, payload):
        target = SHOP_STATUS.get(status)
        if not target:
            raise ChannelError(f"unknown status {status!r}")
        order, _headers = self.client.request("GET", f"orders/{int(external_id)}")
        current = order.get("status")
        if current == target:
            return f"already {target} on the shop"
        if target == "completed" and current in ("cancelled", "refunded", "failed"):
            raise ChannelError(f"the order is {current} on the shop and cannot be completed")
        self.client.request("PUT", f"orders/{int(external_id)}", payload={"status": target})
        return f"shop order {external_id}: {current} -> {target}"

    def test_connection(self):
        status, _headers = self.client.request("GET", "system_status")
        version = (status or {}).get("environment", {}).get("version", "?")
        return f"Connected to the shop (WooCommerce {version})."

    def register_webhooks(self, delivery_url, secret):
        ids = []
        for topic in ("order.created", "order.updated"):
            hook, _headers = self.client.request(
                "POST",
                "webhooks",
                payload={"name": f"Odoo {topic}", "topic": topic, "delivery_url": delivery_url, "secret": secret},
            )
            ids.append(str(hook.get("id")))
        return ids
