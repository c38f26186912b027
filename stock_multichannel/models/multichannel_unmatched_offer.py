from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class MultichannelUnmatchedOffer(models.Model):
    """An offer found on a channel that no product could be matched to."""

    _name = "multichannel.unmatched.offer"
    _description = "Channel Offer to Match"
    _order = "channel_id, name"
    _check_company_auto = True

    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    external_id = fields.Char("External ID", required=True)
    external_parent_id = fields.Char("External Parent ID")
    sku = fields.Char("SKU")
    barcode = fields.Char()
    name = fields.Char()
    reason = fields.Char(readonly=True)
    product_id = fields.Many2one("product.product", "Match With", domain="[('type', '=', 'consu')]", check_company=True)

    _sql_constraints = [
        ("external_uniq", "unique(channel_id, external_id)", "This offer is already in the list."),
    ]

    @api.model
    def _remember(self, channel, offer, product):
        reason = (
            self.env._("%s is already listed on this channel under another offer.", product.display_name)
            if product
            else self.env._("No product with this SKU or barcode.")
        )
        values = {
            "channel_id": channel.id,
            "external_id": offer.external_id,
            "sku": offer.sku,
            "barcode": offer.barcode,
            "name": offer.name,
            "external_parent_id": offer.parent_id,
            "reason": reason,
        }
        # what the channel sent, written by the import (a user chooses only the product)
        existing = self.search([("channel_id", "=", channel.id), ("external_id", "=", offer.external_id)])
        if existing:
            existing.sudo().write(values)
            return existing
        return self.create(values)

    def write(self, vals):
        # the record rules are checked before a write, not on the channel it would point to
        if not self.env.su and set(vals) - {"product_id"}:
            raise AccessError(
                self.env._("An offer to match is what the channel sent: only the product it matches is chosen here.")
            )
        return super().write(vals)

    def action_link(self):
        """List the chosen product under this offer."""
        for offer in self:
            if not offer.product_id:
                raise UserError(self.env._("Choose the product of offer %s first.", offer.name or offer.external_id))
            self.env["multichannel.product.binding"].create(
                {
                    "channel_id": offer.channel_id.id,
                    "product_id": offer.product_id.id,
                    "external_id": offer.external_id,
                    "external_sku": offer.sku or False,
                    "external_parent_id": offer.external_parent_id or False,
                }
            )
        # linked: no longer an offer to match (who may list it may see it leave the list)
        self.sudo().unlink()
        return True
