from odoo import api, models


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.bom_id._multichannel_kits_changed()
        return lines

    def write(self, vals):
        before = self._multichannel_components()
        result = super().write(vals)
        self.bom_id._multichannel_kits_changed(before | self._multichannel_components())
        return result

    def unlink(self):
        self.bom_id._multichannel_kits_changed(self._multichannel_components())
        return super().unlink()

    def _multichannel_components(self):
        """The components of these lines of kits: one that leaves a kit is freed of what the
        kit's held orders took of it."""
        return self.filtered(lambda line: line.bom_id.type == "phantom").product_id
