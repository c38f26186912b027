from odoo import api, fields, models

PRICE_FIELDS = {"list_price", "lst_price", "taxes_id"}


class ProductProduct(models.Model):
    _inherit = "product.product"

    multichannel_binding_ids = fields.One2many("multichannel.product.binding", "product_id", "Channel Listings")


class ProductTemplate(models.Model):
    _inherit = "product.template"

    multichannel_binding_ids = fields.Many2many(
        "multichannel.product.binding", compute="_compute_multichannel_binding_ids", string="Channel Listings"
    )

    @api.depends("product_variant_ids.multichannel_binding_ids")
    def _compute_multichannel_binding_ids(self):
        for template in self:
            template.multichannel_binding_ids = template.product_variant_ids.multichannel_binding_ids

    def write(self, vals):
        result = super().write(vals)
        if PRICE_FIELDS.intersection(vals):
            self.env["multichannel.product.binding"]._request_sync(
                "price", "price change", product_ids=self.with_context(active_test=False).product_variant_ids.ids
            )
        return result


class ProductTemplateAttributeValue(models.Model):
    _inherit = "product.template.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if "price_extra" in vals:
            self.env["multichannel.product.binding"]._request_sync(
                "price", "variant price change", product_ids=self.ptav_product_variant_ids.ids
            )
        return result


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._multichannel_request_sync()
        return items

    def write(self, vals):
        result = super().write(vals)
        self._multichannel_request_sync()
        return result

    def unlink(self):
        self._multichannel_request_sync()
        return super().unlink()

    def _multichannel_request_sync(self):
        """Every listing priced by a pricelist these items touch, directly or as a base."""
        pricelists = self.pricelist_id
        dependants = (
            self.env["product.pricelist.item"]
            .sudo()
            .search([("base", "=", "pricelist"), ("base_pricelist_id", "in", pricelists.ids)])
            .pricelist_id
        )
        self.env["multichannel.product.binding"]._request_sync(
            "price", "pricelist change", pricelist_ids=(pricelists | dependants).ids
        )
