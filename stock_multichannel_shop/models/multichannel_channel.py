import logging
import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.addons.stock_multichannel.const import UNIDENTIFIED_PREFIX
from odoo.addons.stock_multichannel.lib.adapter import CALL_ERRORS, ChannelError, TransportError, as_channel_error
from odoo.addons.stock_multichannel.lib.messages import translated
from odoo.addons.stock_multichannel.lib.transactions import read_committed
from odoo.exceptions import AccessError, UserError

from ..adapter import ShopOffer, ShopShownItem, WooCommerceAdapter, delivery_url_problem
from ..api.client import WooAccessError, WooClient, WooRefused
from ..const import LOCAL_HOSTS, PING_PARAM, PING_WINDOW, PING_WINDOW_PARAM, RECHECK_AFTER, RECHECK_BATCH, TOPICS

_logger = logging.getLogger(__name__)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    channel_type = fields.Selection(
        selection_add=[("woocommerce", "WooCommerce Shop")], ondelete={"woocommerce": "set default"}
    )
    woo_url = fields.Char("Shop URL", help="The shop's address, e.g. https://shop.example.com")
    woo_key = fields.Char("Consumer Key", groups="base.group_system", copy=False)
    woo_secret = fields.Char("Consumer Secret", groups="base.group_system", copy=False)
    woo_query_auth = fields.Boolean(
        "Keys in Query String",
        help="For servers that strip the Authorization header: send the keys as query parameters (HTTPS only).",
    )
    woo_http_oauth = fields.Boolean(
        "OAuth Signing over HTTP",
        default=True,
        help="A shop on a plain http:// address refuses keys sent as Basic auth or in the query string; only "
        "OAuth 1.0a signed requests work there (the secret is never sent, but the data is not encrypted). "
        "Switch off to refuse plain http altogether.",
    )
    woo_timeout = fields.Float("Shop Timeout (s)", default=30.0)
    woo_user_agent = fields.Char(
        "User-Agent", default="Odoo stock_multichannel", help="Some hosts block unusual User-Agents."
    )
    woo_webhook_secret = fields.Char("Webhook Secret", groups="base.group_system", copy=False)
    woo_webhook_ids = fields.Char("Webhook IDs", readonly=True, copy=False)
    woo_webhook_url = fields.Char("Webhook URL", compute="_compute_woo_webhook_url")
    woo_webhook_status = fields.Char(
        "Webhook Status", readonly=True, copy=False, help="As the shop last reported its webhooks."
    )
    woo_webhook_checked_at = fields.Datetime("Webhooks Checked", readonly=True, copy=False)
    woo_webhook_problem = fields.Text("Webhook Problem", readonly=True, copy=False)

    def _compute_woo_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for channel in self:
            channel.woo_webhook_url = f"{base}/multichannel/woocommerce/{channel.id}/webhook" if channel.id else ""

    def _adapter_class(self):
        if self.channel_type == "woocommerce":
            return WooCommerceAdapter
        return super()._adapter_class()

    @api.model
    def _connected_types(self):
        return [*super()._connected_types(), "woocommerce"]

    @api.depends("woo_url", "woo_key", "woo_secret")
    def _compute_is_configured(self):
        return super()._compute_is_configured()

    def _connection_ready(self):
        if self.channel_type != "woocommerce":
            return super()._connection_ready()
        return bool(self.woo_url and self.woo_key and self.woo_secret)

    def _woo_client(self):
        self.ensure_one()
        channel = self.sudo()
        if not (channel.woo_url and channel.woo_key and channel.woo_secret):
            raise ChannelError(self.env._("Set the shop URL, consumer key and consumer secret of %s.", self.name))
        return WooClient(
            channel.woo_url,
            channel.woo_key,
            channel.woo_secret,
            timeout=channel.woo_timeout or 30.0,
            user_agent=channel.woo_user_agent,
            query_string_auth=channel.woo_query_auth,
            allow_http_oauth=channel.woo_http_oauth,
        )

    def _woo_shop_is_local(self):
        """A shop on this machine (the simulator): it delivers to loopback addresses."""
        return urlsplit(self.sudo().woo_url or "").hostname in LOCAL_HOSTS

    # ------------------------------------------------------------------
    # webhooks
    # ------------------------------------------------------------------
    def _woo_check_manager(self):
        if not self.env.su and not self.env.user.has_group("stock_multichannel.group_multichannel_manager"):
            raise AccessError(self.env._("Only a Multichannel Administrator can register the shop's webhooks."))
        self._check_operator_rights()

    def action_register_webhooks(self):
        """Register order.created / order.updated webhooks on the shop (ours replaced).

        The secret is kept unless ``woo_new_secret`` is in the context; the delivery URL
        is checked first as the shop's WordPress will check it, then the ping."""
        self._woo_check_manager()
        self.ensure_one()
        channel = self.sudo()
        url = channel.woo_webhook_url
        problem = "" if channel._woo_shop_is_local() else translated(self.env, delivery_url_problem(url))
        if problem:
            raise UserError(
                self.env._(
                    "The shop could not deliver its webhooks to %(url)s: %(problem)s. Orders still arrive by polling.",
                    url=url,
                    problem=problem,
                )
            )
        secret = channel.woo_webhook_secret
        if self.env.context.get("woo_new_secret"):
            self._check_may_renew_webhook_secret()  # the context comes with any RPC call
        if not secret or self.env.context.get("woo_new_secret"):
            secret = secrets.token_urlsafe(32)
        window = channel._woo_open_ping_window()
        try:
            ids = channel._get_adapter().register_webhooks(url, secret)
            pinged = channel._woo_pinged(ids)
        except (ChannelError, TransportError) as error:
            raise UserError(self.env._("Registering the webhooks failed: %s", translated(self.env, error))) from None
        finally:
            channel._woo_close_ping_window(window)
        channel.write({"woo_webhook_secret": secret, "woo_webhook_ids": ", ".join(ids)})
        if pinged:
            channel.write(
                {
                    "woo_webhook_status": "active",
                    "woo_webhook_problem": False,
                    "woo_webhook_checked_at": fields.Datetime.now(),
                }
            )
            return self._notify(self.env._("Webhooks registered on the shop: %s.", ", ".join(ids)))
        message = self.env._(
            "The shop created the webhooks (%(ids)s) but its test delivery (ping) did not reach Odoo at %(url)s: "
            "check that this address is reachable from the shop (public https on port 443, no firewall or "
            "login page in front). The shop disables a webhook after 5 failed deliveries; orders still arrive "
            "by polling.",
            ids=", ".join(ids),
            url=url,
        )
        channel.write({"woo_webhook_problem": message, "woo_webhook_status": "no ping"})
        action = self._notify(message)
        action["params"].update(type="warning", sticky=True)
        return action

    def action_register_webhooks_new_secret(self):
        self._check_may_renew_webhook_secret()
        return self.with_context(woo_new_secret=True).action_register_webhooks()

    def _check_may_renew_webhook_secret(self):
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only a Settings administrator can give the shop a new webhook secret."))

    def _sends_credentials_elsewhere(self, vals):
        # the keys in the query string land in the shop's and its proxies' access logs
        return super()._sends_credentials_elsewhere(vals) or any(
            field in vals and any(channel[field] != vals[field] for channel in self)
            for field in ("woo_url", "woo_query_auth")
        )

    def _woo_open_ping_window(self):
        """Open the time in which the webhook controller notes the creation pings of this
        channel's webhooks; committed at once, through a cursor of its own, for the
        controller's transaction to see it while the registration still runs. Returns the
        window's value: a registration started meanwhile opens its own, which this one's
        end leaves open."""
        until = fields.Datetime.now() + PING_WINDOW
        window = f"{fields.Datetime.to_string(until)}|{secrets.token_hex(8)}"
        with self.env.registry.cursor() as cr:
            self.env(cr=cr)["ir.config_parameter"].sudo().set_param(PING_WINDOW_PARAM % self.id, window)
        return window

    def _woo_close_ping_window(self, window):
        with self.env.registry.cursor() as cr:
            params = self.env(cr=cr)["ir.config_parameter"].sudo()
            if params.get_param(PING_WINDOW_PARAM % self.id) == window:
                params.set_param(PING_WINDOW_PARAM % self.id, False)
                params.set_param(PING_PARAM % self.id, False)

    def _woo_pinged(self, ids):
        """Whether the creation pings of webhooks ``ids`` reached the controller.

        Read through a new cursor: the controller committed them in its own transaction."""
        key = PING_PARAM % self.id
        with self.env.registry.cursor() as cr:
            seen = (self.env(cr=cr)["ir.config_parameter"].sudo().get_param(key) or "").split()
        return all(webhook_id in seen for webhook_id in ids)

    def action_check_webhooks(self):
        self._woo_check_manager()
        self.ensure_one()
        self.sudo()._woo_check_webhooks()
        return self._notify(self.env._("Webhooks on the shop: %s", self.sudo().woo_webhook_status or "-"))

    def _woo_check_webhooks(self):
        """Read our webhooks' status on the shop, re-activate disabled ones, register
        missing ones (with the same secret), and show it on the channel."""
        for channel in self:
            url = channel.woo_webhook_url
            try:
                adapter = channel._get_adapter()
                statuses = adapter.webhook_status(url, reactivate=True)
                missing = [topic for topic in TOPICS if topic not in statuses]
                if missing and channel.woo_webhook_secret:
                    problem = "" if channel._woo_shop_is_local() else translated(self.env, delivery_url_problem(url))
                    if problem:
                        raise ChannelError(problem)
                    ids = adapter.register_webhooks(url, channel.woo_webhook_secret)
                    channel.woo_webhook_ids = ", ".join(ids)
                    statuses = dict.fromkeys(TOPICS, "registered again")
            except CALL_ERRORS as error:
                channel.write(
                    {
                        "woo_webhook_problem": self.env._(
                            "Checking the webhooks failed: %s", translated(self.env, as_channel_error(error))
                        ),
                        "woo_webhook_checked_at": fields.Datetime.now(),
                    }
                )
                continue
            text = ", ".join(f"{topic}: {status}" for topic, status in sorted(statuses.items())) or "none"
            channel.write(
                {
                    "woo_webhook_status": text,
                    "woo_webhook_problem": False if statuses else self.env._("No webhook of ours on the shop."),
                    "woo_webhook_checked_at": fields.Datetime.now(),
                }
            )

    @api.model
    def _cron_woo_webhooks(self):
        channels = self.search([("channel_type", "=", "woocommerce"), ("woo_webhook_ids", "!=", False)])
        # the push crons write the same channel rows meanwhile: wait for them, never fail on them
        with read_committed(self.env.cr):
            for channel in channels:
                channel._woo_check_webhooks()
                self.env.cr.commit()  # pylint: disable=invalid-commit

    # ------------------------------------------------------------------
    # orders that left the shop
    # ------------------------------------------------------------------
    def _import_orders(self, auto_commit=False):
        all_read = super()._import_orders(auto_commit=auto_commit)
        for channel in self.filtered(lambda c: c.channel_type == "woocommerce"):
            channel._woo_recheck_open_orders(auto_commit=auto_commit)
        return all_read

    def _woo_recheck_open_orders(self, auto_commit=False, older_than=RECHECK_AFTER):
        """Re-read open orders (held, in error, not imported yet) not seen for a while.

        The shop deletes checkout drafts (and an admin may delete any order) without a
        webhook, and polling by modification date never sees a deletion: an order the
        shop answers 404 for is settled here, so it stops holding stock."""
        self.ensure_one()
        Order = self.env["multichannel.order"].sudo()
        limit = fields.Datetime.now() - older_than
        orders = Order.search(
            [
                ("channel_id", "=", self.id),
                ("state", "in", ("received", "pending", "error")),
                ("external_id", "!=", False),
                ("external_id", "not like", f"{UNIDENTIFIED_PREFIX}%"),  # stored without the shop's id: nothing to read
                ("create_date", "<", limit),
                "|",
                ("woo_checked_at", "=", False),
                ("woo_checked_at", "<", limit),
            ],
            order="woo_checked_at asc nulls first, id",
            limit=RECHECK_BATCH,
        )
        if not orders:
            return
        adapter = self._get_adapter()
        for order in orders:
            # to the back of the line, answered or not: an order the shop cannot answer
            # for never stops the others from being re-read
            order.woo_checked_at = fields.Datetime.now()
            try:
                raw = self._call(adapter.read_order, order.external_id)
            except (ChannelError, TransportError) as error:
                _logger.info("%s: re-reading order %s failed: %s", self.name, order.name, error)
                self._commit(auto_commit)
                if self._woo_refused_this_order_only(error):
                    continue
                return
            if raw is None:
                message = self.env._(
                    "No longer on the shop (deleted, or a checkout draft that was never placed): not imported, "
                    "no longer counted against stock."
                )
                order._close("skipped", warning=message, error=False)
                self.env["multichannel.ledger"]._log_order(order, "order", "ok", message)
            else:
                data = adapter.normalized_order(raw)
                previous = (order.payload or {}).get("raw") if isinstance(order.payload, dict) else None
                if not isinstance(previous, dict) or previous.get("status") != raw.get("status"):
                    Order._receive(self, data)
            self._commit(auto_commit)

    @api.model
    def _woo_refused_this_order_only(self, error):
        """Whether the shop refused one order's read (the next ones may be read), rather
        than being unreachable, refusing the keys or answering for no route at all."""
        return isinstance(error, WooRefused) and not isinstance(error, WooAccessError) and error.code != "rest_no_route"

    # ------------------------------------------------------------------
    # variations sharing their parent's stock
    # ------------------------------------------------------------------
    def _listing_values(self, offer):
        values = super()._listing_values(offer)
        if isinstance(offer, ShopOffer):
            values["external_stock_on_parent"] = offer.stock_on_parent
        return values

    def _with_shared_stock(self, bindings):
        """Variations whose stock the shop keeps on their parent show one quantity: when
        one of them is pushed, all of them are looked at together."""
        bindings = super()._with_shared_stock(bindings)
        parents = set(bindings.filtered("external_stock_on_parent").mapped("external_parent_id")) - {False}
        if not parents:
            return bindings
        siblings = bindings._sharing_the_parents(self.id, parents)
        shared = siblings.sorted(lambda b: (b.external_parent_id, b.id))
        return shared | (bindings - shared)

    def _follow_shown_stock_keeping(self, listings, shown):
        """A variation the shop's admin switched to its own stock, or to its parent's, is
        pushed where the shop now keeps it: else its own quantity, or the parent's, would
        never be set again (the push writing to the other one)."""
        changed = super()._follow_shown_stock_keeping(listings, shown)
        for listing in listings.filtered("external_parent_id"):
            item = shown[listing.external_id]
            if not isinstance(item, ShopShownItem) or item.stock_on_parent == listing.external_stock_on_parent:
                continue
            changed[listing.id] = tuple(
                f"stock on product {listing.external_parent_id}" if on_parent else "stock of its own"
                for on_parent in (listing.external_stock_on_parent, item.stock_on_parent)
            )
            listing.external_stock_on_parent = item.stock_on_parent
        return changed

    def _shown_stock_targets(self, bindings):
        """A variation whose stock the shop keeps on its parent shows the scarcest of every
        variation of that parent (all of them are looked up, so the minimum never depends
        on which listings happen to be in this chunk or batch)."""
        every = self._with_shared_stock(bindings)
        targets = super()._shown_stock_targets(every)
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
