from odoo import models

# what makes the same price in Odoo another price with, or without, the tax
TAX_TERMS = {"amount", "amount_type", "price_include_override", "children_tax_ids", "active", "company_id"}


class AccountTax(models.Model):
    _inherit = "account.tax"

    def write(self, vals):
        result = super().write(vals)
        if TAX_TERMS.intersection(vals):
            taxes = self | self.sudo().search([("children_tax_ids", "in", self.ids)])  # groups holding them
            templates = (
                self.env["product.template"]
                .sudo()
                .with_context(active_test=False)
                .search([("taxes_id", "in", taxes.ids)])
            )
            if templates:
                self.env["multichannel.sync.request"]._queue_prices_again(
                    templates.product_variant_ids.ids, "tax change"
                )
            # the tax a channel's fiscal position applies instead of the products' own
            mappings = self.env["account.fiscal.position.tax"].sudo().search([("tax_dest_id", "in", taxes.ids)])
            mappings.position_id._multichannel_resend_prices()
        return result
