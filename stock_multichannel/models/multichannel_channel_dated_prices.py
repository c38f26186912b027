from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# a rule or rate written by a transaction still open when its moment passed is committed
# after the run that passed that moment: each run looks this far before the last one
LATE_COMMIT_MARGIN = timedelta(hours=1)
# Odoo applies a rule until its end, to the second: its price changes the second after
ONE_SECOND = timedelta(seconds=1)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    @api.model
    def _cron_queue_dated_prices(self):
        """Prices that change at a moment when nothing is written: a pricelist rule's start,
        the second after its end, a currency rate's day. Queues the prices such a moment
        moved since the last run (a rule's, as writing it does), then asks for the next run
        at the next such moment (the rules and rates written meanwhile ask for theirs)."""
        now = fields.Datetime.now()  # the pricelist's clock: a price is worked out by it
        last = self.env.context.get("lastcall") or now - timedelta(days=1)  # Odoo's: the last run's end
        since = min(last, now) - LATE_COMMIT_MARGIN
        items = (
            self.env["product.pricelist.item"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    "|",
                    "&",
                    ("date_start", ">", since),
                    ("date_start", "<=", now),
                    "&",
                    ("date_end", ">=", since),
                    ("date_end", "<", now),
                ]
            )
        )
        rates = self.env["res.currency.rate"].sudo().search([("name", ">", since.date()), ("name", "<=", now.date())])
        items._multichannel_request_sync("pricelist rule in effect")
        rates._multichannel_request_sync("currency rate in effect")  # all in effect by now
        # after this run's now, not the clock's: a moment passed during the run runs at once
        # (at the database's clock, by which Odoo runs the triggers and drops those past)
        self._wake_for_dated_prices(
            [self._next_dated_price(now)], after=now, not_before=self.env["multichannel.sync.request"]._due_by()
        )

    @api.model
    def _next_dated_price(self, after):
        """The first moment after ``after`` when a pricelist rule or a currency rate takes
        effect or ends, or None."""
        self.env["product.pricelist.item"].flush_model(["date_start", "date_end"])
        self.env["res.currency.rate"].flush_model(["name"])
        self.env.cr.execute(
            SQL(
                """
                SELECT min(moment) FROM (
                    SELECT min(date_start) AS moment FROM product_pricelist_item WHERE date_start > %(after)s
                    UNION ALL
                    SELECT min(date_end) + interval '1 second' FROM product_pricelist_item WHERE date_end >= %(after)s
                    UNION ALL
                    SELECT min(name)::timestamp FROM res_currency_rate WHERE name > %(day)s
                ) moments
                """,
                after=after,
                day=after.date(),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _wake_for_dated_prices(self, moments, after=None, not_before=None):
        """A run of the dated prices at the first of ``moments`` after ``after`` (default:
        now), or at ``not_before`` if that is later, with a trigger of this transaction's
        own: a run another transaction asked for, even at that moment, may start before
        this one commits and not see it."""
        after = after or fields.Datetime.now()
        coming = [moment for moment in moments if moment and moment > after]
        cron_id = self._cron_id("dated_price")
        if coming and cron_id:
            at = max(min(coming), not_before) if not_before else min(coming)
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at)


def day_start(day):
    """The moment a currency rate dated ``day`` takes effect (Odoo converts at the date)."""
    return datetime.combine(day, time.min)


def rule_moments(items):
    """The moments these pricelist rules change a price: their start, the second after their end."""
    return [item.date_start for item in items] + [item.date_end and item.date_end + ONE_SECOND for item in items]
