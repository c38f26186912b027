import secrets

from odoo import api, fields, models
from odoo.addons.stock_multichannel.lib.adapter import ChannelError
from odoo.exceptions import AccessError, ValidationError

from ..adapter import EmagAdapter
from ..api import ratelimit
from ..api.client import EmagClient
from ..const import CANCEL_REASONS, PLATFORMS


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    channel_type = fields.Selection(selection_add=[("emag", "eMAG Marketplace")], ondelete={"emag": "set default"})
    emag_platform = fields.Selection(
        [(key, value[0]) for key, value in PLATFORMS.items()], "eMAG Platform", default="ro"
    )
    emag_base_url = fields.Char(
        "API URL",
        compute="_compute_emag_base_url",
        store=True,
        readonly=False,
        help="Set by the platform; point it elsewhere only for a test server or simulator.",
    )
    emag_username = fields.Char("API Username", groups="base.group_system", copy=False)
    emag_password = fields.Char("API Password", groups="base.group_system", copy=False)
    emag_warehouse_id = fields.Integer("eMAG Warehouse ID", default=1)
    emag_handling_time = fields.Integer("Handling Time (days)", default=1)
    emag_vat_rate = fields.Float("VAT Rate (%)", default=21.0, help="Rate of the offers' prices.")
    emag_vat_id = fields.Integer("eMAG VAT ID", default=1, help="Filled by Test Connection from eMAG's VAT list.")
    emag_min_price_percent = fields.Float(
        "Minimum Price (% below)", default=20.0, help="min_sale_price sent with each price: sale price minus this %."
    )
    emag_max_price_percent = fields.Float(
        "Maximum Price (% above)", default=50.0, help="max_sale_price sent with each price: sale price plus this %."
    )
    emag_cancel_reason = fields.Selection(
        CANCEL_REASONS, "Cancellation Reason", default="31", help="Sent to eMAG when an order is cancelled in Odoo."
    )
    emag_timeout = fields.Float("eMAG Timeout (s)", default=30.0)
    emag_vat_ids = fields.Json(
        "eMAG VAT IDs", readonly=True, copy=False, help="{rate in percent: eMAG vat_id}, read by Test Connection."
    )
    emag_callback_token = fields.Char(
        "Callback Token",
        groups="base.group_system",
        copy=False,
        help="Secret part of the callback URL: only eMAG, which has the URL, can make Odoo read an order.",
    )
    emag_callback_url = fields.Char(
        "Callback URL",
        compute="_compute_emag_callback_url",
        groups="base.group_system",
        help="Paste it in eMAG's seller settings as the callback URL of new orders, cancellations and "
        "returns: eMAG calls it with ?order_id=…, and Odoo reads that order at once.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels._emag_ensure_callback_token()
        return channels

    def _sends_credentials_elsewhere(self, vals):
        official = {platform[1] for platform in PLATFORMS.values()}
        return super()._sends_credentials_elsewhere(vals) or (
            "emag_base_url" in vals
            and vals["emag_base_url"] not in official
            and any(channel.emag_base_url != vals["emag_base_url"] for channel in self)
        )

    def write(self, vals):
        result = super().write(vals)
        if vals.get("channel_type") == "emag":
            self._emag_ensure_callback_token()
        return result

    def _emag_ensure_callback_token(self):
        for channel in self.sudo().filtered(lambda c: c.channel_type == "emag" and not c.emag_callback_token):
            channel.emag_callback_token = secrets.token_urlsafe(32)

    @api.depends("emag_callback_token")
    def _compute_emag_callback_url(self):
        for channel in self:
            token = channel.sudo().emag_callback_token
            channel.emag_callback_url = (
                f"{channel.get_base_url()}/multichannel/emag/{channel.id}/{token}"
                if channel.id and token and channel.channel_type == "emag"
                else False
            )

    def action_emag_new_callback_token(self):
        """A new secret for the callback URL (the old URL stops working at once)."""
        self._check_operator_rights()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only a Settings administrator sees and changes the eMAG callback URL."))
        for channel in self.sudo().filtered(lambda c: c.channel_type == "emag"):
            channel.emag_callback_token = secrets.token_urlsafe(32)
        return True

    @api.depends("emag_base_url", "emag_username", "emag_password")
    def _compute_is_configured(self):
        return super()._compute_is_configured()

    def _connection_ready(self):
        if self.channel_type != "emag":
            return super()._connection_ready()
        return bool(self.emag_base_url and self.emag_username and self.emag_password)

    @api.depends("emag_platform")
    def _compute_emag_base_url(self):
        for channel in self:
            channel.emag_base_url = PLATFORMS.get(channel.emag_platform, PLATFORMS["ro"])[1]

    @api.constrains("channel_type", "emag_platform", "pricelist_id")
    def _check_emag_currency(self):
        for channel in self.filtered(lambda c: c.channel_type == "emag"):
            currency = PLATFORMS[channel.emag_platform][2]
            if channel.pricelist_id.currency_id.name != currency:
                raise ValidationError(
                    self.env._(
                        "%(platform)s sells in %(currency)s: choose a pricelist in %(currency)s for %(channel)s.",
                        platform=PLATFORMS[channel.emag_platform][0],
                        currency=currency,
                        channel=channel.name,
                    )
                )

    @api.constrains("emag_min_price_percent", "emag_max_price_percent", "emag_warehouse_id")
    def _check_emag_numbers(self):
        for channel in self.filtered(lambda c: c.channel_type == "emag"):
            if not 0 <= channel.emag_min_price_percent < 100 or channel.emag_max_price_percent < 0:
                raise ValidationError(
                    self.env._("The minimum price lies 0 to 99% below, the maximum 0% or more above.")
                )
            if channel.emag_warehouse_id < 1:
                raise ValidationError(self.env._("The eMAG warehouse ID is 1 or more."))

    def _adapter_class(self):
        if self.channel_type == "emag":
            return EmagAdapter
        return super()._adapter_class()

    @api.model
    def _cron_xmlid(self, kind):
        return "stock_multichannel_emag.ir_cron_emag_invoices" if kind == "emag_invoice" else super()._cron_xmlid(kind)

    @api.model
    def _connected_types(self):
        return [*super()._connected_types(), "emag"]

    def _emag_client(self):
        self.ensure_one()
        channel = self.sudo()
        if not channel.emag_username or not channel.emag_password:
            raise ChannelError(self.env._("Set the eMAG API username and password of %s.", self.name))
        client = EmagClient(
            channel.emag_base_url, channel.emag_username, channel.emag_password, timeout=channel.emag_timeout or 30.0
        )
        # eMAG counts per account whoever calls: every worker and server shares one window
        client.limiters = {
            kind: self._shared_rate_limit(f"emag:{client.account}:{kind}", ratelimit.LIMITS[kind], ratelimit.WINDOW)
            for kind in ("order", "other")
        }
        return client

    def _emag_settings(self):
        self.ensure_one()
        return {
            "warehouse_id": self.emag_warehouse_id or 1,
            "handling_time": self.emag_handling_time,
            "vat_rate": self.emag_vat_rate,
            "vat_id": self.emag_vat_id,
            "vat_ids": self.emag_vat_ids or {},
            "platform": PLATFORMS[self.emag_platform or "ro"][0],
            "min_percent": self.emag_min_price_percent,
            "max_percent": self.emag_max_price_percent,
            "cancel_reason": int(self.emag_cancel_reason or 31),
            "currency": PLATFORMS[self.emag_platform or "ro"][2],
            "timezone": PLATFORMS[self.emag_platform or "ro"][3],
        }

    def action_test_connection(self):
        action = super().action_test_connection()
        for channel in self.filtered(lambda c: c.channel_type == "emag"):
            rates = channel._get_adapter().vat_rates()
            vat_id = rates.get(round(channel.emag_vat_rate, 2))
            values = {"emag_vat_ids": {f"{rate:g}": ident for rate, ident in rates.items()}}
            if vat_id:
                values["emag_vat_id"] = vat_id
            channel.write(values)
        return action

    def _emag_vat_id(self, rate):
        """eMAG's vat_id of ``rate`` percent, as Test Connection read it; False when unknown."""
        self.ensure_one()
        return (self.emag_vat_ids or {}).get(f"{round(rate, 2):g}") or False
