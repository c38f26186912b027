from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    multichannel_cover_days = fields.Integer(related="company_id.multichannel_cover_days", readonly=False)
    multichannel_lead_days = fields.Integer(related="company_id.multichannel_lead_days", readonly=False)
