from odoo import api, models


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.bom_id._multichannel_kits_changed()
        return lines

    def write(self, vals):
        result = super().write(vals)
        self.bom_id._multichannel_kits_changed()
        return result

    def unlink(self):
        self.bom_id._multichannel_kits_changed()
        return super().unlink()
