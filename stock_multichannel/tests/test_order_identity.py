from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..const import TO_FIX_DOMAIN
from .common import MultichannelCase, order_data


@tagged("post_install", "-at_install")
class TestOrderIdentity(MultichannelCase):
    """Names say the channel; an id coming back as another order is kept for a human."""

    def _receive(self, data, channel=None):
        return self.env["multichannel.order"]._receive(channel or self.channel, data)

    def test_two_channels_numbering_alike_are_told_apart(self):
        other = self.env["multichannel.channel"].create(
            {
                "name": "Other Marketplace",
                "channel_type": "manual",
                "warehouse_ids": [Command.set(self.warehouse.ids)],
                "pricelist_id": self.pricelist.id,
                "customer_country_id": self.env.ref("base.ro").id,
            }
        )
        self._listing(self.chair, "ext-chair", channel=other)
        here = self._receive(order_data("100001", name="100001"))
        there = self._receive(order_data("100001", name="100001"), channel=other)
        self.assertEqual((here.name, there.name), ("Test Marketplace 100001", "Other Marketplace 100001"))
        for order in here | there:
            sale = order.sale_order_id
            self.assertEqual(sale.client_order_ref, order.name)
            self.assertEqual(sale.origin, order.name)
            self.assertEqual(sale.picking_ids.origin, f"{sale.name} - {order.name}", "the delivery says the channel")

    def test_an_order_without_a_name_is_named_by_its_id(self):
        order = self._receive(order_data("7001", name=""))
        self.assertEqual(order.name, "Test Marketplace 7001")

    def test_the_order_is_readable_without_its_payload(self):
        order = self._receive(order_data("2001", date="2026-03-02 05:25:38"))
        self.assertEqual(order.customer_name, "Ana Pop")
        self.assertEqual(order.customer_email, "ana@example.com")
        self.assertEqual(str(order.order_date), "2026-03-02 05:25:38")
        self.assertEqual((order.amount_total, order.currency_id), (250.0, self.euro))
        self.assertEqual(order.product_summary, "2 × Office chair")
        self.assertIn("2 × Office chair (CHAIR) @ 100", order.line_summary)
        broken = self._receive({"external_id": "2002", "lines": "?", "customer": {"name": "Ion"}})
        self.assertEqual(broken.state, "error")
        self.assertEqual((broken.customer_name, broken.product_summary), ("Ion", False))

    def test_a_reused_id_with_other_content_is_kept_for_a_human(self):
        order = self._receive(order_data("3001", date="2027-03-02 05:25:38"))
        sale = order.sale_order_id
        self.assertEqual(order.state, "done")
        self.assertEqual(self.chair_listing.target_qty, 98)
        other = order_data(
            "3001",
            date="2027-05-10 10:00:00",
            lines=[{"listing_external_id": "ext-desk", "name": "Desk", "quantity": 3, "unit_price": 250.0}],
            customer=dict(order_data()["customer"], name="Ion Ionescu", email="ion@example.com"),
            total=None,
        )
        self.assertFalse(self._receive(other))
        self.assertEqual(order.state, "done", "the imported order stays as it was")
        self.assertTrue(order.content_changed)
        self.assertEqual(order.payload["lines"][0]["listing_external_id"], "ext-chair", "never overwritten")
        self.assertEqual(order.changed_payload["customer"]["name"], "Ion Ionescu")
        self.assertIn("products 3 × Desk instead of 2 × Office chair", order.error)
        self.assertIn("customer Ion Ionescu instead of Ana Pop", order.error)
        self.assertIn(sale.name, order.error)
        self.assertEqual(sale.order_line.filtered("product_id.is_storable").product_id, self.chair)
        self.assertIn(order, self.env["multichannel.order"].search(TO_FIX_DOMAIN))
        self.assertEqual(self.channel.order_error_count, 1)
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, 7, "the other order's desks stay held")
        refused = self.env["multichannel.ledger"].search([("order_id", "=", order.id), ("result", "=", "refused")])
        self.assertEqual(len(refused), 1)
        self._receive(other)  # read again by the next poll: flagged once
        self.assertEqual(
            self.env["multichannel.ledger"].search_count([("order_id", "=", order.id), ("result", "=", "refused")]), 1
        )

    def test_a_status_update_of_the_same_order_is_followed(self):
        order = self._receive(order_data("4001"))
        self._receive(order_data("4001", status="cancelled", payment_method="bank transfer"))
        self.assertFalse(order.content_changed)
        self.assertEqual(order.state, "cancelled")

    def test_handling_a_changed_order_needs_sale_rights(self):
        order = self._receive(order_data("5001"))
        other = order_data("5001", lines=[{"listing_external_id": "ext-desk", "quantity": 1, "unit_price": 250.0}])
        self._receive(other)
        viewer = self.env["res.users"].create(
            {
                "name": "Channel viewer",
                "login": "channel_viewer_5001",
                "groups_id": [Command.set(self.env.ref("stock_multichannel.group_multichannel_user").ids)],
            }
        )
        with self.assertRaises(AccessError):
            order.with_user(viewer).action_mark_handled()
        salesman = self.env["res.users"].create(
            {
                "name": "Channel salesman",
                "login": "channel_salesman_5001",
                "groups_id": [
                    Command.set(
                        (
                            self.env.ref("stock_multichannel.group_multichannel_user")
                            | self.env.ref("sales_team.group_sale_salesman_all_leads")
                        ).ids
                    )
                ],
            }
        )
        order.with_user(salesman).action_mark_handled()
        self.assertFalse(order.content_changed)
        self.assertFalse(order.error)
        self.assertEqual(order.payload["lines"][0]["listing_external_id"], "ext-desk", "the new content is kept")
        self._receive(other)
        self.assertFalse(order.content_changed, "the same content again is no news")
        self.desk_listing.invalidate_recordset()
        self.assertEqual(self.desk_listing.target_qty, 10, "nothing held any more")
