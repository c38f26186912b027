from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    multichannel_channel_id = fields.Many2one(
        "multichannel.channel", "Sales Channel", readonly=True, index="btree_not_null"
    )
