"""Values the core's models, crons and screens share."""

import zlib

# channel schedules
SCHEDULES = [
    ("off", "Off"),
    ("realtime", "Real time"),
    ("5min", "Every 5 minutes"),
    ("hourly", "Hourly"),
    ("custom", "Every N minutes"),
]
SCHEDULE_MINUTES = {"realtime": 1, "5min": 5, "hourly": 60}
SCHEDULED_KINDS = ("stock", "price", "order")
# the field holding when each scheduled kind last ran
LAST_RUN_FIELDS = {"stock": "stock_pushed_at", "price": "price_pushed_at", "order": "order_imported_at"}
CRONS = {
    "stock": "stock_multichannel.ir_cron_push_stock",
    "price": "stock_multichannel.ir_cron_push_price",
    "order": "stock_multichannel.ir_cron_import_orders",
    "audit": "stock_multichannel.ir_cron_audit",
    "status": "stock_multichannel.ir_cron_send_order_statuses",
    "inbox": "stock_multichannel.ir_cron_process_inbox",
    "dated_price": "stock_multichannel.ir_cron_dated_prices",
}
# advisory lock class of a cron's wake-ups (its second key is the cron's id): not a channel lock's
CRON_WAKEUP_LOCK = zlib.crc32(b"multichannel.cron_wakeup") & 0x7FFFFFFF
# each cron's sequence of takes (its id appended), and how long a take waits for the lock
WAKEUP_SERIAL_PREFIX = "multichannel_cron_wakeup_serial_"
WAKEUP_TAKE_WAIT_MS = 500
# a wake-up for later is notified this long after it is due
NOTIFY_MARGIN_SECONDS = 0.05
MAX_BACK_OFF_SECONDS = 15 * 60
# what a cron run may spend before it hands over to its next run (Odoo kills it at 120 s)
CRON_BUDGET_SECONDS = 60
# channel settings that move what its listings show: changing one looks at them again
STOCK_POLICY_FIELDS = frozenset({"stock_held_back", "stock_percent", "stock_max", "warehouse_ids", "location_ids"})
PRICE_POLICY_FIELDS = frozenset({"pricelist_id"})
# a cron finding a channel's push already running comes back this much later
BUSY_RETRY_SECONDS = 5
# listings read, compared and sent per round of the push engine
PUSH_CHUNK_SIZE = 1000
# a push's results are committed this often: each commit empties Odoo's cache, which then
# reads the listings and the channel again (a batch's worth of work when the channel is fast)
PUSH_COMMIT_SECONDS = 0.5
# the cause of a listing pushed again once a call that got no answer can no longer arrive
UNANSWERED_CALL_CAUSE = "unanswered call"
# after a call this slow the push commits at once: its next call would hold the listings it
# wrote meanwhile (waited for by the other kind's push, a user's edit) as long
SLOW_CALL_SECONDS = 0.1
# an order import commits what it imported this often, not after each order: a commit
# empties Odoo's cache, which the next order then reads again (its channel, pricelist,
# company, taxes, rules); an order whose calls to the channel took SLOW_CALL_SECONDS is
# committed at once (a real marketplace's: order by order), so the next order's calls
# never hold its rows
ORDER_COMMIT_SECONDS = 0.5
# what other transactions write while an import goes on, forgotten between two orders of
# one commit (the fields named, or all): stock and reservations, the products' quantities,
# orders and listings; what the import only reads (the channel, pricelist, taxes, rules,
# products' names and routes, contacts) stays
STOCK_QUANTITY_FIELDS = ("qty_available", "virtual_available", "free_qty", "incoming_qty", "outgoing_qty")
ORDER_SHARED_FIELDS = {
    "stock.quant": None,
    "stock.move": None,
    "stock.move.line": None,
    "stock.picking": None,
    "product.product": STOCK_QUANTITY_FIELDS,
    "product.template": STOCK_QUANTITY_FIELDS,
    "sale.order": None,
    "sale.order.line": None,
    "multichannel.order": None,
    "multichannel.product.binding": None,
}

# listings
# a listing the channel refused is sent again by the scheduled pushes once its value moves,
# or this long after the refusal (a campaign ended, a product mended on the channel); each
# try of one that is still refused costs calls (eMAG's campaign refusal fails its whole call)
REFUSED_RETRY_SECONDS = 3600
REFUSED_VALUE = {"stock": "refused_qty", "price": "refused_price"}
OTHER_KIND = {"stock": "price", "price": "stock"}
LISTING_STATES = [("pending", "Pending"), ("synced", "Synced"), ("error", "Error")]
# waiting for a push: marked so by the engine, or a change queued since (its schedule not come yet)
PENDING_DOMAIN = ["|", "|", ("stock_pending", "=", True), ("price_pending", "=", True), ("queued", "=", True)]
# what the push engine records of the channel's side: written by the engine only, never by
# a user (a faked pushed quantity would make the engine believe the channel shows it)
ENGINE_FIELDS = frozenset(
    {
        "stock_pending",
        "price_pending",
        "stock_cause",
        "price_cause",
        "stock_requested_at",
        "price_requested_at",
        "pushed_qty",
        "stock_pushed_at",
        "pushed_price",
        "pushed_regular_price",
        "price_pushed_at",
        "state",
        "last_error",
        "error_kind",
        "stock_error",
        "price_error",
        "refused_qty",
        "refused_price",
        "refused_regular_price",
        "stock_retry_at",
        "price_retry_at",
        "stock_moved_by_channel",
        "drift_found_at",
        "drift_fixed",
        "address_version",
    }
)

# channel orders
ORDER_STATES = [
    ("received", "Received"),
    ("pending", "Held (not payable yet)"),
    ("error", "To Fix"),
    ("done", "Imported"),
    ("skipped", "Not Imported"),
    ("cancelled", "Cancelled by Channel"),
]
# an order the channel sent without an id is stored under this prefix and a digest of its content
UNIDENTIFIED_PREFIX = "no-id:"
ORDER_OPEN_STATES = ("received", "pending", "error")
# held orders looked at after one import run (the rest at the next runs): a first run after
# an upgrade never posts on thousands of orders in one transaction
LONG_HOLDS_PER_RUN = 200
# what a human must look at: an import that failed, or an imported order the channel sent again different
# (and an order held too long, or held for a reason the connector could not read)
TO_FIX_DOMAIN = ["|", "|", ("state", "=", "error"), ("content_changed", "=", True), ("hold_attention", "=", True)]
ORDER_STATUSES = [("shipped", "Shipped"), ("cancelled", "Cancelled")]
