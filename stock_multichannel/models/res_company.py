from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    multichannel_cover_days = fields.Integer(
        "Sales Days for Stock Cover",
        default=30,
        help="How many days of past sales the stock cover report averages to get each product's daily sales.",
    )
    multichannel_lead_days = fields.Integer(
        "Replenishment Lead Time (days)",
        default=7,
        help="Days between ordering stock and receiving it, for products without a vendor delay.",
    )

    @api.constrains("multichannel_cover_days", "multichannel_lead_days")
    def _check_multichannel_cover_settings(self):
        for company in self:
            if company.multichannel_cover_days < 1:
                raise ValidationError(self.env._("The stock cover report needs at least one day of sales."))
            if company.multichannel_lead_days < 0:
                raise ValidationError(self.env._("A replenishment lead time cannot be negative."))

    def write(self, vals):
        changed = self.filtered(
            lambda company: (
                "account_price_include" in vals and company.account_price_include != vals["account_price_include"]
            )
        )
        result = super().write(vals)
        if changed:
            # the taxes that leave it to their company now include the price, or no longer,
            # for its branches too (they sell with their parent's taxes)
            channels = self.env["multichannel.channel"].sudo().search([("company_id", "child_of", changed.ids)])
            self.env["multichannel.sync.request"]._queue_prices_again_on(channels, "tax change")
        return result
