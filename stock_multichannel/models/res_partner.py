from odoo import models
from odoo.tools import SQL
from odoo.tools.sql import create_index

# the channels' customers are looked up by e-mail, by VAT number, or by phone and name
# among the contacts without a parent, at every order imported: without these, each
# lookup reads every contact (an e-mail compared case-insensitively uses no index of Odoo)
CUSTOMER_INDEXES = {
    "multichannel_res_partner_email_index": "lower(email)",
    "multichannel_res_partner_phone_index": "phone",
}


class ResPartner(models.Model):
    _inherit = "res.partner"

    def init(self):
        result = super().init()
        for name, expression in CUSTOMER_INDEXES.items():
            create_index(self.env.cr, name, self._table, [expression], where="parent_id IS NULL")
        return result

    def _multichannel_customer(self, company, email="", vat="", phone="", name="", is_company=False):
        """The company's (or a shared) contact without a parent, and of no user nor company,
        that is this customer: the same e-mail address, case aside; else the same VAT
        number; else the same phone *and* the same name, case aside. Among several, the
        first in Odoo's order.

        A VAT number names a legal entity: a company's order with one looks for it first,
        and a contact holding another one is never taken for it (one person's e-mail,
        buying for two firms). By e-mail or phone, a company only for a company's order
        and a person only for a person's: one who bought privately and now buys for their
        firm is invoiced to the firm, and back."""
        self.flush_model(
            ["email", "vat", "phone", "name", "complete_name", "parent_id", "active", "company_id", "is_company"]
        )
        for query in self._multichannel_customer_queries(company, email, vat, phone, name, is_company):
            self.env.cr.execute(query)
            row = self.env.cr.fetchone()
            if row:
                return self.browse(row[0])
        return self.browse()

    def _multichannel_customer_queries(self, company, email, vat, phone, name, is_company=False):
        """One indexed query per criterion given, in the order they are tried."""
        kind = SQL("is_company") if is_company else SQL("is_company IS NOT TRUE")
        same_vat = SQL("(vat IS NULL OR vat = '' OR vat = %s)", vat) if vat else SQL("true")
        by_vat = [SQL("vat = %s", vat)] if vat else []
        criteria = by_vat if is_company else []
        if email:
            criteria.append(SQL("lower(email) = lower(%s) AND %s AND %s", email, kind, same_vat))
        if not is_company:
            criteria += by_vat
        if phone and name:
            criteria.append(SQL("phone = %s AND lower(name) = lower(%s) AND %s AND %s", phone, name, kind, same_vat))
        # the few contacts matching first, then Odoo's order among them: a planner offered
        # the order and a limit of 1 may walk every contact by name instead. Never a user's
        # contact nor a company's: what a buyer typed is not checked, and a portal user
        # follows the sale orders of their contact (they would read a stranger's order)
        return [
            SQL(
                """
                WITH matching AS MATERIALIZED (
                    SELECT id, complete_name FROM res_partner
                     WHERE %s AND parent_id IS NULL AND active AND (company_id = %s OR company_id IS NULL)
                )
                SELECT id FROM matching
                 WHERE NOT EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = matching.id)
                   AND NOT EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = matching.id)
                 ORDER BY complete_name, id DESC LIMIT 1
                """,
                criterion,
                company.id,
            )
            for criterion in criteria
        ]
