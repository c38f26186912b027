from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib.transactions import commit_own_transaction

# a rule or rate written by a transaction still open when its moment passed is committed
# after the run that passed that moment: each run looks this far before the last one
LATE_COMMIT_MARGIN = timedelta(hours=1)
# Odoo applies a rule until its end, to the second: its price changes the second after
ONE_SECOND = timedelta(seconds=1)
# a run that fails is tried again this soon (Odoo would wait for the cron's next day)
RETRY_FAILED_RUN = timedelta(minutes=10)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def init(self):
        result = super().init()
        # the moment the dated prices' last successful run worked at (one row)
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_dated_prices_run (
                id integer PRIMARY KEY CHECK (id = 1),
                done_until timestamp NOT NULL
            )
            """
        )
        return result

    @api.model
    def _cron_queue_dated_prices(self):
        """Prices that change at a moment when nothing is written: a pricelist rule's start,
        the second after its end, a currency rate's day. Queues the prices such a moment
        moved since the last run (a rule's, as writing it does), then asks for the next run
        at the next such moment (the rules and rates written meanwhile ask for theirs)."""
        now = fields.Datetime.now()  # the pricelist's clock: a price is worked out by it
        retry = self._retry_dated_prices_if_this_run_fails(now)
        since = min(self._dated_prices_done_until(now), now) - LATE_COMMIT_MARGIN
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
        self._dated_prices_done(now)
        retry.unlink()

    @api.model
    def _retry_dated_prices_if_this_run_fails(self, now):
        """A run of the dated prices in a few minutes, committed before this run works: a
        run that fails takes back the next moment's trigger it asked for, and Odoo would
        run the cron again only on its next day. Returns the trigger, for the run that
        succeeds to take back."""
        cron_id = self._cron_id("dated_price")
        retry = self.env["ir.cron.trigger"]
        if cron_id:
            retry = self.env["ir.cron"].sudo().browse(cron_id)._trigger(now + RETRY_FAILED_RUN)
            # in a cron worker's transaction of its own; "Run Manually" runs in the request's,
            # whose commit would let go of the cron's lock: that run's failure is the user's to see
            if self.env.context.get("cron_id"):
                commit_own_transaction(self.env.cr)
        return retry

    @api.model
    def _dated_prices_done_until(self, now):
        """The moment the last run that succeeded worked out the prices at. Not Odoo's
        ``lastcall``: Odoo moves it when a run fails too, and the moments that run missed
        would wait for the daily price check."""
        self.env.cr.execute("SELECT done_until FROM multichannel_dated_prices_run")
        row = self.env.cr.fetchone()
        return row[0] if row else self.env.context.get("lastcall") or now - timedelta(days=1)

    @api.model
    def _dated_prices_done(self, now):
        self.env.cr.execute(
            """
            INSERT INTO multichannel_dated_prices_run (id, done_until) VALUES (1, %s)
            ON CONFLICT (id) DO UPDATE SET done_until = EXCLUDED.done_until
            """,
            [now],
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
