"""The channel's counters, dashboard figures and the screens its buttons open."""

from datetime import timedelta

from odoo import fields, models

from ..const import PENDING_DOMAIN, TO_FIX_DOMAIN


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    listing_count = fields.Integer(compute="_compute_counters")
    pending_count = fields.Integer("Pending Listings", compute="_compute_counters")
    error_count = fields.Integer("Listings in Error", compute="_compute_counters")
    order_count = fields.Integer("Orders", compute="_compute_counters")
    order_error_count = fields.Integer("Orders to Fix", compute="_compute_counters")
    oversell_count = fields.Integer("Oversold Orders", compute="_compute_counters")
    orders_today = fields.Integer(compute="_compute_dashboard")
    last_push_ok_at = fields.Datetime("Last Accepted Push", compute="_compute_dashboard")
    latency_p50_ms = fields.Integer(
        "Push Latency p50 (ms)",
        compute="_compute_dashboard",
        help="Stock change to channel acceptance, median over the last 24 hours.",
    )
    latency_p95_ms = fields.Integer("Push Latency p95 (ms)", compute="_compute_dashboard")
    held_order_count = fields.Integer(
        "Orders Not Imported Yet",
        compute="_compute_counters",
        help="Orders read from the channel that are not sale orders yet (not paid, or waiting for the import): "
        "their units are held back from every channel.",
    )
    latency_text = fields.Char("Stock Updates Reach the Channel", compute="_compute_latency_text")

    def _compute_counters(self):
        # counts only, of channels the user reads: a salesman opening the channel of a sale
        # order may not read its listings, a warehouse user its orders
        Binding = self.env["multichannel.product.binding"].sudo()
        Order = self.env["multichannel.order"].sudo()
        listings = dict(Binding._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        pending = dict(
            Binding._read_group([("channel_id", "in", self.ids), *PENDING_DOMAIN], ["channel_id"], ["__count"])
        )
        held = dict(
            Order._read_group(
                [("channel_id", "in", self.ids), ("state", "in", ("received", "pending"))], ["channel_id"], ["__count"]
            )
        )
        errors = dict(
            Binding._read_group([("channel_id", "in", self.ids), ("state", "=", "error")], ["channel_id"], ["__count"])
        )
        orders = dict(Order._read_group([("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        order_errors = dict(
            Order._read_group([("channel_id", "in", self.ids), *TO_FIX_DOMAIN], ["channel_id"], ["__count"])
        )
        oversold = dict(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("multichannel_channel_id", "in", self.ids), ("multichannel_oversold", "=", True)],
                ["multichannel_channel_id"],
                ["__count"],
            )
        )
        for channel in self:
            channel.listing_count = listings.get(channel, 0)
            channel.pending_count = pending.get(channel, 0)
            channel.error_count = errors.get(channel, 0)
            channel.order_count = orders.get(channel, 0)
            channel.order_error_count = order_errors.get(channel, 0)
            channel.oversell_count = oversold.get(channel, 0)
            channel.held_order_count = held.get(channel, 0)

    def _compute_latency_text(self):
        def seconds(milliseconds):
            return f"{milliseconds} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"

        for channel in self:
            if channel.latency_p95_ms > 0:
                channel.latency_text = self.env._(
                    "Stock changes shown on the channel in %(usual)s usually, %(slow)s at the slowest (1 in 20)",
                    usual=seconds(channel.latency_p50_ms),
                    slow=seconds(channel.latency_p95_ms),
                )
            else:
                channel.latency_text = self.env._("No stock change sent in the last 24 hours")

    def _compute_dashboard(self):
        since = fields.Datetime.now() - timedelta(days=1)
        stats = {}
        if self.ids:
            self.env["multichannel.ledger"].flush_model()
            self.env.cr.execute(
                """
                SELECT channel_id,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms),
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)
                  FROM multichannel_ledger
                 WHERE channel_id = ANY(%s) AND kind = 'stock' AND result = 'ok' AND create_date >= %s
                   AND latency_ms > 0
                 GROUP BY channel_id
                """,
                (self.ids, since),
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        today = fields.Datetime.to_datetime(fields.Date.context_today(self))
        orders = dict(
            self.env["sale.order"]
            .sudo()
            ._read_group(
                [("multichannel_channel_id", "in", self.ids), ("create_date", ">=", today)],
                ["multichannel_channel_id"],
                ["__count"],
            )
        )
        last_ok = {}
        if self.ids:
            # the newest accepted line of each channel and kind, one probe of the ledger's
            # (channel, kind, result, date) index each, however long the history
            self.env.cr.execute(
                """
                SELECT c.id, max(last.create_date)
                  FROM unnest(%s::int[]) AS c(id)
                 CROSS JOIN unnest(ARRAY['stock', 'price']) AS k(kind)
                 CROSS JOIN LATERAL (
                        SELECT create_date FROM multichannel_ledger
                         WHERE channel_id = c.id AND kind = k.kind AND result = 'ok'
                         ORDER BY create_date DESC LIMIT 1) AS last
                 GROUP BY c.id
                """,
                (self.ids,),
            )
            last_ok = dict(self.env.cr.fetchall())
        for channel in self:
            p50, p95 = stats.get(channel.id, (0, 0))
            channel.latency_p50_ms = int(p50 or 0)
            channel.latency_p95_ms = int(p95 or 0)
            channel.orders_today = orders.get(channel, 0)
            channel.last_push_ok_at = last_ok.get(channel.id)

    def _open(self, model, domain, name):
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "name": name,
            "view_mode": "list,form",
            "domain": domain,
            "context": {"default_channel_id": self.id},
        }

    def action_view_listings(self):
        return self._open("multichannel.product.binding", [("channel_id", "=", self.id)], self.env._("Listings"))

    def action_view_pending(self):
        return self._open(
            "multichannel.product.binding",
            [("channel_id", "=", self.id), *PENDING_DOMAIN],
            self.env._("Pending Listings"),
        )

    def action_view_errors(self):
        return self._open(
            "multichannel.product.binding",
            [("channel_id", "=", self.id), ("state", "=", "error")],
            self.env._("Listings in Error"),
        )

    def action_view_orders(self):
        return self._open("multichannel.order", [("channel_id", "=", self.id)], self.env._("Channel Orders"))

    def action_view_order_errors(self):
        return self._open(
            "multichannel.order", [("channel_id", "=", self.id), *TO_FIX_DOMAIN], self.env._("Orders to Fix")
        )

    def action_view_held_orders(self):
        return self._open(
            "multichannel.order",
            [("channel_id", "=", self.id), ("state", "in", ("received", "pending"))],
            self.env._("Orders Not Imported Yet"),
        )

    def action_view_oversold(self):
        return self._open(
            "sale.order",
            [("multichannel_channel_id", "=", self.id), ("multichannel_oversold", "=", True)],
            self.env._("Oversold Orders"),
        )

    def action_view_unmatched(self):
        return self._open("multichannel.unmatched.offer", [("channel_id", "=", self.id)], self.env._("Offers to Match"))
