"""The scheduled jobs: each channel's run isolated and within a time budget; real-time wake-ups."""

import logging
import time
from datetime import timedelta
from functools import partial

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import (
    CRON_BUDGET_SECONDS,
    CRON_WAKEUP_LOCK,
    CRONS,
    NOTIFY_MARGIN_SECONDS,
    WAKEUP_SERIAL_PREFIX,
    WAKEUP_TAKE_WAIT_MS,
)
from ..lib.clock import utc_now
from ..lib.cron_wakeup import notify_cron_workers_later, notify_cron_workers_soon, wake_cron_soon
from ..lib.messages import translated
from ..lib.transactions import CONCURRENT_ERRORS, ROUTINE_RUN_ERRORS, commit_own_transaction, read_committed

_logger = logging.getLogger(__name__)

# Asks for a wake-up of a cron by the transaction calling it, unless one is pending: a
# trigger this function inserted (notified after its commit: call_at = write_date), due,
# and not taken yet by a run (see _consume_wakeups). True when a trigger was inserted.
#
# A transaction may count on a pending wake-up only if no run of the cron took wake-ups
# since its snapshot: the cron's serial sequence, which no snapshot hides, tells. The
# shared lock it then holds until it ends makes the next run's take wait for it, and so
# drain what it queued (only those counting on a wake-up hold it). While a take waits
# for that lock, the lock is not granted and a trigger is asked for instead: inserting
# one never waits. Triggers of Odoo's own (_trigger: for later) are never counted on.
WAKE_CRON_FUNCTION = SQL(
    """
    CREATE OR REPLACE FUNCTION multichannel_wake_cron(cron integer, uid integer) RETURNS boolean
    LANGUAGE plpgsql AS $$
    DECLARE
        taken timestamp;
        taken_serial bigint;
        moment timestamp;
    BEGIN
        SELECT w.taken_at, w.taken_serial INTO taken, taken_serial
          FROM multichannel_cron_wakeup w
         WHERE w.cron_id = cron;
        moment := clock_timestamp() AT TIME ZONE 'UTC';
        IF taken_serial = pg_sequence_last_value(to_regclass(%(serial)s || cron)) AND EXISTS (
            SELECT 1 FROM ir_cron_trigger t
             WHERE t.cron_id = cron AND t.write_date = t.call_at AND t.call_at > taken AND t.call_at <= moment
        ) AND pg_try_advisory_xact_lock_shared(%(lock)s, cron)
          -- no take since, now that a take waits for this transaction
          AND taken_serial = pg_sequence_last_value(to_regclass(%(serial)s || cron)) THEN
            RETURN false;
        END IF;
        moment := clock_timestamp() AT TIME ZONE 'UTC';
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, create_date, write_date)
        SELECT c.id, moment, uid, uid, now() AT TIME ZONE 'UTC', moment
          FROM ir_cron c
         WHERE c.id = cron AND c.active;
        RETURN FOUND;
    END
    $$
    """,
    lock=CRON_WAKEUP_LOCK,
    serial=WAKEUP_SERIAL_PREFIX,
)


class MultichannelChannel(models.Model):
    _inherit = "multichannel.channel"

    def init(self):
        result = super().init()
        # when each cron's run last took its wake-ups, and that take's serial (see _consume_wakeups)
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS multichannel_cron_wakeup (
                cron_id integer PRIMARY KEY REFERENCES ir_cron(id) ON DELETE CASCADE,
                taken_at timestamp NOT NULL
            );
            ALTER TABLE multichannel_cron_wakeup ADD COLUMN IF NOT EXISTS taken_serial bigint;
            """
        )
        self.env.cr.execute(WAKE_CRON_FUNCTION)
        return result

    @api.model
    def _cron_channels(self, kind, auto_commit=False):
        """Active channels whose connector is installed and whose ``kind`` run is due (read
        after the wake-ups are taken: with ``auto_commit``, the take is committed first)."""
        self._consume_wakeups(kind, auto_commit)
        channels = self.search([("channel_type", "in", self._connected_types())])
        return channels.filtered(lambda c: c._is_due(kind))

    @api.model
    def _cron_push_stock(self):
        channels = self._cron_channels("stock", auto_commit=True)
        channels._run_isolated("stock", lambda channel: channel._push("stock", auto_commit=True))

    @api.model
    def _cron_push_prices(self):
        channels = self._cron_channels("price", auto_commit=True)
        channels._run_isolated("price", lambda channel: channel._push("price", auto_commit=True))

    @api.model
    def _cron_import_orders(self):
        channels = self._cron_channels("order", auto_commit=True)
        channels._run_isolated("order", lambda channel: channel._import_orders(auto_commit=True))

    def _run_isolated(self, kind, work):
        """A cron's ``work`` on each channel on its own, within the cron's time budget.

        One channel's fault is noted on that channel and the next one goes on; a
        concurrent update by another worker is routine and retried at the next run;
        what the budget leaves undone is handed to the next run at once.
        """
        channels = self.with_context(
            multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
        )
        done = 0
        with read_committed(self.env.cr):
            for channel in channels:
                if channel._over_budget():
                    break
                try:
                    work(channel)
                except ROUTINE_RUN_ERRORS:
                    self.env.cr.rollback()
                    _logger.info("%s: %s run met a concurrent update; it goes on at the next run", channel.name, kind)
                    channel._trigger_realtime(kind)
                except Exception as error:  # noqa: BLE001 - one channel's fault never stops the others
                    self.env.cr.rollback()
                    _logger.warning("%s: %s run failed", channel.name, kind, exc_info=True)
                    channel._note_error(
                        self.env._(
                            "%(kind)s run failed: %(error)s",
                            kind=channel._kind_label(kind),
                            error=translated(self.env, error),
                        )
                    )
                self.env.cr.commit()  # pylint: disable=invalid-commit
                done += 1
        if done < len(channels):
            channels[done]._trigger_realtime(kind)
        self.env["ir.cron"]._notify_progress(done=done, remaining=len(channels) - done)

    def _over_budget(self):
        deadline = self.env.context.get("multichannel_deadline")
        return bool(deadline) and time.monotonic() >= deadline

    @api.model
    def _cron_send_order_statuses(self):
        self._consume_wakeups("status", auto_commit=True)
        with read_committed(self.env.cr):
            self.env["multichannel.order"].with_context(
                multichannel_cron=True, multichannel_deadline=time.monotonic() + CRON_BUDGET_SECONDS
            )._send_statuses(auto_commit=True)

    @api.model
    def _cron_recheck_prices(self):
        """Prices that change with time alone — a pricelist rule that starts or ends, a new
        currency rate — come without any write to notice: every listing is queued once a
        day, and the price push sends only those whose price really moved."""
        pricelists = self.search([("channel_type", "in", self._connected_types())]).pricelist_id
        self.env["multichannel.sync.request"]._queue("price", "daily price check", pricelist_ids=pricelists.ids)

    @api.model
    def _cron_clean_ledger(self):
        self.env["multichannel.ledger"]._clean_up()

    @api.model
    def _cron_xmlid(self, kind):
        """The cron doing ``kind``'s work, woken by ``_trigger_realtime`` (a connector adds its own)."""
        return CRONS[kind]

    @api.model
    def _cron_id(self, kind):
        return self.env["ir.model.data"]._xmlid_to_res_id(self._cron_xmlid(kind), raise_if_not_found=False)

    @api.model
    def _trigger_realtime(self, kind):
        """Wake the ``kind`` cron now instead of at its next tick, unless a wake-up is pending
        (see ``multichannel_wake_cron``); the cron workers are notified after the commit."""
        cron_id = self._cron_id(kind)
        if not cron_id:
            return
        self.env.cr.execute(SQL("SELECT multichannel_wake_cron(%s, %s)", cron_id, self.env.uid))
        if self.env.cr.fetchone()[0]:
            self._notify_cron_workers_after_commit()

    @api.model
    def _wake_after_commit(self, kind):
        """Wake the ``kind`` cron once this transaction committed, from a thread of the
        process (see ``wake_cron_soon``): what Odoo's own operations queue for a channel
        in real time. Once per cron and transaction; nothing if it rolls back."""
        cron_id = self._cron_id(kind)
        if cron_id:
            cr = self.env.cr
            self._once_after_commit(("wake", cron_id), partial(wake_cron_soon, cr.dbname, cron_id, self.env.uid))

    @api.model
    def _notify_cron_workers_after_commit(self):
        """Once per transaction, on a kept connection (Odoo's ``_notifydb`` opens a new one),
        from a thread of its own: the commit does not wait for it."""
        self._once_after_commit(("notify",), partial(notify_cron_workers_soon, self.env.cr.dbname))

    @api.model
    def _once_after_commit(self, key, callback):
        """Run ``callback`` after this transaction commits, once per ``key``."""
        cr = self.env.cr
        done = cr.postcommit.data.setdefault("multichannel.after_commit", set())
        if key not in done:
            done.add(key)
            cr.postcommit.add(callback)

    @api.model
    def _wake_at(self, kind, at):
        """Wake the ``kind`` cron at ``at``: now through ``_trigger_realtime`` when it is due
        already, else with a trigger of Odoo's for then, and the cron workers notified then
        (Odoo's future trigger notifies nobody: it waited for their next poll)."""
        if at and at > fields.Datetime.now():
            cron_id = self._cron_id(kind)
            if cron_id:
                self.env["ir.cron"].sudo().browse(cron_id)._trigger(at)
                # a moment after the trigger is due: the workers look for call_at <= now()
                delay = (at - utc_now()).total_seconds() + NOTIFY_MARGIN_SECONDS
                self.env.cr.postcommit.add(partial(notify_cron_workers_later, self.env.cr.dbname, delay))
        else:
            self._trigger_realtime(kind)

    @api.model
    def _wake_by(self, kind, at):
        """Have the ``kind`` cron run by ``at`` (a time well ahead): a trigger for then,
        unless one comes before it. No notification: the workers' poll, a minute at most,
        is soon enough, and each push asking again adds nothing."""
        cron_id = self._cron_id(kind)
        if not cron_id:
            return
        self.env["ir.cron.trigger"].flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at > %s AND call_at <= %s LIMIT 1",
                cron_id,
                fields.Datetime.now(),
                at,
            )
        )
        if not self.env.cr.fetchone():
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at)

    @api.model
    def _consume_wakeups(self, kind, auto_commit=False):
        """A run of the ``kind`` cron starts: the wake-ups asked for until now are taken.

        Run before the queue is drained. The cron's wake-up lock waits for every
        transaction that counted on a pending wake-up to end (the crons commit before
        they drain, so the drain sees what they queued); the serial drawn from the cron's
        sequence tells those that began before this moment, and still look at the cron
        through their snapshot, that the wake-up they see pending may be taken already.
        A transaction holding the lock longer than a moment (a long one) is not waited
        for: this run drains what is committed and the next one, in a moment, what that
        transaction commits. With ``auto_commit``, the take (or that next run asked for) is
        committed at once, before the run reads anything else.

        The triggers themselves are left to Odoo, whose scheduler deletes those due
        before the run started once the run ends: deleting them here as well made its
        delete fail ("could not serialize access due to concurrent delete").
        """
        cron_id = self._cron_id(kind)
        if not cron_id:
            return
        serial = f"{WAKEUP_SERIAL_PREFIX}{cron_id}"
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """
                        CREATE SEQUENCE IF NOT EXISTS %(serial)s;
                        SET LOCAL lock_timeout = %(wait)s;
                        SELECT pg_advisory_xact_lock(%(lock)s, %(cron)s);
                        SET LOCAL lock_timeout TO DEFAULT;
                        INSERT INTO multichannel_cron_wakeup (cron_id, taken_at, taken_serial)
                        VALUES (%(cron)s, clock_timestamp() AT TIME ZONE 'UTC', nextval(%(serial_name)s::regclass))
                        ON CONFLICT (cron_id) DO UPDATE
                           SET taken_at = EXCLUDED.taken_at, taken_serial = EXCLUDED.taken_serial
                        """,
                        serial=SQL.identifier(serial),
                        serial_name=serial,
                        wait=SQL(str(int(WAKEUP_TAKE_WAIT_MS))),
                        lock=CRON_WAKEUP_LOCK,
                        cron=cron_id,
                    ),
                    log_exceptions=False,
                )
        except CONCURRENT_ERRORS as error:
            # not taken: whoever counts on a pending wake-up may commit after this run's
            # drain, and Odoo deletes that trigger when the run ends; the next run, in a
            # moment, takes them
            if isinstance(error, psycopg2.errors.LockNotAvailable):
                _logger.info("%s wake-ups held by a transaction still going; the next run takes them", kind)
            else:
                _logger.info("%s wake-ups taken by another run at the same moment", kind)
            self._wake_at(kind, utc_now() + timedelta(seconds=1))
        if auto_commit:  # what the run reads next (its channels, what is due) is read after the take
            commit_own_transaction(self.env.cr)
