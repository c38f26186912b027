from odoo import fields, models
from odoo.exceptions import AccessError


class AccountMove(models.Model):
    _inherit = "account.move"

    multichannel_channel_id = fields.Many2one(
        "multichannel.channel", "Sales Channel", readonly=True, index="btree_not_null", check_company=True
    )

    def write(self, vals):
        # set from the sale order when the invoice is made: Invoice Analysis groups by it
        if "multichannel_channel_id" in vals and not self.env.su:
            raise AccessError(self.env._("An invoice's sales channel is its sale order's: it is not changed by hand."))
        return super().write(vals)
