from odoo import fields, models
from odoo.exceptions import UserError

from ..lib.transactions import CONCURRENT_ERRORS


class MultichannelOrder(models.Model):
    """An order the channel sent again with other content, imported as a new order by a person.

    The stored order and its sale order stay as they were, as the trace of what the
    channel first sent; the channel's id now belongs to the new order, so statuses and
    invoices go with the new sale order only.
    """

    _inherit = "multichannel.order"

    replaced_by_id = fields.Many2one(
        "multichannel.order",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The channel sent this order's id again with other content, imported as this order. This "
        "one and its sale order stay as they were and no longer send anything to the channel.",
    )
    replaced_ids = fields.One2many("multichannel.order", "replaced_by_id", "Replaces", readonly=True)

    def action_import_as_new_order(self):
        """Import what the channel sent last under this order's id as a new sale order."""
        self._check_can_import()
        user = self.env.user
        new_orders = self.browse()
        for order in self.sudo():
            try:
                with self.env.cr.savepoint():
                    order._lock()
            except CONCURRENT_ERRORS:
                raise UserError(
                    self.env._("Order %s is being imported by someone else right now; try again.", order.name)
                ) from None
            order.invalidate_recordset()
            if not order.content_changed:
                raise UserError(
                    self.env._(
                        "Order %s was not sent again different by its channel (or was already handled): "
                        "there is nothing to import as a new order.",
                        order.name,
                    )
                )
            new_orders |= order._import_changed_as_new(user)
        if len(new_orders) != 1:
            return True
        return {
            "type": "ir.actions.act_window",
            "res_model": "multichannel.order",
            "res_id": new_orders.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _import_changed_as_new(self, user):
        """This order becomes the trace of the first content; a new order takes the channel's id
        and the content it sent last, and is imported as any order (one reservation, no double
        count: the units held for it move from this order to the new one's sale order)."""
        self.ensure_one()
        old_sale, external_id, changed = self.sale_order_id, self.external_id, self.changed_payload
        self._request_stock_sync((self.pending_quantities or {}).keys())
        self.write(
            {
                "name": self.env._("%s (replaced)", self.name),
                "external_id": False,
                "content_changed": False,
                "changed_payload": False,
                "error": False,
                "pending_quantities": False,
                # nothing more goes to the channel for the first content: the id is the new order's
                "status_to_send": self.status_sent,
            }
        )
        self.flush_recordset()  # the channel's id is free before the new order takes it
        new = self.create(
            {
                "name": self._reference(self.channel_id, changed, external_id),
                "channel_id": self.channel_id.id,
                "external_id": external_id,
                "payload": changed,
                "acknowledged": self.acknowledged,
            }
        )
        self.replaced_by_id = new
        new._refresh_pending_quantities()
        new._process()
        new_sale = new.sale_order_id
        result = new_sale.name or self.env._("not imported yet: %s", new.error or new.warning or new.state)
        values = {"ref": external_id, "old": self.name, "sale": old_sale.name, "new": new.name, "user": user.name}
        self.message_post(
            body=self.env._(
                "%(user)s imported the channel's new content of order %(ref)s as a new order, %(new)s (%(result)s). "
                "This order and sale order %(sale)s stay as they were and no longer send anything to the channel.",
                result=result,
                **values,
            )
        )
        new.message_post(
            body=self.env._(
                "Imported by %(user)s as a new order: the channel sent order %(ref)s again with other content. "
                "It replaces %(old)s (sale order %(sale)s), which stays as it was.",
                **values,
            )
        )
        if old_sale:
            old_sale.message_post(
                body=self.env._(
                    "The channel sent order %(ref)s again with other content; %(user)s imported it as a new "
                    "order (%(result)s). This sale order stays as it was and no longer sends its status to the "
                    "channel: cancel it here if the new order replaces it.",
                    result=result,
                    **values,
                )
            )
        self.env["multichannel.ledger"]._log_order(
            self,
            "order",
            "ok",
            self.env._("Imported as a new order by %(user)s: %(new)s (%(result)s)", result=result, **values),
            old_value=old_sale.name or "",
            new_value=new_sale.name or new.name,
            cause=self.env._("order %s sent again different", external_id),
        )
        return new
