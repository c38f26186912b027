from odoo import fields, models


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    woo_checked_at = fields.Datetime("Re-read from the Shop", readonly=True, copy=False)
