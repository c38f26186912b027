import logging
from functools import partial

from odoo import api, fields, models
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError

from ..const import PRICE_POLICY_FIELDS, SCHEDULES, STOCK_POLICY_FIELDS
from ..lib import shared_rate_limit

_logger = logging.getLogger(__name__)


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
    hold_warning_days = fields.Integer(
        "Held Orders to Fix After (days)",
        default=7,
        help="An order held because it is not paid yet (a bank transfer, a payment link) keeps its units off "
        "every channel. Held longer than this, it is listed in Orders to Fix, for someone to cancel it on the "
        "channel or never import it. 0: never listed.",
    )
    order_import_since = fields.Datetime(
        "Import Orders Placed Since",
        default=fields.Datetime.now,
        copy=False,
        help="Orders placed on the channel before this moment are its history: kept for reference, never "
        "created as new sales and never counted against stock. Set when the channel is connected.",
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        check_company=True,
        help="The taxes of this channel's customers, mapped from the products' own (a Romanian company "
        "selling on eMAG Bulgaria under OSS: Bulgarian VAT). Prices are sent with, or net of, the mapped "
        "rates; an imported order takes it when Odoo finds no fiscal position for its customer.",
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
    binding_ids = fields.One2many("multichannel.product.binding", "channel_id")

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
        self.env.cr.execute(shared_rate_limit.SCHEMA_SQL)

    def _shared_rate_limit(self, account, limit, window):
        """A rate limit of ``limit`` requests per ``window`` seconds for a channel account,
        kept in PostgreSQL: it holds across worker processes and servers."""
        registry = self.env.registry
        # a test's cursor shares the test's transaction; elsewhere a kept connection, not the pool's
        cursors = (
            registry.cursor if registry.in_test_mode() else partial(shared_rate_limit.kept_cursor, registry.db_name)
        )
        return shared_rate_limit.SharedAnswerWindow(cursors, account, limit, window)

    @api.model
    def _lang_selection(self):
        return self.env["res.lang"].get_installed()

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
            if not self.env.su and company not in self.env.user.company_ids:
                raise AccessError(self.env._("A channel is created in one of your own companies."))
            if not vals.get("warehouse_ids") and not vals.get("location_ids"):
                warehouse = self.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
                vals["warehouse_ids"] = [fields.Command.set(warehouse.ids)]
            # the channel's own Sales Team and pricelist come with it: a Multichannel
            # Administrator need not be a Sales Administrator to get them
            if not vals.get("pricelist_id"):
                vals["pricelist_id"] = self.sudo()._default_pricelist(company).id
            if not vals.get("team_id"):
                team = self.env["crm.team"].sudo().create({"name": vals.get("name"), "company_id": company.id})
                vals["team_id"] = team.id
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_with_history(self):
        if self._has_history():
            raise UserError(
                self.env._(
                    "A channel that has pushed or imported anything keeps its ledger and its orders: archive it "
                    "instead of deleting it."
                )
            )

    def write(self, vals):
        if "company_id" in vals:
            self._check_company_move(vals["company_id"])
        if (
            not self.env.su
            and self._sends_credentials_elsewhere(vals)
            and not self.env.user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._(
                    "Only a Settings administrator can change where the channel's credentials are sent: they go "
                    "with every call to that address."
                )
            )
        result = super().write(vals)
        # what the channel shows moves with its policy, its sources and its pricelist, not only
        # with stock and prices: its listings are looked at again (only those that moved are sent)
        # (and a channel archived meanwhile was left out of the changes queued since)
        for kind, moving in (("stock", STOCK_POLICY_FIELDS), ("price", PRICE_POLICY_FIELDS)):
            if moving.intersection(vals) or vals.get("active"):
                self.env["multichannel.sync.request"]._queue(kind, "channel settings change", channel_ids=self.ids)
        if "fiscal_position_id" in vals:
            # other taxes: the same price in Odoo is another price on the channel, whatever was sent
            self.env["multichannel.sync.request"]._queue_prices_again_on(self, "tax change")
        return result

    def _has_history(self):
        """Whether these channels imported an order or have a ledger: the ledger is the channel's
        history for accountants and support, unless the channel never answered (a channel set
        up with wrong keys has only failed tries)."""
        ledger = (
            self.env["multichannel.ledger"]
            .sudo()
            .search_count([("channel_id", "in", self.ids), ("result", "!=", "failed")], limit=1)
        )
        return bool(
            ledger or self.env["multichannel.order"].sudo().search_count([("channel_id", "in", self.ids)], limit=1)
        )

    def _check_company_move(self, company_id):
        """A channel changes company only before it has any history, and only to one of the
        user's companies: its listings, orders and ledger are its company's (the record rules
        are checked before a write, not on the values it writes)."""
        moving = self.filtered(lambda channel: channel.company_id.id != company_id)
        if not moving:
            return
        if not self.env.su and company_id not in self.env.user.company_ids.ids:
            raise AccessError(self.env._("A channel is moved only to one of your own companies."))
        listings = self.env["multichannel.product.binding"].sudo().with_context(active_test=False)
        if listings.search_count([("channel_id", "in", moving.ids)], limit=1) or moving._has_history():
            raise UserError(
                self.env._(
                    "A channel with listings, orders or a ledger stays in its company: they are that company's. "
                    "Create a channel in the other company instead."
                )
            )

    def _sends_credentials_elsewhere(self, vals):
        """Whether ``vals`` change the address a connector sends these channels'
        credentials to (a connector says which field that is)."""
        return False

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

    def _check_operator_rights(self):
        """Refuse, on the server, a caller who may not change these channels or talk to them.

        Buttons are only hidden in the views; every action reachable by RPC that pushes,
        imports or calls the channel runs this first (but sending an order's status
        again, which the order's Multichannel users may do). Unknown ids and channels of other
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

    def _run_and_report(self, work, success, kinds, forced=False):
        """Run a button's ``work`` and say what really happened: the channel's error if one
        was noted meanwhile, its ``kinds`` of run skipped because another worker was doing
        them, listings that went to error, or ``success``."""
        errors_before = {channel.id: channel.last_error_at for channel in self}
        with self._noting_busy() as busy:
            work()
        self.invalidate_recordset()
        failed = self.filtered(lambda c: c.last_error_at and c.last_error_at != errors_before[c.id])
        problems = [f"{c.name}: {c.last_error}" for c in failed]
        skipped = self._busy_message(busy, kinds, forced=forced)
        if skipped:
            problems.append(skipped)
        if problems:
            return self._notify("\n".join(problems), kind="warning")
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
