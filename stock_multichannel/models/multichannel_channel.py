import logging
import time
import zlib
from collections import defaultdict
from datetime import timedelta
from functools import partial

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tools import SQL, float_compare, float_round, split_every

from ..lib import shared_rate_limit
from ..lib.adapter import (
    TRANSLATION_ERRORS,
    ChannelError,
    PriceUpdate,
    StockUpdate,
    TransportError,
)
from ..lib.availability import apply_policy
from ..lib.cron_wakeup import notify_cron_workers
from ..lib.orders import import_preview
from ..lib.retry import call_with_retry
from ..lib.transactions import CONCURRENT_ERRORS, read_committed
from .multichannel_order import TO_FIX_DOMAIN
from .multichannel_product_binding import PENDING_DOMAIN

_logger = logging.getLogger(__name__)

SCHEDULES = [
    ("off", "Off"),
    ("realtime", "Real time"),
    ("5min", "Every 5 minutes"),
    ("hourly", "Hourly"),
    ("custom", "Every N minutes"),
]
SCHEDULE_MINUTES = {"realtime": 1, "5min": 5, "hourly": 60}
SYNC_KINDS = ("stock", "price", "order", "status")
CRONS = {
    "stock": "stock_multichannel.ir_cron_push_stock",
    "price": "stock_multichannel.ir_cron_push_price",
    "order": "stock_multichannel.ir_cron_import_orders",
    "audit": "stock_multichannel.ir_cron_audit",
    "status": "stock_multichannel.ir_cron_send_order_statuses",
}
MAX_BACK_OFF_SECONDS = 15 * 60
# what a cron run may spend before it hands over to its next run (Odoo kills it at 120 s)
CRON_BUDGET_SECONDS = 60


class MultichannelChannel(models.Model):
    _name = "multichannel.channel"
    _description = "Sales Channel"
    _inherit = ["mail.thread"]
    _order = "sequence, name"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    channel_type = fields.Selection(
        [("manual", "Manual (no connector)")],
        required=True,
        default="manual",
        tracking=True,
        help="Which connector talks to this channel. Connector addons add their types.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        help="Gets the activities for oversold orders and sync problems.",
    )

    # stock sources and availability policy
    warehouse_ids = fields.Many2many(
        "stock.warehouse",
        string="Warehouses",
        check_company=True,
        help="Free stock of these warehouses is offered on the channel.",
    )
    location_ids = fields.Many2many(
        "stock.location",
        string="Extra Locations",
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="Internal locations (with their children) offered besides the warehouses.",
    )
    stock_held_back = fields.Integer(
        "Units Held Back", help="Kept out of this channel on every product (a safety buffer)."
    )
    stock_percent = fields.Float("Allocated %", default=100.0, help="Share of the free stock offered on this channel.")
    stock_max = fields.Integer("Maximum Shown", help="Never show more than this; 0 means no maximum.")

    # prices and orders
    pricelist_id = fields.Many2one("product.pricelist", required=True, check_company=True)
    currency_id = fields.Many2one(related="pricelist_id.currency_id")
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        help="Every order of this channel belongs to this team (created when left empty).",
    )
    order_auto_confirm = fields.Boolean("Confirm Orders", default=True)
    order_import_since = fields.Datetime(
        "Import Orders Placed Since",
        default=fields.Datetime.now,
        copy=False,
        help="Orders placed on the channel before this moment are its history: kept for reference, never "
        "created as new sales and never counted against stock. Set when the channel is connected.",
    )
    prices_include_tax = fields.Boolean(
        "Channel Prices Include Tax",
        help="Used when an order does not say whether its prices include tax.",
    )
    customer_country_id = fields.Many2one(
        "res.country",
        "Default Customer Country",
        help="Country given to customers whose address comes without one.",
    )
    customer_lang = fields.Selection("_lang_selection", "Customer Language", help="Language given to new customers.")
    shipping_product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        default=lambda self: self.env.ref("stock_multichannel.product_channel_shipping", False),
    )
    discount_product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        default=lambda self: self.env.ref("stock_multichannel.product_channel_discount", False),
    )
    total_tolerance = fields.Float(
        default=0.01,
        help="An imported order whose total differs from the channel's by more is flagged.",
    )

    # schedules
    stock_schedule = fields.Selection(SCHEDULES, "Stock Push", default="realtime", required=True)
    stock_interval = fields.Integer("Stock Every (min)", default=15)
    price_schedule = fields.Selection(SCHEDULES, "Price Push", default="hourly", required=True)
    price_interval = fields.Integer("Prices Every (min)", default=60)
    order_schedule = fields.Selection(SCHEDULES, "Order Import", default="5min", required=True)
    order_interval = fields.Integer("Orders Every (min)", default=5)

    # transport behaviour
    retry_attempts = fields.Integer(default=4, help="Tries of one call on a temporary fault.")
    retry_delay = fields.Float("First Retry After (s)", default=2.0, help="Doubled on every further try.")
    ledger_retention_days = fields.Integer("Keep Ledger (days)", default=90)

    # sync state
    stock_retry_at = fields.Datetime("Stock Retry After", readonly=True, copy=False)
    price_retry_at = fields.Datetime("Prices Retry After", readonly=True, copy=False)
    order_retry_at = fields.Datetime("Orders Retry After", readonly=True, copy=False)
    stock_failures = fields.Integer(readonly=True, copy=False)
    price_failures = fields.Integer(readonly=True, copy=False)
    order_failures = fields.Integer(readonly=True, copy=False)
    stock_pushed_at = fields.Datetime("Last Stock Push", readonly=True)
    price_pushed_at = fields.Datetime("Last Price Push", readonly=True)
    order_imported_at = fields.Datetime("Last Order Import", readonly=True)
    order_watermark = fields.Char(readonly=True, copy=False, help="Where the next order import resumes on the channel.")
    last_error = fields.Text(readonly=True, copy=False)
    last_error_at = fields.Datetime(readonly=True, copy=False)

    # counters
    binding_ids = fields.One2many("multichannel.product.binding", "channel_id")
    listing_count = fields.Integer(compute="_compute_counters")
    pending_count = fields.Integer("Pending Listings", compute="_compute_counters")
    error_count = fields.Integer("Listings in Error", compute="_compute_counters")
    order_count = fields.Integer("Orders", compute="_compute_counters")
    order_error_count = fields.Integer("Orders to Fix", compute="_compute_counters")
    oversell_count = fields.Integer("Oversold Orders", compute="_compute_counters")
    orders_today = fields.Integer(compute="_compute_dashboard")
    last_push_ok_at = fields.Datetime("Last Accepted Push", compute="_compute_dashboard")
    latency_p50_ms = fields.Integer(
        "Push Latency p50 (ms)",
        compute="_compute_dashboard",
        help="Stock change to channel acceptance, median over the last 24 hours.",
    )
    latency_p95_ms = fields.Integer("Push Latency p95 (ms)", compute="_compute_dashboard")
    held_order_count = fields.Integer(
        "Orders Not Imported Yet",
        compute="_compute_counters",
        help="Orders read from the channel that are not sale orders yet (not paid, or waiting for the import): "
        "their units are held back from every channel.",
    )
    next_stock_run = fields.Datetime("Next Stock Push", compute="_compute_next_runs")
    next_price_run = fields.Datetime("Next Price Push", compute="_compute_next_runs")
    next_order_run = fields.Datetime("Next Order Import", compute="_compute_next_runs")
    schedule_warning = fields.Text(compute="_compute_next_runs")
    latency_text = fields.Char("Stock Updates Reach the Channel", compute="_compute_latency_text")
    is_configured = fields.Boolean(
        "Ready to Connect",
        compute="_compute_is_configured",
        help="Saved, with a connector installed for its type and what it needs to connect filled in.",
    )

    _sql_constraints = [
        (
            "stock_percent_range",
            "CHECK(stock_percent >= 0 AND stock_percent <= 100)",
            "The allocated percentage lies between 0 and 100.",
        ),
        ("stock_held_back_positive", "CHECK(stock_held_back >= 0)", "Units held back cannot be negative."),
        ("stock_max_positive", "CHECK(stock_max >= 0)", "The maximum shown cannot be negative."),
    ]

    def init(self):
        self.env.cr.execute(shared_rate_limit.TABLE_SQL)
        # when each cron's run last took its wake-ups (see _consume_wakeups)
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_cron_wakeup (
                cron_id integer PRIMARY KEY REFERENCES ir_cron(id) ON DELETE CASCADE,
                taken_at timestamp NOT NULL
            )
            """
        )

    def _shared_rate_limit(self, account, limit, window):
        """A rate limit of ``limit`` requests per ``window`` seconds for a channel account,
        kept in PostgreSQL: it holds across worker processes and servers."""
        return shared_rate_limit.SharedAnswerWindow(self.env.registry.cursor, account, limit, window)

    @api.model
    def _lang_selection(self):
        return self.env["res.lang"].get_installed()

    @api.constrains(
        "stock_schedule", "stock_interval", "price_schedule", "price_interval", "order_schedule", "order_interval"
    )
    def _check_intervals(self):
        for channel in self:
            for kind in ("stock", "price", "order"):
                if channel[f"{kind}_schedule"] == "custom" and channel[f"{kind}_interval"] < 1:
                    raise ValidationError(self.env._("An interval is at least one minute."))

    @api.constrains("warehouse_ids", "location_ids")
    def _check_sources(self):
        for channel in self:
            if not channel.warehouse_ids and not channel.location_ids:
                raise ValidationError(
                    self.env._("Channel %s needs at least one warehouse or location to sell from.", channel.name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if not vals.get("warehouse_ids") and not vals.get("location_ids"):
                warehouse = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
                vals["warehouse_ids"] = [fields.Command.set(warehouse.ids)]
            if not vals.get("pricelist_id"):
                vals["pricelist_id"] = self._default_pricelist(company).id
            if not vals.get("team_id"):
                team = self.env["crm.team"].create({"name": vals.get("name"), "company_id": company.id})
                vals["team_id"] = team.id
        return super().create(vals_list)

    def _default_pricelist(self, company):
        pricelist = self.env["product.pricelist"].search(
            [("company_id", "in", (company.id, False)), ("currency_id", "=", company.currency_id.id)], limit=1
        )
        return pricelist or self.env["product.pricelist"].create(
            {
                "name": self.env._("Channels (%s)", company.currency_id.name),
                "currency_id": company.currency_id.id,
                "company_id": company.id,
            }
        )

    def _compute_counters(self):
        Binding = self.env["multichannel.product.binding"]
        Order = self.env["multichannel.order"]
        listings = dict(Binding._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        pending = dict(
            Binding._read_group([("channel_id", "in", self.ids), *PENDING_DOMAIN], ["channel_id"], ["__count"])
        )
        held = dict(
            Order._read_group(
                [("channel_id", "in", self.ids), ("state", "in", ("received", "pending"))], ["channel_id"], ["__count"]
            )
        )
        errors = dict(
            Binding._read_group([("channel_id", "in", self.ids), ("state", "=", "error")], ["channel_id"], ["__count"])
        )
        orders = dict(Order._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        order_errors = dict(
            Order._read_group([("channel_id", "in", self.ids), *TO_FIX_DOMAIN], ["channel_id"], ["__count"])
        )
        oversold = dict(
            # counts only, for channel people who may not read every sale order
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("multichannel_channel_id", "in", self.ids), ("multichannel_oversold", "=", True)],
                ["multichannel_channel_id"],
                ["__count"],
            )
        )
        for channel in self:
            channel.listing_count = listings.get(channel, 0)
            channel.pending_count = pending.get(channel, 0)
            channel.error_count = errors.get(channel, 0)
            channel.order_count = orders.get(channel, 0)
            channel.order_error_count = order_errors.get(channel, 0)
            channel.oversell_count = oversold.get(channel, 0)
            channel.held_order_count = held.get(channel, 0)

    @api.depends("channel_type")
    def _compute_is_configured(self):
        connected = self._connected_types()
        for channel in self:
            channel.is_configured = bool(
                isinstance(channel.id, int) and channel.channel_type in connected and channel.sudo()._connection_ready()
            )

    def _connection_ready(self):
        """Whether what the connector needs to reach the channel is filled in (connectors extend it)."""
        return True

    def _compute_latency_text(self):
        def seconds(milliseconds):
            return f"{milliseconds} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"

        for channel in self:
            if channel.latency_p95_ms > 0:
                channel.latency_text = self.env._(
                    "Stock changes shown on the channel in %(usual)s usually, %(slow)s at the slowest (1 in 20)",
                    usual=seconds(channel.latency_p50_ms),
                    slow=seconds(channel.latency_p95_ms),
                )
            else:
                channel.latency_text = self.env._("No stock change sent in the last 24 hours")

    @api.depends(
        "stock_schedule",
        "stock_interval",
        "price_schedule",
        "price_interval",
        "order_schedule",
        "order_interval",
        "stock_pushed_at",
        "price_pushed_at",
        "order_imported_at",
    )
    def _compute_next_runs(self):
        now = fields.Datetime.now()
        for channel in self:
            for kind in ("stock", "price", "order"):
                channel[f"next_{kind}_run"] = channel._next_run(kind, now)
            channel.schedule_warning = channel._schedule_warning()

    def _next_run(self, kind, now):
        """When the ``kind`` run is due next (False: off, or within seconds of a change in real time)."""
        mode = self[f"{kind}_schedule"]
        if mode in ("off", "realtime"):
            return self[f"{kind}_retry_at"] or False
        minutes = self[f"{kind}_interval"] if mode == "custom" else SCHEDULE_MINUTES[mode]
        last = self[{"stock": "stock_pushed_at", "price": "price_pushed_at", "order": "order_imported_at"}[kind]]
        due = max(now, last + timedelta(minutes=minutes)) if last else now
        return max(due, self[f"{kind}_retry_at"] or due)

    def _schedule_minutes(self, kind):
        """Minutes between two ``kind`` runs: 0 in real time, None when off."""
        mode = self[f"{kind}_schedule"]
        if mode == "off":
            return None
        if mode == "realtime":
            return 0
        return self[f"{kind}_interval"] if mode == "custom" else SCHEDULE_MINUTES[mode]

    def _schedule_warning(self):
        """What a slower schedule costs, in words: the window in which the same units sell twice."""
        minutes = {kind: self._schedule_minutes(kind) for kind in ("stock", "order")}
        warnings = []
        if minutes["stock"] is None:
            warnings.append(self.env._("Stock is never sent to this channel: it keeps showing what it last received."))
        elif minutes["stock"]:
            warnings.append(
                self.env._(
                    "Stock is sent every %(minutes)s minutes: after a sale elsewhere this channel may keep selling "
                    "units that are gone for up to %(minutes)s minutes. Real time closes that window.",
                    minutes=minutes["stock"],
                )
            )
        if minutes["order"] is None:
            warnings.append(
                self.env._("Orders are not imported from this channel: its sales never reach the other channels.")
            )
        elif minutes["order"]:
            warnings.append(
                self.env._(
                    "Orders are read every %(minutes)s minutes (sooner through the channel's webhooks or callbacks "
                    "when they are set up): what sells here may reach the other channels up to %(minutes)s minutes "
                    "later, and they may sell the same units meanwhile.",
                    minutes=minutes["order"],
                )
            )
        return "\n".join(warnings) or False

    def _compute_dashboard(self):
        since = fields.Datetime.now() - timedelta(days=1)
        stats = {}
        if self.ids:
            self.env["multichannel.ledger"].flush_model()
            self.env.cr.execute(
                """
                SELECT channel_id,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                  FROM multichannel_ledger
                 WHERE channel_id = ANY(%s) AND kind = 'stock' AND result = 'ok' AND create_date >= %s
                   AND latency_ms > 0
                 GROUP BY channel_id
                """,
                (self.ids, since),
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        today = fields.Datetime.to_datetime(fields.Date.context_today(self))
        orders = dict(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("multichannel_channel_id", "in", self.ids), ("create_date", ">=", today)],
                ["multichannel_channel_id"],
                ["__count"],
            )
        )
        last_ok = dict(
            self.env["multichannel.ledger"]._read_group(
                [("channel_id", "in", self.ids), ("kind", "in", ("stock", "price")), ("result", "=", "ok")],
                ["channel_id"],
                ["create_date:max"],
            )
        )
        for channel in self:
            p50, p95 = stats.get(channel.id, (0, 0))
            channel.latency_p50_ms = int(p50 or 0)
            channel.latency_p95_ms = int(p95 or 0)
            channel.orders_today = orders.get(channel, 0)
            channel.last_push_ok_at = last_ok.get(channel)

    # ------------------------------------------------------------------
    # rights
    # ------------------------------------------------------------------
    def _check_operator_rights(self):
        """Refuse, on the server, a caller who may not change these channels or talk to them.

        Buttons are only hidden in the views; every action reachable by RPC that pushes,
        imports or calls the channel runs this first. Unknown ids and channels of other
        companies get the same answer, so ids cannot be probed.
        """
        if self.env.su:
            return
        refused = AccessError(self.env._("Only a Multichannel Administrator of the channel's company can do this."))
        if not self.env.user.has_group("stock_multichannel.group_multichannel_manager"):
            raise refused
        try:
            self.check_access("write")
        except (AccessError, MissingError):
            raise refused from None

    # ------------------------------------------------------------------
    # adapter, locking, retries
    # ------------------------------------------------------------------
    def _adapter_class(self):
        """The connector's :class:`ChannelAdapter` for this channel's type. Each connector
        extends this method for its own type and calls ``super()`` for the others."""
        self.ensure_one()
        raise ChannelError(
            self.env._("No connector is installed for channels of type %(type)s.", type=self.channel_type)
        )

    @api.model
    def _connected_types(self):
        """The channel types whose connector is installed: each connector adds its own."""
        return []

    def _get_adapter(self):
        return self._adapter_class()(self)

    def _try_lock(self, kind):
        """Take the channel's ``kind`` lock for the current transaction.

        A transaction-level advisory lock: released at commit or rollback, so a
        worker that commits between batches takes it again before the next batch.
        False when another worker holds it.
        """
        self.ensure_one()
        key = zlib.crc32(f"multichannel.{kind}".encode()) & 0x7FFFFFFF
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (key, self.id))
        return self.env.cr.fetchone()[0]

    def _call(self, func, *args):
        """Call the adapter, retrying temporary faults with back-off.

        Inside a cron it tries once and never sleeps: a temporary fault sets the channel's
        "retry after" for that kind (see _back_off) and the cron comes back then, so one
        slow channel never holds a worker nor delays the other channels.
        """
        self.ensure_one()
        if self.env.context.get("multichannel_cron"):
            return func(*args)

        def log_retry(attempt, error, wait):
            _logger.info("%s: temporary fault (%s), try %s again in %.1fs", self.name, error, attempt + 1, wait)

        return call_with_retry(
            func, *args, attempts=max(1, self.retry_attempts), base_delay=self.retry_delay, on_retry=log_retry
        )

    def _note_error(self, message):
        self.sudo().write({"last_error": message, "last_error_at": fields.Datetime.now()})

    def _back_off(self, kind, error):
        """After a temporary fault: come back for ``kind`` later, later each time it repeats."""
        self.ensure_one()
        failures = self[f"{kind}_failures"] + 1
        wait = min(max(self.retry_delay, 1.0) * 2 ** (failures - 1), MAX_BACK_OFF_SECONDS)
        wait = max(wait, min(getattr(error, "retry_after", None) or 0.0, MAX_BACK_OFF_SECONDS))
        retry_at = fields.Datetime.now() + timedelta(seconds=wait)
        self.sudo().write({f"{kind}_failures": failures, f"{kind}_retry_at": retry_at})
        cron = self.env.ref(CRONS[kind], raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at=retry_at)

    def _recovered(self, kind):
        if self[f"{kind}_failures"] or self[f"{kind}_retry_at"]:
            self.sudo().write({f"{kind}_failures": 0, f"{kind}_retry_at": False})

    def _commit(self, auto_commit):
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------
    # availability and targets
    # ------------------------------------------------------------------
    def _source_locations(self):
        self.ensure_one()
        return self.warehouse_ids.view_location_id | self.location_ids

    def _free_quantities(self, products):
        """{product id: free quantity (on hand minus reserved)} over the channel's sources.

        One grouped query over ``stock.quant``, the products passed as one array: what
        Odoo's ``free_qty`` sums in the channel's locations, for any number of products.
        """
        self.ensure_one()
        locations = self.env["stock.location"].sudo()._search([("id", "child_of", self._source_locations().ids)])
        Quant = self.env["stock.quant"].sudo()
        Quant.flush_model(["product_id", "location_id", "quantity", "reserved_quantity"])
        self.env.cr.execute(
            SQL(
                """
                SELECT product_id, SUM(quantity) - SUM(reserved_quantity)
                  FROM stock_quant
                 WHERE product_id = ANY(%s) AND location_id IN %s
                 GROUP BY product_id
                """,
                products.ids,
                locations.subselect(),
            )
        )
        return dict(self.env.cr.fetchall())

    def _pending_quantities(self, products):
        """{product id: quantity} of orders known to the channels but not reserved yet.

        Counts every channel of the company, not only this one: an order waiting on
        channel A takes units that channel B must not sell again.
        """
        self.ensure_one()
        pending = defaultdict(float)
        for order in (
            self.env["multichannel.order"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    "|",
                    ("state", "in", ("received", "pending", "error")),
                    ("content_changed", "=", True),
                ]
            )
        ):
            for product_id, quantity in (order.pending_quantities or {}).items():
                pending[int(product_id)] += quantity
        # draft channel sale orders: one grouped query, the products passed as one array
        self.env["sale.order.line"].flush_model(["order_id", "product_id", "product_uom_qty", "state"])
        self.env["sale.order"].flush_model(["multichannel_channel_id", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT l.product_id, SUM(l.product_uom_qty)
                  FROM sale_order_line l
                  JOIN sale_order o ON o.id = l.order_id
                 WHERE l.product_id = ANY(%s) AND l.state IN ('draft', 'sent')
                   AND o.multichannel_channel_id IS NOT NULL AND o.company_id = %s
                 GROUP BY l.product_id
                """,
                products.ids,
                self.company_id.id,
            )
        )
        for product_id, quantity in self.env.cr.fetchall():
            pending[product_id] += quantity
        return pending

    def _available_quantities(self, products):
        """{product id: free quantity minus what pending orders will take}, before the policy."""
        self.ensure_one()
        free = self._free_quantities(products)
        pending = self._pending_quantities(products)
        return {product_id: free.get(product_id, 0.0) - pending.get(product_id, 0.0) for product_id in products.ids}

    def _stock_targets(self, bindings):
        """{listing id: quantity to show}, for many listings of this channel at once."""
        self.ensure_one()
        # each listing's product read in one query, not through a record per listing
        Binding = self.env["multichannel.product.binding"].sudo()
        Binding.flush_model(["product_id"])
        stored = [binding_id for binding_id in bindings.ids if isinstance(binding_id, int)]
        self.env.cr.execute(SQL("SELECT id, product_id FROM multichannel_product_binding WHERE id = ANY(%s)", stored))
        product_of = dict(self.env.cr.fetchall())
        if len(stored) < len(bindings):  # listings being created in a form
            product_of.update({b.id: b.product_id.id for b in bindings if not isinstance(b.id, int)})
        available = self._available_quantities(self.env["product.product"].browse(set(product_of.values())))
        held_back, percent, maximum = self.stock_held_back, self.stock_percent, self.stock_max
        shown = {}  # the policy once per distinct available quantity: many products share one

        def policy(quantity):
            if quantity not in shown:
                shown[quantity] = apply_policy(quantity, held_back=held_back, percent=percent, maximum=maximum)
            return shown[quantity]

        return {binding_id: policy(available.get(product_of[binding_id], 0.0)) for binding_id in bindings.ids}

    def _price_targets(self, bindings):
        """{listing id: price from the channel pricelist}, rounded to its currency."""
        self.ensure_one()
        products = bindings.product_id.with_company(self.company_id)
        prices = self.pricelist_id._get_products_price(products, 1.0)
        currency = self.pricelist_id.currency_id
        return {
            binding.id: float_round(prices.get(binding.product_id.id, 0.0), precision_rounding=currency.rounding)
            for binding in bindings
        }

    def _regular_prices(self, bindings):
        """{listing id: the product's list price in the pricelist's currency}."""
        self.ensure_one()
        currency = self.pricelist_id.currency_id
        company = self.company_id
        return {
            binding.id: float_round(
                company.currency_id._convert(binding.product_id.lst_price, currency, company, fields.Date.today()),
                precision_rounding=currency.rounding,
            )
            for binding in bindings
        }

    # ------------------------------------------------------------------
    # push engine
    # ------------------------------------------------------------------
    def _push(self, kind, force=False, auto_commit=False, cause=None):
        """Push what changed of ``kind`` ('stock' or 'price') to each channel.

        Only listings marked pending (or all with ``force``) whose target differs from
        what the channel shows are sent. Results are written per listing; a refused
        listing keeps its error and stays pending; a persistent transport fault stops
        this channel's run with everything still pending.
        """
        for channel in self:
            try:
                orders_known = True
                if (
                    kind == "stock"
                    and channel._adapter_class().lowers_stock_on_order
                    and (force or channel._has_pending("stock"))
                ):
                    orders_known = channel._import_orders(auto_commit=auto_commit)
                if not channel._try_lock(kind):
                    _logger.info("%s: %s push already running elsewhere, skipped", channel.name, kind)
                    continue
                channel._push_channel(kind, force, auto_commit, cause, only_lower=not orders_known)
            except ChannelError as error:  # no connector installed for the channel's type
                channel._note_error(str(error))
            channel._commit(auto_commit)

    def _has_pending(self, kind):
        """Whether a push of ``kind`` has anything to look at: queued requests or pending listings."""
        self.ensure_one()
        self.env["multichannel.product.binding"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT EXISTS(SELECT 1 FROM multichannel_sync_request r
                                JOIN multichannel_product_binding b ON b.id = r.binding_id
                               WHERE b.channel_id = %(channel)s AND r.kind = %(kind)s)
                    OR EXISTS(SELECT 1 FROM multichannel_product_binding
                               WHERE channel_id = %(channel)s AND active AND %(sync)s AND %(pending)s)
                """,
                channel=self.id,
                kind=kind,
                sync=SQL.identifier(f"{kind}_sync"),
                pending=SQL.identifier(f"{kind}_pending"),
            )
        )
        return self.env.cr.fetchone()[0]

    def _push_channel(self, kind, force, auto_commit, cause, only_lower=False):
        """Push one channel's pending listings of ``kind``.

        ``only_lower``: the channel's latest orders could not be read, so a quantity it
        lowered by itself may be unknown to Odoo; only quantities going down are sent
        (they can never undo such a sale), the rest waits for the next run.
        """
        Binding = self.env["multichannel.product.binding"].sudo()
        Binding._drain_sync_requests(self, kind)
        pending_field, sync_field = f"{kind}_pending", f"{kind}_sync"
        domain = [("channel_id", "=", self.id), (sync_field, "=", True)]
        if not force:
            domain.append((pending_field, "=", True))
        bindings = Binding.search(domain, order="id")
        if kind == "stock":
            bindings = self._with_shared_stock(bindings)
        adapter = None
        for chunk in split_every(1000, bindings.ids, Binding.browse):
            to_send, unchanged, regular = self._split_changed(kind, chunk, force)
            unchanged._mark_settled(kind)
            if only_lower:
                to_send = [(listing, target) for listing, target in to_send if target < listing.pushed_qty]
            if to_send and adapter is None:
                adapter = self._get_adapter()
            to_send = self._refuse_missing_prices(to_send) if kind == "price" else to_send
            for sent in split_every(adapter.batch_size if adapter else 1, to_send):
                # each commit empties the cache: prefetch this batch, not the whole chunk again
                listings = Binding.browse([listing.id for listing, _target in sent])
                batch = list(zip(listings, (target for _listing, target in sent), strict=True))
                if not self._push_batch(kind, adapter, batch, cause, regular):
                    return False
                self._commit(auto_commit)
                if auto_commit and not self._try_lock(kind):
                    return False
                if self._over_budget():
                    self._trigger_realtime(kind)  # the next run goes on with what is left
                    return False
        if not only_lower:
            self.sudo()[f"{kind}_pushed_at"] = fields.Datetime.now()
        self._recovered(kind)
        return True

    def _with_shared_stock(self, bindings):
        """``bindings`` with every listing that shares its stock with one of them.

        Variations whose stock the channel keeps on their parent show one quantity: when
        one of them is pushed, all of them are looked at together (see _shown_stock_targets).
        """
        parents = set(bindings.filtered("external_stock_on_parent").mapped("external_parent_id")) - {False}
        if not parents:
            return bindings
        siblings = bindings.search(
            [
                ("channel_id", "=", self.id),
                ("stock_sync", "=", True),
                ("external_stock_on_parent", "=", True),
                ("external_parent_id", "in", list(parents)),
            ]
        )
        shared = siblings.sorted(lambda b: (b.external_parent_id, b.id))
        return shared | (bindings - shared)

    def _split_changed(self, kind, bindings, force):
        """(listings to send with their targets, listings already up to date, their regular prices).

        Regular prices (the list price sent with a price: eMAG's recommended price, the
        shop's regular price) are computed for a price push only, empty for stock.
        """
        if kind == "stock":
            targets, regular = self._shown_stock_targets(bindings), {}
        else:
            targets, regular = self._price_targets(bindings), self._regular_prices(bindings)
        to_send, unchanged = [], bindings.browse()
        for binding in bindings:
            target = targets[binding.id]
            if not force and binding.state != "error" and self._shown(kind, binding, target, regular.get(binding.id)):
                unchanged |= binding
            else:
                to_send.append((binding, target))
        return to_send, unchanged, regular

    def _shown_stock_targets(self, bindings):
        """{listing id: quantity the channel should show}, for many listings at once.

        The policy's target; a variation whose stock the channel keeps on its parent shows
        the scarcest of every variation of that parent (all of them are looked up, so the
        minimum never depends on which listings happen to be in this chunk or batch).
        """
        every = self._with_shared_stock(bindings)
        targets = self._stock_targets(every)
        scarcest = {}
        for binding in every.filtered(lambda b: b.external_stock_on_parent and b.external_parent_id):
            parent = binding.external_parent_id
            scarcest[parent] = min(scarcest.get(parent, targets[binding.id]), targets[binding.id])
        return {
            binding.id: scarcest.get(binding.external_parent_id, targets[binding.id])
            if binding.external_stock_on_parent
            else targets[binding.id]
            for binding in bindings
        }

    def _refuse_missing_prices(self, to_send):
        """A zero, negative or missing price never leaves Odoo: the listing goes to error instead."""
        currency = self.pricelist_id.currency_id
        good = []
        for listing, target in to_send:
            if float_compare(target, 0.0, precision_rounding=currency.rounding) > 0:
                good.append((listing, target))
                continue
            listing.write(
                {
                    "state": "error",
                    "last_error": self.env._(
                        "No price to send: the channel pricelist gives %(price)s %(currency)s for %(product)s. "
                        "Set a sale price or a pricelist rule.",
                        price=target,
                        currency=currency.name,
                        product=listing.product_id.display_name,
                    ),
                }
            )
        return good

    def _shown(self, kind, binding, target, regular):
        """Whether the channel already shows ``target`` for this listing (and, for a price,
        the same regular price).

        What Odoo last sent is what the channel shows until the channel moves its stock by
        itself (an order): that listing is then re-sent, whatever Odoo sent before.
        """
        if not binding[f"{kind}_pushed_at"]:
            return False
        if kind == "stock":
            return not binding.stock_moved_by_channel and binding.pushed_qty == target
        rounding = self.pricelist_id.currency_id.rounding
        return (
            float_compare(binding.pushed_price, target, precision_rounding=rounding) == 0
            and float_compare(binding.pushed_regular_price, regular, precision_rounding=rounding) == 0
        )

    def _push_batch(self, kind, adapter, batch, cause, regular_prices):
        currency = self.pricelist_id.currency_id.name
        extras = self.env["multichannel.product.binding"].union(*(b for b, _t in batch))._extras()
        if kind == "stock":
            updates = [
                StockUpdate(b.id, b.external_id or "", b.external_sku or "", int(t), extras[b.id]) for b, t in batch
            ]
            send = adapter.push_stock
        else:
            updates = [
                PriceUpdate(
                    b.id, b.external_id or "", b.external_sku or "", t, currency, regular_prices[b.id], extras[b.id]
                )
                for b, t in batch
            ]
            send = adapter.push_prices
            # the connector's own rules (a marketplace's price band): refused before sending
            problems = {update.key: adapter.price_problem(update) for update in updates}
            if any(problems.values()):
                for listing, _target in batch:
                    if problems[listing.id]:
                        listing.write({"state": "error", "last_error": problems[listing.id]})
                batch = [(listing, target) for listing, target in batch if not problems[listing.id]]
                updates = [update for update in updates if not problems[update.key]]
                if not batch:
                    return True
        started = time.monotonic()
        try:
            results = self._call(send, updates)
        except (TransportError, ChannelError) as error:
            duration = int((time.monotonic() - started) * 1000)
            message = self.env._("%(kind)s push failed: %(error)s", kind=self._kind_label(kind), error=error)
            self._note_error(message)
            if isinstance(error, TransportError):
                self._back_off(kind, error)
            self.env["multichannel.ledger"]._log_push(self, kind, batch, {}, cause, duration, failure=str(error))
            return False
        except TRANSLATION_ERRORS as error:
            # the connector could not translate one of the listings (an external id typed by
            # hand, say): find it by halves; it alone goes to error, the others are sent
            if len(batch) > 1:
                middle = len(batch) // 2
                return all(
                    [
                        self._push_batch(kind, adapter, batch[:middle], cause, regular_prices),
                        self._push_batch(kind, adapter, batch[middle:], cause, regular_prices),
                    ]
                )
            listing = batch[0][0]
            _logger.warning("%s: listing %s cannot be sent", self.name, listing.display_name, exc_info=True)
            listing.write(
                {
                    "state": "error",
                    "last_error": self.env._(
                        "This listing cannot be sent to the channel (%(type)s: %(error)s): check its external ID.",
                        type=type(error).__name__,
                        error=error,
                    ),
                }
            )
            return True
        duration = int((time.monotonic() - started) * 1000)
        by_key = {result.key: result for result in results}
        self.env["multichannel.ledger"]._log_push(self, kind, batch, by_key, cause, duration)
        self.env["multichannel.product.binding"]._apply_push_results(kind, batch, by_key, regular_prices)
        return True

    def action_push_stock(self):
        self._check_operator_rights()
        return self._run_and_report(lambda: self._push("stock", cause="manual"), self.env._("Stock pushed."))

    def action_push_prices(self):
        self._check_operator_rights()
        return self._run_and_report(lambda: self._push("price", cause="manual"), self.env._("Prices pushed."))

    def action_reconcile(self):
        self._check_operator_rights()
        return self._run_and_report(self._reconcile, self.env._("Every listing was sent again."))

    def _run_and_report(self, work, success):
        """Run a button's ``work`` and say what really happened: the channel's error if one
        was noted meanwhile, listings that went to error, or ``success``."""
        errors_before = {channel.id: channel.last_error_at for channel in self}
        work()
        self.invalidate_recordset()
        failed = self.filtered(lambda c: c.last_error_at and c.last_error_at != errors_before[c.id])
        if failed:
            return self._notify("\n".join(f"{c.name}: {c.last_error}" for c in failed), kind="warning")
        in_error = self.env["multichannel.product.binding"].search_count(
            [("channel_id", "in", self.ids), ("state", "=", "error")]
        )
        if in_error:
            return self._notify(
                self.env._(
                    "%(done)s %(count)s listings are in error: see Listings in Error.", done=success, count=in_error
                ),
                kind="warning",
            )
        return self._notify(success)

    def _reconcile(self, auto_commit=False):
        """Send every listing's quantity and price again, changed or not.

        Catches drift made on the channel's side (a manual edit there, a lost update).
        """
        for kind in ("stock", "price"):
            self._push(kind, force=True, auto_commit=auto_commit, cause="reconcile")

    def _import_listings(self):
        """Match the channel's offers to products; list them; keep the rest for a human.

        Matching: a listing with that external id, then a product whose internal
        reference is the offer's SKU, then one whose barcode is the offer's barcode.
        """
        self.ensure_one()
        offers = self._call(self._get_adapter().fetch_offers)
        Binding = self.env["multichannel.product.binding"].with_context(active_test=False)
        Product = self.env["product.product"]
        Unmatched = self.env["multichannel.unmatched.offer"]
        listed = {
            b.external_id: b for b in Binding.search([("channel_id", "=", self.id), ("external_id", "!=", False)])
        }
        listed_products = set(Binding.search([("channel_id", "=", self.id)]).product_id.ids)
        company_domain = [("company_id", "in", (self.company_id.id, False)), ("type", "=", "consu")]
        counts = {"matched": 0, "created": 0, "unmatched": 0}
        for offer in offers:
            offer_values = {
                "external_sku": offer.sku or False,
                "external_parent_id": offer.parent_id or False,
                "external_stock_on_parent": offer.stock_on_parent,
            }
            if offer.external_id in listed:
                listed[offer.external_id].write(offer_values)
                counts["matched"] += 1
                continue
            product = offer.sku and Product.search([("default_code", "=", offer.sku)] + company_domain, limit=1)
            if not product and offer.barcode:
                product = Product.search([("barcode", "=", offer.barcode)] + company_domain, limit=1)
            if product and product.id not in listed_products:
                listed[offer.external_id] = Binding.create(
                    dict(offer_values, channel_id=self.id, product_id=product.id, external_id=offer.external_id)
                )
                listed_products.add(product.id)
                counts["created"] += 1
            else:
                Unmatched._remember(self, offer, product)
                counts["unmatched"] += 1
        Unmatched.search([("channel_id", "=", self.id), ("external_id", "in", list(listed))]).unlink()
        return counts

    def action_import_listings(self):
        self._check_operator_rights()
        self.ensure_one()
        try:
            counts = self._import_listings()
        except (ChannelError, TransportError) as error:
            raise UserError(
                self.env._("Reading the offers of %(name)s failed: %(error)s", name=self.name, error=error)
            ) from None
        return self._notify(
            self.env._(
                "%(created)s listings created, %(matched)s already listed, %(unmatched)s offers to match by hand.",
                **counts,
            )
        )

    def action_view_unmatched(self):
        return self._open("multichannel.unmatched.offer", [("channel_id", "=", self.id)], self.env._("Offers to Match"))

    def action_test_connection(self):
        self._check_operator_rights()
        self.ensure_one()
        try:
            message = self._get_adapter().test_connection()
        except (ChannelError, TransportError) as error:
            raise UserError(
                self.env._("Connection to %(name)s failed: %(error)s", name=self.name, error=error)
            ) from None
        if self.last_error:
            # the problem shown on the channel is from before: the connection works now
            self.sudo().write({"last_error": False, "last_error_at": False})
        return self._notify(message or self.env._("Connection works."))

    def _kind_label(self, kind):
        """A sync kind (``stock``, ``price``, ...) as the user reads it in a message."""
        labels = {
            "stock": self.env._("Stock"),
            "price": self.env._("Price"),
            "order": self.env._("Order"),
            "status": self.env._("Status"),
            "audit": self.env._("Audit"),
        }
        return labels.get(kind, kind.capitalize())

    def _notify(self, message, kind="success"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # orders
    # ------------------------------------------------------------------
    def _import_orders(self, auto_commit=False):
        """Fetch orders changed since the watermark and import each on its own.

        Returns whether every channel's orders were read (another worker importing them
        at the same moment counts as read).
        """
        Order = self.env["multichannel.order"].sudo()
        all_read = True
        for channel in self:
            if not channel._try_lock("order"):
                continue
            try:
                fetched = channel._call(channel._get_adapter().fetch_orders, channel.order_watermark)
            except (TransportError, ChannelError) as error:
                channel._note_error(self.env._("Order import failed: %s", error))
                if isinstance(error, TransportError):
                    channel._back_off("order", error)
                all_read = False
                continue
            except TRANSLATION_ERRORS as error:  # an answer of a shape nobody expected
                _logger.warning("%s: unreadable answer to the order read", channel.name, exc_info=True)
                channel._note_error(
                    self.env._(
                        "Order import failed: the channel's answer could not be read (%s).",
                        f"{type(error).__name__}: {error}",
                    )
                )
                all_read = False
                continue
            for data in fetched.orders:
                Order._receive(channel, data)
                channel._commit(auto_commit)
            channel.sudo().write(
                {
                    "order_watermark": fetched.watermark or channel.order_watermark,
                    "order_imported_at": fields.Datetime.now(),
                }
            )
            channel._recovered("order")
            channel._commit(auto_commit)
        return all_read

    def action_preview_order_import(self):
        """Read what an order import would bring now, and say it, without storing anything."""
        self._check_operator_rights()
        self.ensure_one()
        try:
            fetched = self._call(self._get_adapter().fetch_orders, self.order_watermark)
        except (TransportError, ChannelError, *TRANSLATION_ERRORS) as error:
            raise UserError(self.env._("The channel's orders could not be read: %s", error)) from None
        known = set(self.env["multichannel.order"].sudo().search([("channel_id", "=", self.id)]).mapped("external_id"))
        since = fields.Datetime.to_string(self.order_import_since) if self.order_import_since else ""
        counts = import_preview(fetched.orders, since, known)
        message = self.env._(
            "An order import now would read %(read)s orders from %(name)s: %(new)s new sales to import, "
            "%(held)s held until paid, %(history)s placed before %(since)s kept as history (never sold, no stock "
            "taken), %(settled)s already shipped, finalized or cancelled on the channel (never sold), "
            "%(known)s already in Odoo, %(unreadable)s unreadable (kept to fix).",
            name=self.name,
            since=self.order_import_since or self.env._("the start"),
            **counts,
        )
        return self._notify(message, kind="info")

    def action_import_orders(self):
        self._check_operator_rights()
        return self._run_and_report(self._import_orders, self.env._("Orders imported."))

    # ------------------------------------------------------------------
    # schedules
    # ------------------------------------------------------------------
    def _is_due(self, kind):
        self.ensure_one()
        mode = self[f"{kind}_schedule"]
        if mode == "off":
            return False
        if self[f"{kind}_retry_at"] and self[f"{kind}_retry_at"] > fields.Datetime.now():
            return False  # backing off after a temporary fault; the cron is triggered for then
        if mode == "realtime":
            return True
        minutes = self[f"{kind}_interval"] if mode == "custom" else SCHEDULE_MINUTES[mode]
        last = self[{"stock": "stock_pushed_at", "price": "price_pushed_at", "order": "order_imported_at"}[kind]]
        return not last or fields.Datetime.now() >= last + timedelta(minutes=minutes) - timedelta(seconds=5)

    @api.model
    def _cron_channels(self, kind):
        """Active channels whose connector is installed and whose ``kind`` run is due."""
        self._consume_wakeups(kind)
        channels = self.search([("channel_type", "in", self._connected_types())])
        return channels.filtered(lambda c: c._is_due(kind))

    @api.model
    def _cron_push_stock(self):
        self._cron_channels("stock")._run_isolated("stock", lambda channel: channel._push("stock", auto_commit=True))

    @api.model
    def _cron_push_prices(self):
        self._cron_channels("price")._run_isolated("price", lambda channel: channel._push("price", auto_commit=True))

    @api.model
    def _cron_import_orders(self):
        self._cron_channels("order")._run_isolated("order", lambda channel: channel._import_orders(auto_commit=True))

    def _run_isolated(self, kind, work):
        """A cron's ``work`` on each channel on its own, within the cron's time budget.

        One channel's fault is noted on that channel and the next one goes on; a
        concurrent update by another worker is routine and retried at the next run;
        what the budget leaves undone is handed to the next run at once.
        """
        channels = self.with_context(
            multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
        )
        done = 0
        with read_committed(self.env.cr):
            for channel in channels:
                if channel._over_budget():
                    break
                try:
                    work(channel)
                except CONCURRENT_ERRORS:
                    self.env.cr.rollback()
                    _logger.info("%s: %s run met a concurrent update; it goes on at the next run", channel.name, kind)
                    channel._trigger_realtime(kind)
                except Exception as error:  # noqa: BLE001 - one channel's fault never stops the others
                    self.env.cr.rollback()
                    _logger.warning("%s: %s run failed", channel.name, kind, exc_info=True)
                    channel._note_error(
                        self.env._("%(kind)s run failed: %(error)s", kind=channel._kind_label(kind), error=error)
                    )
                self.env.cr.commit()  # pylint: disable=invalid-commit
                done += 1
        if done < len(channels):
            channels[done]._trigger_realtime(kind)
        self.env["ir.cron"]._notify_progress(done=done, remaining=len(channels) - done)

    def _over_budget(self):
        deadline = self.env.context.get("multichannel_deadline")
        return bool(deadline) and time.monotonic() >= deadline

    @api.model
    def _cron_send_order_statuses(self):
        self._consume_wakeups("status")
        with read_committed(self.env.cr):
            self.env["multichannel.order"].with_context(
                multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
            )._send_statuses(auto_commit=True)

    @api.model
    def _cron_recheck_prices(self):
        """Prices that change with time alone — a pricelist rule that starts or ends, a new
        currency rate — come without any write to notice: every listing is queued once a
        day, and the price push sends only those whose price really moved."""
        pricelists = self.search([("channel_type", "in", self._connected_types())]).pricelist_id
        self.env["multichannel.product.binding"]._request_sync(
            "price", "daily price check", pricelist_ids=pricelists.ids
        )

    @api.model
    def _cron_clean_ledger(self):
        self.env["multichannel.ledger"]._clean_up()

    @api.model
    def _trigger_realtime(self, kind):
        """Wake the ``kind`` cron now instead of at its next tick, unless a wake-up is pending.

        A wake-up is pending when a trigger of the cron is due and not consumed yet: one
        asked for earlier in this transaction (savepoints or not), or by another
        transaction, committed and not yet taken by a run (``_consume_wakeups``). That
        trigger is locked (key share) until this transaction ends, so a run cannot take
        it, drain the queue and miss what this transaction commits; one being taken
        (locked by the run) is skipped and a new one asked for. The cron workers are
        notified once per transaction, after the commit, on a kept connection.
        """
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(CRONS[kind], raise_if_not_found=False)
        if not cron_id:
            return
        cr = self.env.cr
        # one statement: the pending wake-up looked for (and locked), else a trigger of the
        # active cron inserted, due at this moment to the microsecond: later than the start
        # of a run in progress, whose end deletes the triggers due before it started
        # (ir.cron._reschedule_later)
        cr.execute(
            SQL(
                """
                WITH pending AS (
                    SELECT t.id FROM ir_cron_trigger t
                     WHERE t.cron_id = %(cron)s AND t.call_at <= clock_timestamp() AT TIME ZONE 'UTC'
                       AND t.call_at > COALESCE(
                           (SELECT taken_at FROM multichannel_cron_wakeup WHERE cron_id = %(cron)s), '-infinity'
                       )
                     LIMIT 1
                       FOR KEY SHARE SKIP LOCKED
                )
                INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
                SELECT c.id, clock_timestamp() AT TIME ZONE 'UTC', %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM ir_cron c
                 WHERE c.id = %(cron)s AND c.active AND NOT EXISTS (SELECT 1 FROM pending)
                RETURNING id
                """,
                cron=cron_id,
                uid=self.env.uid,
            )
        )
        if not cr.rowcount:
            return
        if "multichannel.notify" not in cr.postcommit.data:
            cr.postcommit.data["multichannel.notify"] = True
            cr.postcommit.add(partial(notify_cron_workers, cr.dbname))

    @api.model
    def _consume_wakeups(self, kind):
        """A run of the ``kind`` cron starts: the wake-ups asked for until now are taken.

        Run before the queue is drained, so whatever a transaction commits after this
        point asks for (and gets) a new wake-up; a transaction still holding a pending
        trigger (see ``_trigger_realtime``) is waited for, and its requests drained: the
        crons commit before they drain (``read_committed``), so the drain sees them.

        The triggers themselves are left to Odoo, whose scheduler deletes those due
        before the run started once the run ends: deleting them here as well made its
        delete fail ("could not serialize access due to concurrent delete"). Locking
        them only waits for their holders; the moment they were taken is kept instead.
        """
        cron = self.env.ref(CRONS[kind], raise_if_not_found=False)
        if not cron:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        SELECT id FROM ir_cron_trigger
                         WHERE cron_id = %(cron)s AND call_at <= clock_timestamp() AT TIME ZONE 'UTC'
                           FOR UPDATE
                        """,
                        cron=cron.id,
                    ),
                    log_exceptions=False,
                )
        except CONCURRENT_ERRORS:
            _logger.info("%s wake-ups taken by another run at the same moment", kind)
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO multichannel_cron_wakeup (cron_id, taken_at)
                VALUES (%(cron)s, clock_timestamp() AT TIME ZONE 'UTC')
                ON CONFLICT (cron_id) DO UPDATE SET taken_at = EXCLUDED.taken_at
                """,
                cron=cron.id,
            )
        )

    # ------------------------------------------------------------------
    # screens
    # ------------------------------------------------------------------
    def _open(self, model, domain, name):
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "name": name,
            "view_mode": "list,form",
            "domain": domain,
            "context": {"default_channel_id": self.id},
        }

    def action_view_listings(self):
        return self._open("multichannel.product.binding", [("channel_id", "=", self.id)], self.env._("Listings"))

    def action_view_pending(self):
        return self._open(
            "multichannel.product.binding",
            [("channel_id", "=", self.id), *PENDING_DOMAIN],
            self.env._("Pending Listings"),
        )

    def action_view_errors(self):
        return self._open(
            "multichannel.product.binding",
            [("channel_id", "=", self.id), ("state", "=", "error")],
            self.env._("Listings in Error"),
        )

    def action_view_orders(self):
        return self._open("multichannel.order", [("channel_id", "=", self.id)], self.env._("Channel Orders"))

    def action_view_order_errors(self):
        return self._open(
            "multichannel.order", [("channel_id", "=", self.id), *TO_FIX_DOMAIN], self.env._("Orders to Fix")
        )

    def action_view_held_orders(self):
        return self._open(
            "multichannel.order",
            [("channel_id", "=", self.id), ("state", "in", ("received", "pending"))],
            self.env._("Orders Not Imported Yet"),
        )

    def action_view_oversold(self):
        return self._open(
            "sale.order",
            [("multichannel_channel_id", "=", self.id), ("multichannel_oversold", "=", True)],
            self.env._("Oversold Orders"),
        )
