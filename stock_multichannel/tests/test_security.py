"""Rights, privacy and multi-company, checked as each role over real RPC."""

import json
import re
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .common import MultichannelCase, order_data

CHANNEL_ACTIONS = (
    "action_push_stock",
    "action_push_prices",
    "action_reconcile",
    "action_import_orders",
    "action_test_connection",
    "action_import_listings",
)


@tagged("post_install", "-at_install")
class TestRightsOverRpc(MultichannelCase, HttpCase):
    """Each role calls each action and model over JSON-RPC, as a browser or a script would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other Company"})
        ref = cls.env.ref
        cls.users = {
            "salesman": cls._user("rpc-sales", [ref("sales_team.group_sale_salesman")]),
            "inventory": cls._user("rpc-stock", [ref("stock.group_stock_user")]),
            "mc_user": cls._user("rpc-mc-user", [ref("stock_multichannel.group_multichannel_user")]),
            "mc_manager": cls._user("rpc-mc-manager", [ref("stock_multichannel.group_multichannel_manager")]),
            "portal": cls._user("rpc-portal", [ref("base.group_portal")]),
            "billing": cls._user("rpc-billing", [ref("account.group_account_invoice")]),
            "other_company_manager": cls._user(
                "rpc-other-manager", [ref("stock_multichannel.group_multichannel_manager")], cls.other_company
            ),
        }

    @classmethod
    def _user(cls, login, groups, company=None):
        company = company or cls.company
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "password": f"{login}-password",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [Command.set([group.id for group in groups])],
            }
        )

    def _other_companys_channel(self):
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.other_company.id)], limit=1)
        return self.env["multichannel.channel"].create(
            {
                "name": "Other company's channel",
                "company_id": self.other_company.id,
                "warehouse_ids": [Command.set(warehouse.ids)],
            }
        )

    def _rpc(self, role, model, method, *args, **kwargs):
        """execute_kw over /jsonrpc as ``role``: (result, None) or (None, the error's class name)."""
        user = self.users[role]
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": [self.env.cr.dbname, user.id, f"{user.login}-password", model, method, list(args), kwargs],
            },
        }
        response = self.url_open("/jsonrpc", data=json.dumps(payload), headers={"Content-Type": "application/json"})
        answer = response.json()
        if "error" in answer:
            return None, answer["error"]["data"]["name"].rsplit(".", 1)[-1]
        return answer.get("result"), None  # Odoo leaves out a None result

    def _channel_state(self):
        self.channel.invalidate_recordset()
        return self.channel.read(["stock_pushed_at", "price_pushed_at", "order_imported_at", "last_error"])[0]

    def test_only_a_manager_of_the_company_operates_a_channel(self):
        self.chair_listing.sudo().stock_pending = True
        for role in ("salesman", "inventory", "mc_user", "portal", "other_company_manager"):
            for action in CHANNEL_ACTIONS:
                with self.subTest(role=role, action=action):
                    before = self._channel_state()
                    _result, error = self._rpc(role, "multichannel.channel", action, [self.channel.id])
                    self.assertEqual(error, "AccessError")
                    self.assertEqual(self.remote.calls, [], "the channel was not called")
                    self.assertEqual(self._channel_state(), before, "nothing was written")
        for action in CHANNEL_ACTIONS:
            with self.subTest(role="mc_manager", action=action):
                result, error = self._rpc("mc_manager", "multichannel.channel", action, [self.channel.id])
                self.assertIsNone(error)
                self.assertEqual(result["tag"], "display_notification")
        called = {method for method, _size in self.remote.calls}
        self.assertTrue({"stock", "price", "orders", "test", "offers"} <= called, called)

    def test_only_a_channels_operators_compare_a_listing_with_it(self):
        """Compare with Channel calls the channel, as the channel's buttons do."""
        for role in ("mc_user", "other_company_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(
                    role, "multichannel.product.binding", "action_compare_with_channel", [self.chair_listing.id]
                )
                self.assertEqual(error, "AccessError")
                self.assertEqual(self.remote.calls, [], "the channel was not called")
        result, error = self._rpc(
            "mc_manager", "multichannel.product.binding", "action_compare_with_channel", [self.chair_listing.id]
        )
        self.assertIsNone(error)
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("shown", {method for method, _size in self.remote.calls})

    def test_ids_cannot_be_probed(self):
        missing_id = self.channel.search([], order="id desc", limit=1).id + 1000
        for role in ("mc_user", "other_company_manager"):
            answers = {
                self._rpc(role, "multichannel.channel", "action_push_prices", [channel_id])[1]
                for channel_id in (self.channel.id, missing_id)
            }
            self.assertEqual(answers, {"AccessError"}, role)

    def test_channel_configuration_is_for_managers(self):
        for role in ("salesman", "inventory", "mc_user", "portal", "other_company_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.channel", "write", [self.channel.id], {"stock_max": 1})
                self.assertEqual(error, "AccessError")
        self.assertEqual(self.channel.stock_max, 0)
        _result, error = self._rpc("mc_manager", "multichannel.channel", "write", [self.channel.id], {"stock_max": 7})
        self.assertIsNone(error)
        self.assertEqual(self.channel.stock_max, 7)

    def test_a_channel_sells_only_its_companys_stock(self):
        foreign = self.env["stock.warehouse"].search([("company_id", "=", self.other_company.id)], limit=1)
        _result, error = self._rpc(
            "mc_manager", "multichannel.channel", "write", [self.channel.id], {"warehouse_ids": [[4, foreign.id]]}
        )
        self.assertIn(error, ("AccessError", "UserError"))
        self.assertNotIn(foreign, self.channel.warehouse_ids)
        with self.assertRaises(UserError):  # even for someone who sees both companies
            self.channel.write({"warehouse_ids": [Command.link(foreign.id)]})

    def test_a_channel_keeps_its_company(self):
        """The record rules are checked before a write, not on what it writes: a Multichannel
        Administrator of one company moved a channel, its orders and its customers, into
        another, selling that company's stock."""
        foreign = self.env["stock.warehouse"].search([("company_id", "=", self.other_company.id)], limit=1)
        pricelist = self.env["product.pricelist"].create({"name": "Other", "company_id": self.other_company.id})
        moved = {
            "company_id": self.other_company.id,
            "warehouse_ids": [[6, 0, foreign.ids]],
            "team_id": False,
            "pricelist_id": pricelist.id,
        }
        _result, error = self._rpc("mc_manager", "multichannel.channel", "write", [self.channel.id], moved)
        self.assertEqual(error, "AccessError")
        self.assertEqual(self.channel.company_id, self.company)
        with self.assertRaisesRegex(UserError, "stays in its company"):  # even for who sees both companies
            self.channel.write({**moved, "warehouse_ids": [Command.set(foreign.ids)]})
        # a channel set up in the wrong company, before anything was listed, is moved
        fresh = self.env["multichannel.channel"].create({"name": "Set up in the wrong company"})
        fresh.write({**moved, "warehouse_ids": [Command.set(foreign.ids)]})
        self.assertEqual(fresh.company_id, self.other_company)

    def test_a_multichannel_administrator_imports_listings_again_with_offers_left_to_match(self):
        from ..lib.adapter import ExternalOffer

        for name in ("Ghost", "Ghost lamp"):  # read again, renamed on the channel meanwhile
            self.remote.offers = [ExternalOffer("ext-ghost", sku="GHOST", name=name)]
            _result, error = self._rpc("mc_manager", "multichannel.channel", "action_import_listings", self.channel.ids)
            self.assertIsNone(error)
        offer = self.env["multichannel.unmatched.offer"].search([("external_id", "=", "ext-ghost")])
        self.assertEqual(offer.name, "Ghost lamp")

    def test_a_buyer_typing_a_users_e_mail_is_not_taken_for_them(self):
        """What a buyer types is not checked: taken for a portal user's contact, their order
        was that user's to read on the portal (they follow it), and invoiced to them."""
        portal = self.users["portal"]
        portal.partner_id.write({"email": "client@example.com", "phone": "+40 722 222 222"})
        self.company.partner_id.email = "shop@example.com"
        for ref, email in (("P-USER", "CLIENT@example.com"), ("P-COMPANY", "shop@example.com")):
            with self.subTest(email=email):
                data = order_data(ref, total=None)
                data["customer"] = dict(data["customer"], name=portal.name, email=email, phone="+40 722 222 222")
                order = self.env["multichannel.order"]._receive(self.channel, data)
                self.assertEqual(order.state, "done", order.error)
                sale = order.sale_order_id
                self.assertNotIn(sale.partner_id, portal.partner_id | self.company.partner_id)
                _result, error = self._rpc("portal", "sale.order", "read", [sale.id], ["name"])
                self.assertEqual(error, "AccessError", "a stranger's order")

    def test_an_offer_to_match_is_what_the_channel_sent(self):
        offer = self.env["multichannel.unmatched.offer"].create(
            {"channel_id": self.channel.id, "external_id": "ext-stool", "name": "Stool"}
        )
        foreign = self._other_companys_channel()
        for vals in ({"channel_id": foreign.id}, {"external_id": "ext-planted"}):
            with self.subTest(vals=vals):
                _result, error = self._rpc("mc_user", "multichannel.unmatched.offer", "write", [offer.id], vals)
                self.assertEqual(error, "AccessError")
        self.assertEqual((offer.channel_id, offer.external_id), (self.channel, "ext-stool"))
        _result, error = self._rpc(
            "mc_user", "multichannel.unmatched.offer", "write", [offer.id], {"product_id": self.chair.id}
        )
        self.assertIsNone(error, "choosing its product is theirs")

    def test_staged_orders_cannot_be_rewritten_to_forge_a_sale(self):
        stored = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-1", total=None, lines=[]))
        self.assertEqual(stored.state, "error")
        forged = order_data("SEC-1", total=None)
        forged["lines"][0].update(quantity=20, unit_price=0.01)
        for role in ("mc_user", "mc_manager", "salesman"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.order", "write", [stored.id], {"payload": forged})
                self.assertEqual(error, "AccessError")
        _result, error = self._rpc("mc_user", "multichannel.order", "action_retry", [stored.id])
        self.assertEqual(error, "AccessError", "retrying creates sale orders: not for a user who may not")
        stored.invalidate_recordset()
        self.assertEqual(stored.payload["lines"], [])
        self.assertFalse(stored.sale_order_id)
        _result, error = self._rpc("salesman", "multichannel.order", "action_retry", [stored.id])
        self.assertIsNone(error, "a salesman may retry: the import creates what they could create")
        self.assertEqual(stored.state, "error", "the stored payload still has no line")

    def test_a_sale_order_is_linked_to_a_channel_order_by_the_import_only(self):
        stored = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-LINK", total=None))
        self.assertEqual(stored.state, "done", stored.error)
        link = {"multichannel_order_id": stored.id, "multichannel_channel_id": self.channel.id}
        customer = self.env["res.partner"].create({"name": "Walk-in"})
        quotation, error = self._rpc("salesman", "sale.order", "create", {"partner_id": customer.id})
        self.assertIsNone(error)
        for role in ("salesman", "mc_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "sale.order", "write", [quotation], link)
                self.assertEqual(error, "AccessError")
                _result, error = self._rpc(role, "sale.order", "create", dict(link, partner_id=customer.id))
                self.assertEqual(error, "AccessError")
        # so cancelling one's own quotation sends no cancel of somebody else's channel order
        _result, error = self._rpc("salesman", "sale.order", "action_cancel", [quotation])
        self.assertIsNone(error)
        stored.invalidate_recordset()
        self.assertFalse(stored.status_to_send)
        self.assertFalse(self.env["sale.order"].browse(quotation).multichannel_order_id)
        self.assertEqual(stored.sale_order_id.multichannel_order_id, stored, "the import's own link is there")

    def test_only_who_may_sell_never_imports_an_order(self):
        """Never Import gives the order's units back to every channel, for good."""
        stored = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-SKIP", total=None, lines=[]))
        self.assertEqual(stored.state, "error")
        for role in ("mc_user", "inventory", "other_company_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.order", "action_skip", [stored.id])
                self.assertEqual(error, "AccessError")
                stored.invalidate_recordset()
                self.assertEqual(stored.state, "error")
        _result, error = self._rpc("salesman", "multichannel.order", "action_skip", [stored.id])
        self.assertIsNone(error)
        self.assertEqual((stored.state, stored.skipped_by_user), ("skipped", True))

    def test_channel_orders_and_a_channels_history_are_never_deleted(self):
        Order = self.env["multichannel.order"]
        stored = Order._receive(self.channel, order_data("SEC-DEL", total=None))
        self.assertEqual(stored.state, "done", stored.error)
        for role in ("mc_user", "mc_manager", "salesman"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.order", "unlink", [stored.id])
                self.assertEqual(error, "AccessError")
        self.assertTrue(stored.exists())
        Order._receive(self.channel, order_data("SEC-DEL", total=None))  # the channel sends it again
        self.assertEqual(
            self.env["sale.order"].search_count([("multichannel_external_ref", "=", "SEC-DEL")]), 1, "imported once"
        )
        ledger = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)])
        self.assertTrue(ledger)
        _result, error = self._rpc("mc_manager", "multichannel.channel", "unlink", [self.channel.id])
        self.assertEqual(error, "UserError", "archived instead")
        self.assertTrue(self.channel.exists() and ledger.exists())
        # a channel with no history yet (made by mistake) goes
        new_id, error = self._rpc("mc_manager", "multichannel.channel", "create", {"name": "Made by mistake"})
        self.assertIsNone(error)
        _result, error = self._rpc("mc_manager", "multichannel.channel", "unlink", [new_id])
        self.assertIsNone(error)
        self.assertFalse(self.env["multichannel.channel"].browse(new_id).exists())

    def test_a_multichannel_administrator_creates_a_channel_with_its_team_and_pricelist(self):
        """Odoo lets only Sales Administrators create Sales Teams and pricelists: the
        channel's own come with it."""
        self.env["product.pricelist"].search([("company_id", "in", (self.company.id, False))]).active = False
        new_id, error = self._rpc("mc_manager", "multichannel.channel", "create", {"name": "Outlet shop"})
        self.assertIsNone(error)
        channel = self.env["multichannel.channel"].browse(new_id)
        self.assertEqual((channel.team_id.name, channel.company_id), ("Outlet shop", self.company))
        self.assertEqual(channel.pricelist_id.currency_id, self.company.currency_id)
        _result, error = self._rpc(
            "mc_manager", "multichannel.channel", "create", {"name": "Theirs", "company_id": self.other_company.id}
        )
        self.assertEqual(error, "AccessError", "not in another company")
        self.assertFalse(self.env["crm.team"].search([("name", "=", "Theirs")]), "nothing made for it")

    def test_whoever_reads_a_channel_opens_it(self):
        """A salesman opens the channel of a sale order, a warehouse user the channel of a
        delivery: the form's counters are counts, not the listings or orders themselves."""
        self.env["multichannel.order"]._receive(self.channel, order_data("SEC-OPEN", total=None))
        for role in ("salesman", "inventory", "mc_user", "mc_manager"):
            with self.subTest(role=role):
                # as the web client opens the form: the fields of the form the user is shown
                views, error = self._rpc(role, "multichannel.channel", "get_views", [[False, "form"]])
                self.assertIsNone(error)
                shown = views["models"]["multichannel.channel"]["fields"]
                result, error = self._rpc(
                    role, "multichannel.channel", "web_read", [self.channel.id], specification=dict.fromkeys(shown, {})
                )
                self.assertIsNone(error)
                counts = {"order_count": 1, "listing_count": self.channel.listing_count}
                self.assertEqual(
                    {k: result[0][k] for k in counts if k in shown}, {k: v for k, v in counts.items() if k in shown}
                )
        shown = views["models"]["multichannel.channel"]["fields"]
        self.assertTrue({"order_count", "listing_count"} <= set(shown), "a Multichannel Administrator sees both")

    def test_what_the_import_found_is_not_rewritten_by_hand(self):
        lines = [{"listing_external_id": "ext-chair", "quantity": 1000, "unit_price": 100.0, "tax_rate": 19.0}]
        sale = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-OVER", lines=lines)).sale_order_id
        self.assertTrue(sale.multichannel_oversold)
        for vals in ({"multichannel_oversold": False}, {"multichannel_total_mismatch": False}):
            with self.subTest(vals=vals):
                _result, error = self._rpc("salesman", "sale.order", "write", [sale.id], vals)
                self.assertEqual(error, "AccessError")
        self.assertTrue(sale.multichannel_oversold)
        _result, error = self._rpc("salesman", "sale.order", "write", [sale.id], {"client_order_ref": "PO-7"})
        self.assertIsNone(error, "the rest of the sale order is theirs as before")
        invoice = self.env["account.move"].create(
            {"move_type": "out_invoice", "partner_id": sale.partner_id.id, "multichannel_channel_id": self.channel.id}
        )
        _result, error = self._rpc("billing", "account.move", "write", [invoice.id], {"multichannel_channel_id": False})
        self.assertEqual(error, "AccessError", "Invoice Analysis groups by it")
        self.assertEqual(invoice.multichannel_channel_id, self.channel)
        _result, error = self._rpc("billing", "account.move", "write", [invoice.id], {"ref": "checked"})
        self.assertIsNone(error)
        foreign = self._other_companys_channel()
        with self.assertRaises(UserError):  # counted under another company's channel
            self.env["account.move"].create(
                {"move_type": "out_invoice", "partner_id": sale.partner_id.id, "multichannel_channel_id": foreign.id}
            )

    def test_a_multichannel_user_matches_an_offer_and_nobody_erases_the_ledger(self):
        sofa = self.env["product.product"].create({"name": "Sofa", "is_storable": True})
        offer = self.env["multichannel.unmatched.offer"].create(
            {"channel_id": self.channel.id, "external_id": "ext-sofa", "name": "Sofa", "product_id": sofa.id}
        )
        _result, error = self._rpc("mc_user", "multichannel.unmatched.offer", "action_link", [offer.id])
        self.assertIsNone(error)
        self.assertFalse(offer.exists())
        listing = self.env["multichannel.product.binding"].search([("external_id", "=", "ext-sofa")])
        self.assertEqual(listing.product_id, sofa)
        stored = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-LEDGER", total=None))
        self.env["multichannel.ledger"]._log_order(stored, "order", "ok", "kept")
        ledger = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)])
        self.assertTrue(ledger)
        for role in ("mc_user", "mc_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.ledger", "unlink", ledger.ids)
                self.assertEqual(error, "AccessError")
        self.assertTrue(ledger.exists())

    def test_another_companys_channel_is_out_of_reach(self):
        theirs = self.env["multichannel.channel"].create(
            {"name": "Their channel", "company_id": self.other_company.id, "pricelist_id": False}
        )
        _result, error = self._rpc(
            "mc_manager", "multichannel.product.binding", "write", self.chair_listing.ids, {"channel_id": theirs.id}
        )
        self.assertIn(error, ("AccessError", "UserError"))
        self.assertEqual(self.chair_listing.channel_id, self.channel)
        with self.assertRaises(UserError):  # even for someone who sees both companies
            self.chair_listing.write({"channel_id": theirs.id})
        self.env["multichannel.sync.request"]._queue("stock", "test", product_ids=self.chair.ids)
        self.env["multichannel.inbox"].sudo().create({"channel_id": self.channel.id, "order_ref": "SEC-INBOX"})
        for model in ("multichannel.sync.request", "multichannel.inbox"):
            with self.subTest(model=model):
                self.assertTrue(self.env[model].search([]))
                ids, error = self._rpc("other_company_manager", model, "search", [])
                self.assertIsNone(error)
                self.assertEqual(ids, [], "the other company's queue and notifications are not theirs")
                ids, error = self._rpc("mc_manager", model, "search", [])
                self.assertTrue(ids)

    def test_only_who_may_create_sale_orders_imports_a_changed_order_as_new(self):
        Order = self.env["multichannel.order"]
        stored = Order._receive(self.channel, order_data("SEC-2", total=None))
        first_sale = stored.sale_order_id
        changed = order_data(
            "SEC-2", total=None, lines=[{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250.0}]
        )
        Order._receive(self.channel, changed)
        self.assertTrue(stored.content_changed)
        for role in ("mc_user", "mc_manager", "inventory", "portal", "other_company_manager"):
            with self.subTest(role=role):
                _result, error = self._rpc(role, "multichannel.order", "action_import_as_new_order", [stored.id])
                self.assertEqual(error, "AccessError")
                stored.invalidate_recordset()
                self.assertTrue(stored.content_changed, "nothing was done")
                self.assertEqual(Order.search_count([("channel_id", "=", self.channel.id)]), 1)
        result, error = self._rpc("salesman", "multichannel.order", "action_import_as_new_order", [stored.id])
        self.assertIsNone(error, "a salesman may: the import creates what they could create")
        new = Order.browse(result["res_id"])
        self.assertEqual((new.external_id, new.state), ("SEC-2", "done"))
        self.assertEqual(new.sale_order_id.order_line.filtered("product_id.is_storable").product_id, self.desk)
        stored.invalidate_recordset()
        self.assertEqual((stored.replaced_by_id, stored.sale_order_id), (new, first_sale))
        _result, error = self._rpc("salesman", "multichannel.order", "action_import_as_new_order", [stored.id])
        self.assertEqual(error, "UserError", "handled once: a second press imports nothing")
        self.assertEqual(Order.search_count([("channel_id", "=", self.channel.id)]), 2)

    def test_listings_sync_state_is_the_engines(self):
        listing = self.chair_listing
        for vals in ({"pushed_qty": 55, "state": "synced"}, {"refused_regular_price": 1.0}):
            _result, error = self._rpc("mc_user", "multichannel.product.binding", "write", [listing.id], vals)
            self.assertEqual(error, "AccessError", vals)
        self.assertNotEqual(listing.pushed_qty, 55)
        _result, error = self._rpc("mc_user", "multichannel.product.binding", "write", [listing.id], {"price_sync": 0})
        self.assertIsNone(error, "a user manages what is synced")
        self.assertFalse(listing.price_sync)
        _result, error = self._rpc("mc_user", "multichannel.product.binding", "action_mark_pending", [listing.id])
        self.assertIsNone(error)
        self.assertTrue(listing.stock_pending)
        for role in ("inventory", "portal"):
            _result, error = self._rpc(role, "multichannel.product.binding", "action_mark_pending", [listing.id])
            self.assertEqual(error, "AccessError", role)

    def test_the_ledger_is_read_only(self):
        self.channel._push("stock")
        ledger = self.env["multichannel.ledger"].search([("channel_id", "=", self.channel.id)], limit=1)
        self.assertTrue(ledger)
        result, error = self._rpc("mc_user", "multichannel.ledger", "read", [ledger.id], ["new_value"])
        self.assertIsNone(error)
        self.assertEqual(result[0]["new_value"], ledger.new_value)
        for role in ("mc_user", "mc_manager"):
            _result, error = self._rpc(role, "multichannel.ledger", "write", [ledger.id], {"new_value": "0"})
            self.assertEqual(error, "AccessError", role)
        _result, error = self._rpc("other_company_manager", "multichannel.ledger", "read", [ledger.id], ["new_value"])
        self.assertEqual(error, "AccessError")

    def test_who_sets_prices_or_rates_has_them_reach_the_channels_on_time(self):
        """A Sales Administrator's promotion for later and an accountant's rate of the day,
        with none of the multichannel groups."""
        ref = self.env.ref
        self.users["sales_admin"] = self._user("rpc-sales-admin", [ref("sales_team.group_sale_manager")])
        self.users["accountant"] = self._user("rpc-accountant", [ref("account.group_account_manager")])
        self.assertNotEqual(self.company.currency_id, self.euro)
        self.channel._push("price")
        later = fields.Datetime.now() + timedelta(days=2)
        values = {
            "pricelist_id": self.pricelist.id,
            "applied_on": "0_product_variant",
            "product_id": self.desk.id,
            "compute_price": "fixed",
            "fixed_price": 199.0,
            "date_start": fields.Datetime.to_string(later),
        }
        _result, error = self._rpc("sales_admin", "product.pricelist.item", "create", values)
        self.assertIsNone(error)
        cron = ref("stock_multichannel.ir_cron_dated_prices")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertEqual(triggers.mapped("call_at"), [later], "the dated prices run when it starts")
        rate = {"currency_id": self.euro.id, "name": fields.Date.to_string(fields.Date.today()), "rate": 2.0}
        _result, error = self._rpc("accountant", "res.currency.rate", "create", rate)
        self.assertIsNone(error)
        self.channel._push("price")
        self.assertEqual(self.remote.prices["ext-desk"], 500.0)

    def test_an_imported_orders_ledger_line_is_its_channels_company(self):
        """Inserted in SQL as a push's lines are: with the company, user and date the ORM gives."""
        order = self.env["multichannel.order"]._receive(self.channel, order_data("SEC-L", total=None))
        self.assertEqual(order.state, "done", order.error)
        line = self.env["multichannel.ledger"].search([("order_id", "=", order.id)])
        self.assertEqual(line.mapped("answer"), [f"Imported as {order.sale_order_id.name}"])
        self.assertEqual(line.company_id, self.channel.company_id)
        self.assertEqual((line.create_uid.id, line.create_date), (self.env.uid, self.env.cr.now()))
        result, error = self._rpc("mc_user", "multichannel.ledger", "read", [line.id], ["order_id"])
        self.assertIsNone(error)
        self.assertEqual(result[0]["order_id"][0], order.id)
        _result, error = self._rpc("other_company_manager", "multichannel.ledger", "read", [line.id], ["answer"])
        self.assertEqual(error, "AccessError", "another company's manager does not see it")


@tagged("post_install", "-at_install")
class TestPrivacy(MultichannelCase):
    def _receive(self, external_id, **customer):
        data = order_data(external_id, total=None)
        data["customer"] = dict(data["customer"], **customer)
        order = self.env["multichannel.order"]._receive(self.channel, data)
        self.assertEqual(order.state, "done", order.error)
        return order.sale_order_id

    def test_people_sharing_a_phone_are_not_merged(self):
        alice = self._receive("P-1", name="Alice Pop", email="alice@example.com", phone="+40 711 111 111")
        bogdan = self._receive(
            "P-2", name="Bogdan Ionescu", email="bogdan@example.com", phone="+40 711 111 111", street="Str. Noua 9"
        )
        self.assertNotEqual(bogdan.partner_id, alice.partner_id)
        self.assertEqual(bogdan.partner_invoice_id.email, "bogdan@example.com")
        self.assertNotIn(bogdan.partner_shipping_id, alice.partner_id.child_ids)
        again = self._receive("P-3", name="alice pop", email="", phone="+40 711 111 111")
        self.assertEqual(again.partner_id, alice.partner_id, "the same phone and the same name: the same person")
        by_mail = self._receive("P-4", name="A. Pop", email="ALICE@example.com", phone="")
        self.assertEqual(by_mail.partner_id, alice.partner_id, "the same e-mail: the same person")
        stranger = self._receive("P-5", name="Alice_Pop", email="", phone="+40 711 111 111")
        self.assertNotEqual(stranger.partner_id, alice.partner_id, "no wildcard in the name match")

    def test_a_customer_is_looked_up_by_index_not_by_reading_every_contact(self):
        """A marketplace's contacts grow by thousands a month: each order's customer is
        found through an index (a case-insensitive e-mail included), never a full read."""
        self.env.cr.execute(
            """
            INSERT INTO res_partner
            SELECT (jsonb_populate_record(t, jsonb_build_object(
                       'id', nextval('res_partner_id_seq'), 'name', 'Past customer ' || n,
                       'complete_name', 'Past customer ' || n, 'email', 'c' || n || '@example.com',
                       'phone', '07' || lpad(n::text, 8, '0'), 'vat', 'RO' || n, 'parent_id', NULL,
                       'company_id', NULL, 'commercial_partner_id', NULL, 'user_id', NULL,
                       'active', true, 'type', 'contact', 'is_company', false))).*
              FROM res_partner t, generate_series(1, 5000) n
             WHERE t.id = %s;
            ANALYZE res_partner;
            """,
            # a contact of this database as the pattern: every column it requires filled
            [self.env.ref("base.partner_admin").id],
        )
        Partner = self.env["res.partner"].sudo()
        queries = Partner._multichannel_customer_queries(
            self.company, "Ana@Example.com", "RO123", "+40 700 000 001", "Ana Pop"
        )
        self.assertEqual(len(queries), 3)
        for query, condition in zip(queries, ("lower((email)::text)", "vat", "phone"), strict=True):
            self.env.cr.execute(SQL("EXPLAIN %s", query))
            plan = "\n".join(row[0] for row in self.env.cr.fetchall())
            self.assertNotIn("Seq Scan on res_partner", plan)
            self.assertRegex(plan, rf"Index Cond: \(+{re.escape(condition)}", plan)
        ana = Partner.create({"name": "Ana Pop", "email": "ana@example.com", "company_id": self.company.id})
        self.assertEqual(Partner._multichannel_customer(self.company, email="ANA@example.com"), ana)
        ana.email = "ana.pop@example.com"  # not flushed yet: looked up all the same
        self.assertEqual(Partner._multichannel_customer(self.company, email="Ana.Pop@example.com"), ana)

    def test_the_customers_note_is_plain_text_in_the_chatter(self):
        self.env["ir.config_parameter"].sudo().set_param("account.use_invoice_terms", True)
        self.company.invoice_terms = Markup("<p>Company terms</p>")
        note = '<img src="https://evil.example/x.png"><a href="https://evil.example">Click to confirm</a>'
        data = order_data("N-1", total=None, note=note)
        sale = self.env["multichannel.order"]._receive(self.channel, data).sale_order_id
        self.assertIn("Company terms", sale.note, "the company's terms stay")
        self.assertNotIn("evil", sale.note or "")
        message = sale.message_ids.filtered(lambda m: "evil.example" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn("&lt;img", message.body, "shown as text, never rendered")
        self.assertNotIn("<img", message.body)
        self.assertNotIn("<a href", message.body)

    def test_a_warehouse_user_ships_an_order_they_may_not_read(self):
        sale = self._receive("W-1")
        ref = self.env.ref
        sale.user_id = self.env["res.users"].create({"name": "Seller", "login": "w-seller"})
        clerk = self.env["res.users"].create(
            {
                "name": "Warehouse clerk",
                "login": "warehouse-clerk",
                # sees only their own sale orders, as in Odoo's own sale_stock test
                "groups_id": [
                    Command.set([ref("stock.group_stock_manager").id, ref("sales_team.group_sale_salesman").id])
                ],
            }
        )
        with self.assertRaises(AccessError):
            sale.with_user(clerk).check_access("read")
        picking = sale.picking_ids.with_user(clerk)
        picking.move_ids.quantity = 2
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual(sale.multichannel_order_id.status_to_send, "shipped")

    def test_a_listing_sells_only_its_companys_products(self):
        other = self.env["res.company"].create({"name": "Elsewhere"})
        foreign = self._product("Foreign chair", "FCHAIR", 10.0, company_id=other.id)
        with self.assertRaises(UserError):
            self._listing(foreign, "ext-foreign")

    def test_database_copies_stop_talking_to_channels(self):
        Channel = self.env["multichannel.channel"]
        credentials = (
            "emag_password",
            "emag_username",
            "emag_callback_token",
            "woo_key",
            "woo_secret",
            "woo_webhook_secret",
        )
        secrets = [name for name in credentials if name in Channel._fields]
        if secrets:
            self.channel.write(dict.fromkeys(secrets, "production-secret"))
        self.env.flush_all()
        # a channel account's rate window, named after a fingerprint of its login
        self.env.cr.execute("SELECT multichannel_rate_take('emag:0123456789abcdef:other', 3, 1.0, 60.0)")
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        self.assertFalse(Channel.search([]), "every channel switched off")
        for name in secrets:
            self.assertFalse(self.channel[name], name)
        self.env.cr.execute("SELECT account FROM multichannel_rate_window")
        self.assertEqual(self.env.cr.fetchall(), [], "no fingerprint of a login kept")
