import secrets

from odoo import _, fields, models
from odoo.addons.stock_multichannel.lib.adapter import ChannelError, TransportError
from odoo.exceptions import UserError

from ..api.client import WooClient


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
    woo_timeout = fields.Float("Shop Timeout (s)", default=30.0)
    woo_user_agent = fields.Char(
        "User-Agent", default="Odoo stock_multichannel", help="Some hosts block unusual User-Agents."
    )
    woo_webhook_secret = fields.Char("Webhook Secret", groups="base.group_system", copy=False)
    woo_webhook_ids = fields.Char("Webhook IDs", readonly=True, copy=False)
    woo_webhook_url = fields.Char("Webhook URL", compute="_compute_woo_webhook_url")

    def _compute_woo_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for channel in self:
            channel.woo_webhook_url = f"{base}/multichannel/woocommerce/{channel.id}/webhook" if channel.id else ""

    def _woo_client(self):
        self.ensure_one()
        channel = self.sudo()
        if not (channel.woo_url and channel.woo_key and channel.woo_secret):
            raise ChannelError(_("Set the shop URL, consumer key and consumer secret of %s.", self.name))
        return WooClient(
            channel.woo_url,
            channel.woo_key,
            channel.woo_secret,
            timeout=channel.woo_timeout or 30.0,
            user_agent=channel.woo_user_agent,
            query_string_auth=channel.woo_query_auth,
        )

    def action_register_webhooks(self):
        """Create order.created / order.updated webhooks on the shop, signed with a new secret."""
        self.ensure_one()
        secret = secrets.token_urlsafe(32)
        try:
            ids = self._get_adapter().register_webhooks(self.woo_webhook_url, secret)
        except (ChannelError, TransportError) as error:
            raise UserError(_("Registering the webhooks failed: %s", error)) from None
        self.sudo().write({"woo_webhook_secret": secret, "woo_webhook_ids": ", ".join(ids)})
        return self._notify(_("Webhooks registered on the shop: %s.", ", ".join(ids)))
