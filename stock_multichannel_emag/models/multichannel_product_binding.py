from odoo import api, fields, models


class MultichannelProductBinding(models.Model):
    _inherit = "multichannel.product.binding"

    emag_create_offer = fields.Boolean(
        "Create on eMAG",
        copy=False,
        help="The offer does not exist on eMAG yet: the next push creates it (product_offer/save), "
        "attached to eMAG's catalogue by the part number key or the barcode.",
    )
    emag_part_number_key = fields.Char("eMAG PNK", help="eMAG's catalogue key of the product, to attach the offer.")

    @api.model_create_multi
    def create(self, vals_list):
        listings = super().create(vals_list)
        listings._emag_default_offer_id()
        return listings

    def write(self, vals):
        result = super().write(vals)
        if vals.get("emag_create_offer"):
            self._emag_default_offer_id()
        return result

    def _emag_default_offer_id(self):
        """A new offer needs an id chosen by the seller: the product's id by default."""
        for listing in self.filtered(lambda b: b.emag_create_offer and not b.external_id):
            listing.external_id = str(listing.product_id.id)

    def _emag_vat(self):
        """The product's own VAT for eMAG's net prices: its sales taxes in the channel's company.

        {} when the product has no percent sales tax (the channel's rate applies then).
        """
        company = self.channel_id.company_id
        taxes = (
            self.product_id.sudo()
            .taxes_id.filtered_domain(self.env["account.tax"]._check_company_domain(company))
            .filtered(lambda tax: tax.amount_type == "percent")
        )
        if not taxes:
            return {}
        rate = sum(taxes.mapped("amount"))
        return {
            "tax_rate": rate,
            "price_includes_tax": any(taxes.mapped("price_include")),
            "vat_id": self.channel_id._emag_vat_id(rate),
        }

    def _extra(self):
        extra = super()._extra()
        if self.channel_id.channel_type == "emag":
            extra.update(self._emag_vat())
        if self.emag_create_offer and self.channel_id.channel_type == "emag":
            channel = self.channel_id
            extra.update(
                {
                    "emag_create": True,
                    "quantity": channel._stock_targets(self)[self.id],
                    "price": channel._price_targets(self)[self.id],
                    "regular_price": channel._regular_prices(self)[self.id],
                    "name": self.product_id.name,
                    "part_number": self.product_id.default_code or "",
                    "part_number_key": self.emag_part_number_key or "",
                    "ean": self.product_id.barcode or "",
                }
            )
        return extra

    @api.model
    def _apply_push_results(self, kind, batch, results, regular_prices=None):
        created = [
            listing.id
            for listing, _target in batch
            if listing.emag_create_offer and results.get(listing.id) and results[listing.id].ok
        ]
        result = super()._apply_push_results(kind, batch, results, regular_prices=regular_prices)
        self.browse(created).write({"emag_create_offer": False})
        return result
