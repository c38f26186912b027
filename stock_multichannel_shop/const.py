"""Values the shop connector's adapter, models and webhook controller share."""

from datetime import timedelta

SHOP_STATUS = {"shipped": "completed", "cancelled": "cancelled"}
TOPICS = ("order.created", "order.updated")
WEBHOOK_NAME = "Odoo multichannel"  # our webhooks' names start with it: registration replaces them
SAFE_PORTS = (80, 443, 8080)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: an open channel order not seen for this long is re-read from the shop
RECHECK_AFTER = timedelta(hours=1)
RECHECK_BATCH = 50
PING_PARAM = "stock_multichannel_shop.woo_ping.%s"
#: while a registration runs: the unsigned pings it makes the shop send are noted until then
PING_WINDOW_PARAM = "stock_multichannel_shop.woo_ping_window.%s"
PING_WINDOW = timedelta(minutes=5)
#: an order is a few kB; a body above this is refused before any signature is computed
MAX_BODY = 1024 * 1024
