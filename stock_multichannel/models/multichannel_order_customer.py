"""The channel's customer as Odoo contacts: matched to an existing one, else created with its addresses."""

from odoo import models


class MultichannelOrder(models.Model):
    _inherit = "multichannel.order"

    def _customer_partners(self, data, problems):
        """(invoice partner, delivery partner), found or created."""
        customer = data["customer"]
        delivery_data = data["shipping_address"] or customer
        missing = [
            label
            for key, label in (("street", self.env._("street")), ("city", self.env._("city")))
            if not delivery_data.get(key)
        ]
        country = self._country(delivery_data)
        if not country:
            missing.append(self.env._("country"))
        if missing:
            problems.append(self.env._("The delivery address lacks: %s.", ", ".join(missing)))
            return self.env["res.partner"], self.env["res.partner"]
        partner = self._match_partner(customer) or self._create_partner(customer)
        delivery = partner
        if data["shipping_address"] and not self._same_address(partner, data["shipping_address"]):
            # a shared customer may have a delivery address of another company's channel
            usable = partner.child_ids.filtered_domain(partner._check_company_domain(self.channel_id.company_id))
            delivery = usable.filtered(
                lambda p: p.type == "delivery" and self._same_address(p, data["shipping_address"])
            )[:1]
            delivery = delivery or self._create_partner(data["shipping_address"], parent=partner)
        return partner, delivery

    def _match_partner(self, customer):
        """The customer's existing contact, never someone else's.

        The same e-mail address; else the same VAT number (a legal entity's own); else the
        same phone *and* the same name (a phone is shared by families and offices). Anything
        else is a new contact: merging two people would hand one the other's orders,
        invoices and address.
        """
        is_company = bool(customer.get("is_company") and customer.get("company"))
        name = (customer.get("company") if is_company else customer.get("name")) or ""
        Partner = self.env["res.partner"].sudo()
        vat = (customer.get("vat") or "").strip()
        if vat and hasattr(Partner, "_fix_vat_number"):
            # as Odoo's VAT module stores it ("ro 123" as "RO123"), so that it is found again
            vat = Partner._fix_vat_number(vat, self._country(customer).id)
        return Partner._multichannel_customer(
            self.channel_id.company_id,
            email=(customer.get("email") or "").strip(),
            vat=vat,
            phone=(customer.get("phone") or "").strip(),
            name=name.strip(),
            is_company=is_company,
        )

    def _country(self, address):
        code = address.get("country_code")
        country = code and self.env["res.country"].search([("code", "=", code)], limit=1)
        return country or self.channel_id.customer_country_id

    def _same_address(self, partner, address):
        return all(
            (partner[field] or "").strip().lower() == (address.get(key) or "").strip().lower()
            for key, field in (("street", "street"), ("city", "city"), ("zip", "zip"))
        )

    def _create_partner(self, address, parent=None):
        country = self._country(address)
        state = address.get("state") and self.env["res.country.state"].search(
            [
                ("country_id", "=", country.id),
                "|",
                ("code", "=ilike", address["state"]),
                ("name", "=ilike", address["state"]),
            ],
            limit=1,
        )
        is_company = bool(address.get("is_company") and address.get("company") and not parent)
        values = {
            "name": (address["company"] if is_company else address.get("name")) or address.get("company"),
            "is_company": is_company,
            "email": address.get("email") or False,
            "phone": address.get("phone") or False,
            "street": address.get("street") or False,
            "street2": address.get("street2") or False,
            "city": address.get("city") or False,
            "zip": address.get("zip") or False,
            "country_id": country.id,
            "state_id": state.id if state else False,
            "company_id": self.channel_id.company_id.id,
        }
        if self.channel_id.customer_lang:
            values["lang"] = self.channel_id.customer_lang
        if parent:
            values.update(parent_id=parent.id, type="delivery")
        elif address.get("vat"):
            values["vat"] = address["vat"]
        # the channel checked the number or took it as typed: a number Odoo's VAT check would
        # refuse (a marketplace's customer typed it so) must not keep the order out of Odoo
        return self.env["res.partner"].sudo().with_context(no_vat_validation=True).create(values)
