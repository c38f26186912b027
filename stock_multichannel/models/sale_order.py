from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare
from odoo.tools.sql import create_index, drop_index

# what ties a sale order to the channel's order: a cancel or a delivery of the sale order
# is sent to the channel as that order's, so only the import sets them; and what the import
# found (the oversell incidents and totals the dashboard and reports count)
CHANNEL_LINK_FIELDS = {
    "multichannel_channel_id",
    "multichannel_external_ref",
    "multichannel_order_id",
    "multichannel_oversold",
    "multichannel_oversold_qty",
    "multichannel_total_mismatch",
}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # indexed in init(), for the channels' orders only
    multichannel_channel_id = fields.Many2one("multichannel.channel", "Sales Channel", readonly=True, copy=False)
    multichannel_external_ref = fields.Char("Channel Order ID", readonly=True, copy=False)
    multichannel_order_id = fields.Many2one("multichannel.order", "Channel Order", readonly=True, copy=False)
    multichannel_oversold = fields.Boolean(
        "Oversold",
        readonly=True,
        copy=False,
        help="The order could not be fully reserved when it was imported.",
    )
    multichannel_oversold_qty = fields.Float("Oversold Quantity", readonly=True, copy=False)
    multichannel_total_mismatch = fields.Boolean(
        "Channel Total Differs",
        readonly=True,
        copy=False,
        help="Odoo's total differs from the total the channel sent.",
    )

    def init(self):
        result = super().init()
        # Partial indexes, which Odoo's own sale orders (no channel) never enter: a sale order
        # made in Odoo pays nothing for them. The channel's orders are looked up by channel and
        # date (the dashboard's orders of the day, without reading the channel's whole history),
        # and the oversold ones, few, have an index of their own.
        for column in ("multichannel_channel_id", "multichannel_external_ref", "multichannel_oversold"):
            drop_index(self.env.cr, f"{self._table}__{column}_index", self._table)
        # One sale order per stored channel order; an id the channel sent again with other
        # content and imported as a new order has two, each from its own stored order. A
        # unique index of the channels' orders only: a row whose channel is empty never
        # conflicts, so Odoo's own sale orders had entries in the former constraint's for nothing.
        self.env.cr.execute("ALTER TABLE sale_order DROP CONSTRAINT IF EXISTS sale_order_multichannel_external_uniq")
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS sale_order_multichannel_external_unique_index
                ON sale_order (multichannel_channel_id, multichannel_external_ref, multichannel_order_id)
             WHERE multichannel_channel_id IS NOT NULL
            """
        )
        for name, columns, where in (
            ("channel_date", ["multichannel_channel_id", "create_date"], "multichannel_channel_id IS NOT NULL"),
            ("external_ref", ["multichannel_external_ref"], "multichannel_external_ref IS NOT NULL"),
            ("oversold", ["multichannel_channel_id"], "multichannel_oversold"),
        ):
            create_index(self.env.cr, f"{self._table}_multichannel_{name}_index", self._table, columns, where=where)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if any(CHANNEL_LINK_FIELDS.intersection(vals) for vals in vals_list):
            self._multichannel_check_link_written_by_import()
        return super().create(vals_list)

    def write(self, vals):
        if CHANNEL_LINK_FIELDS.intersection(vals):
            self._multichannel_check_link_written_by_import()
        channel_orders = self.filtered("multichannel_channel_id") if "state" in vals else self.browse()
        if channel_orders:
            # a channel order cancelled (its unreserved delivery too, no quant written) or set
            # back to draft gives back, or takes, the units it held
            result = super().write(vals)
            channel_orders.order_line._multichannel_request_sync(any_state=True)
            return result
        return super().write(vals)

    def unlink(self):
        self.filtered("multichannel_channel_id").order_line._multichannel_request_sync(any_state=True)
        return super().unlink()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_still_sold_on_channel(self):
        """A draft sale order of a channel's order (not confirmed at import) holds its units;
        deleted, it would free them while the channel still sells the order, and the channel
        would never be told. Cancelled first, it is told, and the units are freed then (or
        when the channel cancelled or closed the order itself)."""
        for sale in self.sudo().filtered(lambda s: s.state != "cancel" and s.multichannel_order_id):
            order = sale.multichannel_order_id
            changed = order.content_changed and order._normalized_or_none(order.changed_payload)
            told = (
                order.status_to_send == "cancelled"
                or order.channel_status in ("cancelled", "closed")
                or (changed and changed["status"] in ("cancelled", "closed"))
            )
            if order.state == "done" and order.external_id and not told:
                raise UserError(
                    self.env._(
                        "Sale order %(sale)s is order %(order)s of %(channel)s, still sold there: cancel it "
                        "instead (the channel is told), then delete it.",
                        sale=sale.name,
                        order=order.name,
                        channel=order.channel_id.name,
                    )
                )

    def _multichannel_check_link_written_by_import(self):
        if not self.env.su:
            raise AccessError(
                self.env._(
                    "A sale order is linked to a channel's order by the import only: cancelling or delivering "
                    "it is sent to the channel as that order's. What the import found (oversold, a total that "
                    "differs) is the import's too."
                )
            )

    def _prepare_confirmation_values(self):
        values = super()._prepare_confirmation_values()
        if self and all(order.multichannel_order_id for order in self):
            # the customer ordered on the channel then: reports land the sale in its hour, day and month
            values.pop("date_order", None)
        return values

    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        values["multichannel_channel_id"] = self.multichannel_channel_id.id
        return values

    def _multichannel_check_after_import(self, channel_order, data):
        self.ensure_one()
        self._multichannel_check_total(channel_order, data)
        if self.state == "sale":
            self._multichannel_check_reservation()

    def _multichannel_check_total(self, channel_order, data):
        if data.get("total") is None:
            return
        channel = self.multichannel_channel_id
        difference = self.amount_total - data["total"]
        if float_compare(abs(difference), channel.total_tolerance, precision_digits=4) > 0:
            message = self.env._(
                "The channel's total is %(theirs)s, Odoo's is %(ours)s (difference %(diff)s).",
                theirs=data["total"],
                ours=self.amount_total,
                diff=round(difference, 4),
            )
            self.multichannel_total_mismatch = True
            channel_order.warning = message
            self.message_post(body=message)

    def _multichannel_check_reservation(self):
        """Flag an oversell: the first moves out of stock could not be fully reserved."""
        moves = self.picking_ids.move_ids.filtered(
            lambda m: not m.move_orig_ids and m.state != "cancel" and m.product_id.is_storable
        )
        missing = sum(
            max(0.0, move.product_uom_qty - move.quantity)
            for move in moves
            if float_compare(move.quantity, move.product_uom_qty, precision_rounding=move.product_uom.rounding) < 0
        )
        if not missing:
            return
        self.write({"multichannel_oversold": True, "multichannel_oversold_qty": missing})
        channel = self.multichannel_channel_id
        responsible = channel.user_id or channel.team_id.user_id or self.env.user
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Oversold: %s units missing", missing),
            note=self.env._(
                "This %(channel)s order could not be fully reserved. Replenish, or cancel it on the channel.",
                channel=channel.name,
            ),
            user_id=responsible.id,
        )

    def _action_cancel(self):
        result = super()._action_cancel()
        if not self.env.context.get("multichannel_from_channel"):
            # an order replaced by a new one (no channel id any more) sends nothing: the id is the new one's
            self.sudo().multichannel_order_id.filtered(lambda o: o.state == "done" and o.external_id)._queue_status(
                "cancelled"
            )
        return result

    def _multichannel_shipped(self):
        """The imported orders among these whose deliveries to the customer are all done."""
        return self.filtered(
            lambda order: (
                order.multichannel_order_id
                and any(p.state == "done" for p in order.picking_ids if p.location_dest_id.usage == "customer")
                and all(
                    p.state in ("done", "cancel") for p in order.picking_ids if p.location_dest_id.usage == "customer"
                )
            )
        )
