import re
from pathlib import Path

import polib

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged

from ..lib.adapter import TransportError
from ..lib.messages import translated
from .common import order_data

ADDONS = ("stock_multichannel", "stock_multichannel_emag", "stock_multichannel_shop", "stock_multichannel_mrp")
# %s, %(name)s, %%, {name} and markup must come through a translation unchanged
PLACEHOLDER = re.compile(r"%(?:\([a-z_0-9]+\))?[sdfr%]|\{[a-z_ ]*\}|</?[a-z]+\b")
CEDILLA = re.compile("[şţŞŢ]")  # Romanian writes ș ț with a comma below


def po_files():
    """``(addon, i18n folder)`` of every addon of the repository that ships translations."""
    return [
        (addon, Path(get_module_path(addon)) / "i18n")
        for addon in ADDONS
        if get_module_path(addon, display_warning=False)
    ]


@tagged("post_install", "-at_install")
class TestRomanian(TransactionCase):
    """A Romanian merchant sees the addons in Romanian: menus, forms, choices and messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("ro_RO")
        installed = cls.env["ir.module.module"].search([("name", "in", ADDONS), ("state", "=", "installed")])
        cls.env["ir.module.module"]._load_module_terms(installed.mapped("name"), ["ro_RO"], overwrite=True)
        cls.env.registry.clear_cache()  # field labels and selections are cached per language
        cls.env.invalidate_all()
        company = cls.env.company
        cls.user = cls.env["res.users"].create(
            {
                "name": "Ana Popescu",
                "login": "ana.ro",
                "lang": "ro_RO",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("stock_multichannel.group_multichannel_manager").id,
                            cls.env.ref("sales_team.group_sale_salesman").id,
                            cls.env.ref("stock.group_stock_user").id,
                        ]
                    )
                ],
            }
        )
        # what a request of this user gets: the user's own language in the context
        cls.ro_env = cls.env(user=cls.user, context=dict(cls.env.context, lang="ro_RO"))
        warehouse = cls.env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
        pricelist = cls.env["product.pricelist"].create({"name": "Canal RON", "currency_id": company.currency_id.id})
        cls.channel = cls.env["multichannel.channel"].create(
            {"name": "eMAG România", "warehouse_ids": [Command.set(warehouse.ids)], "pricelist_id": pricelist.id}
        )

    def test_menus_are_in_romanian(self):
        menus = self.ro_env["ir.ui.menu"]
        self.assertEqual(menus.browse(self.env.ref("stock_multichannel.menu_multichannel_sale").id).name, "Multicanal")
        self.assertEqual(menus.browse(self.env.ref("stock_multichannel.menu_multichannel_stock").id).name, "Multicanal")
        self.assertEqual(
            menus.browse(self.env.ref("stock_multichannel.menu_multichannel_sale_channels").id).name, "Canale"
        )
        self.assertEqual(
            menus.browse(self.env.ref("stock_multichannel.menu_multichannel_sale_reporting").id).name, "Raportare"
        )
        loaded = menus.load_menus(debug=False)
        names = {menu["name"] for menu in loaded.values() if isinstance(menu, dict) and "name" in menu}
        self.assertIn("Multicanal", names)
        self.assertNotIn("Multichannel", names)
        # as the web client reads an action
        action = self.ro_env["ir.actions.actions"]._for_xml_id("stock_multichannel.action_multichannel_channel")
        self.assertEqual(action["name"], "Canale")
        self.assertIn("Adăugați primul loc în care vindeți", action["help"])

    def test_channel_form_labels_and_choices_are_in_romanian(self):
        fields = self.ro_env["multichannel.channel"].fields_get(
            ["pricelist_id", "warehouse_ids", "team_id", "stock_schedule", "channel_type", "order_auto_confirm"],
            ["string", "help", "selection"],
        )
        self.assertEqual(fields["pricelist_id"]["string"], "Listă de prețuri")
        self.assertEqual(fields["warehouse_ids"]["string"], "Depozite")
        self.assertEqual(fields["team_id"]["string"], "Echipă de vânzări")
        self.assertEqual(fields["order_auto_confirm"]["string"], "Confirmă comenzile")
        self.assertEqual(fields["stock_schedule"]["string"], "Trimitere stoc")
        self.assertEqual(fields["warehouse_ids"]["help"], "Stocul liber din aceste depozite este oferit pe canal.")
        self.assertIn(("realtime", "În timp real"), fields["stock_schedule"]["selection"])
        self.assertIn(("hourly", "Din oră în oră"), fields["stock_schedule"]["selection"])
        self.assertIn(("manual", "Manual (fără conector)"), fields["channel_type"]["selection"])
        arch = self.ro_env["multichannel.channel"].get_views([(False, "form")])["views"]["form"]["arch"]
        for text in ("Trimite stocul acum", "Testează conexiunea", "Conectați acest canal în trei pași.", "Stoc"):
            self.assertIn(text, arch)
        self.assertNotIn("Push Stock Now", arch)

    def test_messages_raised_by_the_code_are_in_romanian(self):
        channel = self.channel.with_env(self.ro_env)
        with self.assertRaises(ValidationError) as raised:
            channel.write({"stock_schedule": "custom", "stock_interval": 0})
        self.assertEqual(str(raised.exception), "Un interval este de cel puțin un minut.")
        with self.assertRaises(ValidationError) as raised:
            channel.write({"warehouse_ids": [Command.clear()]})
        self.assertEqual(
            str(raised.exception),
            "Canalul eMAG România are nevoie de cel puțin un depozit sau o locație din care să vândă.",
        )
        # a sync kind inside a message is translated too
        self.assertEqual(channel._kind_label("stock"), "Stoc")
        self.assertEqual(self.channel.with_context(lang="en_US")._kind_label("price"), "Price")
        # the same messages stay English for an English user
        with self.assertRaises(ValidationError) as raised:
            self.channel.with_context(lang="en_US").write({"stock_schedule": "custom", "stock_interval": 0})
        self.assertEqual(str(raised.exception), "An interval is at least one minute.")

    def test_messages_made_outside_the_orm_are_in_romanian(self):
        """Order-data problems (lib/) and a connector's errors (api/) are stored translated."""
        Order = self.env["multichannel.order"].with_context(lang="ro_RO")
        bad = order_data("RO-1", lines=[{"sku": "CHAIR", "quantity": "zece", "unit_price": 5}])
        order = Order._receive(self.channel, bad)
        order._process()
        self.assertEqual(
            order.error,
            "Datele comenzii primite de la canal nu sunt valide: lines[1].quantity: nu este un număr ('zece')",
        )
        english = (
            self.env["multichannel.order"]
            .with_context(lang="en_US")
            ._receive(self.channel, order_data("EN-1", lines=[{"sku": "CHAIR", "quantity": "ten", "unit_price": 5}]))
        )
        english._process()
        self.assertEqual(english.error, "The channel's order data is invalid: lines[1].quantity: not a number ('ten')")
        if "stock_multichannel_emag" not in self.env.registry._init_modules:
            return
        from odoo.addons.stock_multichannel_emag.api.client import EmagClient  # noqa: PLC0415

        client = EmagClient("https://marketplace-api.emag.ro/api-3", "user", "password")
        refused = type("Response", (), {"status_code": 429, "headers": {}})()
        with self.assertRaises(TransportError) as raised:
            client._parse("order/read", refused)
        self.assertEqual(
            translated(self.ro_env, raised.exception),
            "Limita de cereri eMAG a fost depășită pe order/read (HTTP 429)",
        )
        self.assertEqual(str(raised.exception), "eMAG rate limit exceeded on order/read (HTTP 429)")

    def test_every_term_is_translated(self):
        checked = 0
        for addon, folder in po_files():
            template, translation = folder / f"{addon}.pot", folder / "ro.po"
            self.assertTrue(template.exists(), f"{template} is missing")
            self.assertTrue(translation.exists(), f"{translation} is missing")
            po = polib.pofile(str(translation))
            entries = {entry.msgid: entry for entry in po if not entry.obsolete}
            missing = [entry.msgid for entry in polib.pofile(str(template)) if entry.msgid not in entries]
            untranslated = [e.msgid for e in entries.values() if not e.msgstr.strip() or "fuzzy" in e.flags]
            placeholders = [
                e.msgid
                for e in entries.values()
                if e.msgstr and sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr))
            ]
            cedillas = [e.msgstr for e in entries.values() if CEDILLA.search(e.msgstr)]
            self.assertFalse(missing, f"{addon}: terms of {template.name} missing from ro.po:\n" + "\n".join(missing))
            self.assertFalse(untranslated, f"{addon}: untranslated in ro.po:\n" + "\n".join(untranslated))
            self.assertFalse(placeholders, f"{addon}: placeholders or markup changed in:\n" + "\n".join(placeholders))
            self.assertFalse(cedillas, f"{addon}: ş/ţ with a cedilla instead of ș/ț:\n" + "\n".join(cedillas))
            checked += len(entries)
        self.assertTrue(po_files() and po_files()[0][0] == "stock_multichannel")
        self.assertGreater(checked, 100)
