from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import EmagCase


@tagged("post_install", "-at_install")
class TestEmagInvoices(EmagCase, HttpCase):
    """A posted invoice of an eMAG order is attached to it on eMAG; the simulator
    downloads the PDF from Odoo over HTTP, as eMAG does."""

    def setUp(self):
        super().setUp()
        self.sim.offers[1001]["stock"][0]["value"] = 100
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.placed = self.sim.place_order([(1001, 2)], shipping_tax=24.2)
        self.channel._import_orders()
        self.sale = self.env["multichannel.order"].search([("external_id", "=", str(self.placed["id"]))]).sale_order_id
        self.assertEqual(self.sale.state, "sale")
        self.cron = self.env.ref("stock_multichannel_emag.ir_cron_emag_invoices")

    def _invoice(self):
        invoice = self.sale._create_invoices()
        invoice.action_post()
        self.env.flush_all()  # what the commit of the posting does: the PDF route sees the invoice
        return invoice

    def _send(self):
        self.env["account.move"]._cron_emag_send_invoices(auto_commit=False)

    def test_a_posted_invoice_and_its_credit_note_reach_the_order(self):
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])
        invoice = self._invoice()
        self.assertEqual(invoice.emag_invoice_state, "pending")
        self.assertGreater(self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]), triggers)
        self.assertFalse(self.sim.requests_to("order/attachments/save"), "nothing sent in the posting's transaction")
        self._send()
        self.assertEqual(invoice.emag_invoice_state, "sent", invoice.emag_invoice_error)
        [attachment] = self.sim.orders[self.placed["id"]]["attachments"]
        self.assertEqual((attachment["name"], attachment["type"]), (invoice.name, 1))
        self.assertIn(f"/my/invoices/{invoice.id}?access_token={invoice.access_token}", attachment["url"])
        self.assertIn("report_type=pdf", attachment["url"])
        # public: fetched without a session, it is served as a PDF
        answer = self.url_open(attachment["url"])
        self.assertEqual(answer.status_code, 200)
        self.assertIn("application/pdf", answer.headers["Content-Type"])
        forged = self.url_open(attachment["url"].replace(invoice.access_token, "x" * 36))
        self.assertNotIn("application/pdf", forged.headers.get("Content-Type", ""), "no token, no PDF")
        # the credit note goes the same way, under its own name
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "returned"})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.action_post()
        self.env.flush_all()
        self.assertEqual(credit_note.emag_invoice_state, "pending")
        self._send()
        self.assertEqual(credit_note.emag_invoice_state, "sent", credit_note.emag_invoice_error)
        attachments = self.sim.orders[self.placed["id"]]["attachments"]
        self.assertEqual([a["name"] for a in attachments], [invoice.name, credit_note.name])
        self.assertIn(f"/my/invoices/{credit_note.id}?", attachments[1]["url"])

    def test_failures_are_visible_and_retried_by_the_cron(self):
        invoice = self._invoice()
        self.sim.add_fault("503", "order/attachments/save", count=3)
        self._send()
        self.assertEqual(len(self.sim.requests_to("order/attachments/save")), 1, "one try per run, no retry")
        self.assertEqual(invoice.emag_invoice_state, "error")
        self.assertIn("503", invoice.emag_invoice_error)
        self.assertEqual(invoice.emag_invoice_attempts, 1)
        channel_order = self.sale.multichannel_order_id
        self.assertIn("tried again", channel_order.message_ids[:1].body or "", "visible on the channel order too")
        self.assertGreater(invoice.emag_invoice_next_try, fields.Datetime.now())
        self.assertTrue(
            self.env["ir.cron.trigger"].search(
                [("cron_id", "=", self.cron.id), ("call_at", "=", invoice.emag_invoice_next_try)]
            )
        )
        self._send()  # not due yet: not tried
        self.assertEqual(invoice.emag_invoice_attempts, 1)
        # eMAG cannot download the PDF (Odoo's public URL is wrong): its refusal is shown too
        self.sim.faults.clear()
        invoice.sudo().emag_invoice_next_try = fields.Datetime.now()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://127.0.0.1:9")
        self._send()
        self.assertEqual(invoice.emag_invoice_state, "error")
        self.assertIn("could not be downloaded", invoice.emag_invoice_error)
        self.assertEqual(invoice.emag_invoice_attempts, 2)
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        # fixed: the next due run sends it
        invoice.sudo().emag_invoice_next_try = fields.Datetime.now()
        self._send()
        self.assertEqual(invoice.emag_invoice_state, "sent", invoice.emag_invoice_error)
        self.assertFalse(invoice.emag_invoice_error)
        self.assertIn("attached to eMAG order", channel_order.message_ids[:1].body)
        self.assertEqual(len(self.sim.orders[self.placed["id"]]["attachments"]), 1)

    def test_an_attachment_whose_answer_was_lost_is_not_sent_twice(self):
        """eMAG attached the invoice but its answer came after Odoo gave up: the next run
        reads the order, finds the invoice there and sends nothing (eMAG keeps both
        attachments of a second save: the customer would see the invoice twice)."""
        invoice = self._invoice()
        self.channel.emag_timeout = 0.5
        self.sim.add_fault("timeout", "order/attachments/save", delay=1.2, after_processing=True)
        self._send()
        self.assertEqual(invoice.emag_invoice_state, "error")
        self.assertEqual(len(self.sim.orders[self.placed["id"]]["attachments"]), 1, "eMAG has it")
        invoice.sudo().emag_invoice_next_try = fields.Datetime.now()
        self._send()
        self.assertEqual(invoice.emag_invoice_state, "sent", invoice.emag_invoice_error)
        self.assertEqual(len(self.sim.orders[self.placed["id"]]["attachments"]), 1)
        self.assertEqual(len(self.sim.requests_to("order/attachments/save")), 1)
        self.assertIn("already", self.sale.multichannel_order_id.message_ids[:1].body)

    def test_sending_again_needs_a_multichannel_administrator(self):
        invoice = self._invoice()
        accountant = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "emag-accountant",
                "groups_id": [Command.set([self.env.ref("account.group_account_invoice").id])],
            }
        )
        with self.assertRaises(AccessError):
            invoice.with_user(accountant).action_emag_send_invoice()
        self.assertEqual(invoice.emag_invoice_state, "pending")
        invoice.action_emag_send_invoice()
        self.assertEqual(invoice.emag_invoice_state, "sent")

    def test_invoices_of_other_sales_are_left_alone(self):
        partner = self.env["res.partner"].create({"name": "Walk-in"})
        sale = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.chair.id})]}
        )
        sale.action_confirm()
        invoice = sale._create_invoices()
        invoice.action_post()
        self.assertFalse(invoice.emag_invoice_state)
