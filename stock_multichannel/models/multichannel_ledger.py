from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import create_index, drop_index

from ..lib.clock import utc_now

KINDS = [
    ("stock", "Stock"),
    ("price", "Price"),
    ("order", "Order Import"),
    ("status", "Order Status"),
    ("drift", "Drift Found"),
]
RESULTS = [("ok", "Accepted"), ("refused", "Refused"), ("failed", "Failed")]


class MultichannelLedger(models.Model):
    """Audit trail: every quantity, price, order and status exchanged with a channel."""

    _name = "multichannel.ledger"
    _description = "Channel Sync Ledger"
    _order = "id desc"
    _rec_name = "kind"

    # indexed with create_date, see init()
    channel_id = fields.Many2one("multichannel.channel", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, readonly=True)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    binding_id = fields.Many2one("multichannel.product.binding", "Listing", ondelete="set null", readonly=True)
    product_id = fields.Many2one("product.product", ondelete="set null", readonly=True, index=True)
    order_id = fields.Many2one("multichannel.order", "Channel Order", ondelete="set null", readonly=True)
    old_value = fields.Char(readonly=True)
    new_value = fields.Char(readonly=True)
    cause = fields.Char(readonly=True)
    result = fields.Selection(RESULTS, required=True, readonly=True)
    answer = fields.Text("Channel Answer", readonly=True)
    duration_ms = fields.Integer("Duration (ms)", readonly=True)
    latency_ms = fields.Integer(
        "Latency (ms)", readonly=True, help="From the change in Odoo to the channel's acceptance."
    )

    def init(self):
        # Every push writes a line per listing, kept for months: the table grows by millions.
        # What reads it asks for a channel's recent lines of one kind and result (the
        # dashboard's latency of the last 24 hours, its last accepted push, the retention's
        # clean-up), which one index on the four columns answers by a few probes, without
        # reading the channel's history. Indexes on the channel, the kind and the result
        # each made every push pay three entries per line for lookups that read half or
        # all of a channel's lines.
        for column in ("channel_id", "kind", "result"):
            drop_index(self.env.cr, f"{self._table}__{column}_index", self._table)
        create_index(
            self.env.cr,
            f"{self._table}_channel_kind_result_date_index",
            self._table,
            ["channel_id", "kind", "result", "create_date"],
        )

    @api.model
    def _log_push(self, channel, kind, batch, results, cause, duration_ms, failure=None):
        """One ledger line per listing of a pushed batch, all inserted in one statement."""
        now = utc_now()
        lines = []
        for listing, target in batch:
            result = results.get(listing.id)
            if failure:
                outcome, answer = "failed", failure
            elif result and result.ok:
                outcome, answer = "ok", result.answer or result.message
            else:
                outcome, answer = "refused", (result.message if result else "no answer for this item")
            old = listing.pushed_qty if kind == "stock" else listing.pushed_price
            requested_at = listing[f"{kind}_requested_at"]
            latency = int((now - requested_at).total_seconds() * 1000) if requested_at and outcome == "ok" else 0
            lines.append(
                {
                    "binding_id": listing.id,
                    "product_id": listing.product_id.id,
                    "old_value": str(old) if listing[f"{kind}_pushed_at"] else "",
                    "new_value": str(target),
                    "cause": cause or listing[f"{kind}_cause"] or "",
                    "result": outcome,
                    "answer": answer,
                    "latency_ms": max(0, latency),
                }
            )
        return self._insert_lines(channel, kind, lines, duration_ms)

    @api.model
    def _log_order(self, order, kind, result, answer, old_value="", new_value="", duration_ms=0, cause=""):
        line = {
            "order_id": order.id,
            "old_value": old_value,
            "new_value": new_value,
            "cause": cause,
            "result": result,
            "answer": answer,
        }
        return self._insert_lines(order.channel_id, kind, [line], duration_ms)

    @api.model
    def _insert_lines(self, channel, kind, lines, duration_ms):
        """Ledger lines of ``channel`` and ``kind`` inserted in one statement: the same lines
        the ORM would create (``company_id``, the stored related field, and the create and
        write columns included), without its INSERT then UPDATE of each line."""
        if not lines:
            return self.browse()
        channel.flush_recordset(["company_id"])  # the line's company is read from the channel's row
        columns = {
            # one array per column: the same rows, without a placeholder per value (False as the ORM writes it)
            name: SQL(array, [None if line.get(name) is False else line.get(name) for line in lines])
            for name, array in (
                ("binding_id", "%s::int[]"),
                ("product_id", "%s::int[]"),
                ("order_id", "%s::int[]"),
                ("old_value", "%s::varchar[]"),
                ("new_value", "%s::varchar[]"),
                ("cause", "%s::varchar[]"),
                ("result", "%s::varchar[]"),
                ("answer", "%s::text[]"),
                ("latency_ms", "%s::int[]"),
            )
        }
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO multichannel_ledger (channel_id, company_id, kind, binding_id, product_id, order_id,
                            old_value, new_value, cause, result, answer, duration_ms, latency_ms,
                            create_uid, create_date, write_uid, write_date)
                SELECT c.id, c.company_id, %(kind)s, v.binding_id, v.product_id, v.order_id, v.old_value,
                       v.new_value, v.cause, v.result, v.answer, %(duration)s, v.latency_ms,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(binding_id)s, %(product_id)s, %(order_id)s, %(old_value)s, %(new_value)s,
                              %(cause)s, %(result)s, %(answer)s, %(latency_ms)s)
                       WITH ORDINALITY AS v(binding_id, product_id, order_id, old_value, new_value, cause, result,
                                            answer, latency_ms, position)
                  JOIN multichannel_channel c ON c.id = %(channel)s
                 ORDER BY v.position
                RETURNING multichannel_ledger.id
                """,
                kind=kind,
                duration=duration_ms,
                channel=channel.id,
                uid=self.env.uid,
                now=self.env.cr.now(),  # as the ORM dates what it creates: the transaction's start
                **columns,
            )
        )
        return self.sudo().browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _clean_up(self):
        """Delete ledger lines older than each channel's retention."""
        channels = (
            self.env["multichannel.channel"].with_context(active_test=False).search([("ledger_retention_days", ">", 0)])
        )
        kinds = [kind for kind, _label in self._fields["kind"].selection]
        results = [result for result, _label in self._fields["result"].selection]
        for channel in channels:
            limit = fields.Datetime.now() - timedelta(days=channel.ledger_retention_days)
            # every kind and result named: the index's probes, not a read of the channel's lines
            self.env.cr.execute(
                """
                DELETE FROM multichannel_ledger
                 WHERE channel_id = %s AND kind = ANY(%s) AND result = ANY(%s) AND create_date < %s
                """,
                (channel.id, kinds, results, limit),
            )
        self.invalidate_model()
