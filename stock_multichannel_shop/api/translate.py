"""Translations between the core's plain data and WooCommerce payloads. Pure functions.

What a real WooCommerce 9.2 sends (see the contract tests replaying its recordings):
line ``price`` is a JSON number (int or long float), money totals and taxes are
strings with 2 decimals, the exact tax amounts per rate are strings with 4 decimals
(``line_items[].taxes[]``), the rates themselves are in ``tax_lines[]``
(``rate_id``, ``rate_percent``), a coupon's ``discount`` may be ``"13"``, and coupon
codes are lower-cased.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from odoo.addons.stock_multichannel.lib.messages import translatable
from odoo.addons.stock_multichannel.lib.orders import decimal_amount

_lt = translatable(__name__)

CORE_STATUS = {
    "processing": "open",
    "on-hold": "pending",  # awaiting payment (a bank transfer, a cheque): held, shipped once paid
    "completed": "open",
    "pending": "pending",
    "cancelled": "cancelled",
    "refunded": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}
#: statuses the shop gives an order before a real order exists (the block checkout's
#: draft, WordPress's auto-draft): never pending, never holding stock, never imported
DRAFT_STATUSES = frozenset({"checkout-draft", "draft", "auto-draft"})
CENT = Decimal("0.01")


def is_draft(order):
    return isinstance(order, dict) and order.get("status") in DRAFT_STATUSES


def core_status(shop_status):
    """The core's status of a shop status. Drafts are not orders yet: they come in as
    "cancelled" (never held, never imported), a plugin's own status as "pending"."""
    if shop_status in DRAFT_STATUSES:
        return "cancelled"
    return CORE_STATUS.get(shop_status, "pending")


def unknown_status(shop_status):
    """A status that is none of WooCommerce's own (a plugin's): the order may be paid, or
    not, and nobody would know; '' for WooCommerce's own statuses."""
    if shop_status in CORE_STATUS or shop_status in DRAFT_STATUSES:
        return ""
    return str(shop_status)


def money(value, places=2):
    """``value`` rounded to ``places`` decimals, written with no more than it needs past
    the cents: 8.3950 as "8.395", 100.0000 as "100.00"."""
    whole, _dot, cents = (
        f"{Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}".partition(".")
    )
    return f"{whole}.{cents.rstrip('0').ljust(2, '0')}" if cents else whole


def _decimal(value):
    """An amount of the shop's ("12.50"); an absent one is 0, one that is no number is
    refused (see ``decimal_amount``: where it can, the translation hands it on as sent)."""
    number = _loose(value)
    if number is None:
        raise ValueError(f"not an amount: {value!r}")
    return number


def _loose(value):
    """An amount, or None when it is no number (the field it came from is handed on as sent)."""
    return Decimal(0) if isinstance(value, bool) else decimal_amount(value)


def _sum_or_sent(*values):
    """The sum of these amounts (a Decimal), or the first that is no number as it was
    sent: handed to the core, which refuses the order naming the field."""
    total = Decimal(0)
    for value in values:
        number = _loose(value)
        if number is None:
            return value
        total += number
    return total


def _as_float(amount):
    return float(amount) if isinstance(amount, Decimal) else amount


def stock_item(item_id, quantity):
    """Odoo owns the stock: the shop keeps the quantity sent and sells no more of it
    (backorders allowed on the shop would sell past a pushed 0)."""
    return {"id": item_id, "manage_stock": True, "stock_quantity": max(0, int(quantity)), "backorders": "no"}


def allows_backorders(record):
    """The shop sells ``record`` past its quantity (a variation keeping its stock on its
    parent reports the parent's setting)."""
    return record.get("backorders") not in (None, "no")


def price_item(item_id, price, regular_price, places=2):
    """Regular price, and the sale price only when the pricelist gives less (else cleared),
    with ``places`` decimals (the shop keeps a price as sent, rounding only what it shows).
    The shop's own sale dates are cleared ("": WooCommerce ignores null): Odoo times its
    dated prices itself, and a sale scheduled in the shop kept charging the regular price
    until it started, or dropped Odoo's sale price when it ended."""
    regular = max(Decimal(str(regular_price or 0)), Decimal(str(price)))
    item = {
        "id": item_id,
        "regular_price": money(regular, places),
        "sale_price": "",
        "date_on_sale_from": "",
        "date_on_sale_to": "",
    }
    if Decimal(str(price)) < regular:
        item["sale_price"] = money(price, places)
    return item


def item_error(answer):
    """The error message of one batch answer item, or '' when it was saved."""
    error = answer.get("error") if isinstance(answer, dict) else {"message": _lt("no answer")}
    if not error:
        return ""
    if not isinstance(error, dict):
        return str(error)
    return _lt(
        "%(message)s (%(code)s)", message=error.get("message") or _lt("refused"), code=error.get("code", "error")
    )


def stock_on_parent(variation):
    """A variation whose stock the shop keeps on its parent reports ``manage_stock: "parent"``."""
    return isinstance(variation, dict) and variation.get("manage_stock") == "parent"


# ----------------------------------------------------------------------
# taxes
# ----------------------------------------------------------------------
def tax_rates(order):
    """{rate id: rate in percent} from the order's ``tax_lines``."""
    rates = {}
    for tax_line in order.get("tax_lines") or []:
        if isinstance(tax_line, dict) and tax_line.get("rate_id") not in (None, ""):
            rates[str(tax_line["rate_id"])] = _decimal(tax_line.get("rate_percent"))
    return rates


def _ratio_rate(amount, tax):
    """A rate derived from amounts: only a fallback when the order carries no rates.

    Derived from the exact per-rate amount (4 decimals), it is right to 0.01%; derived
    from rounded amounts (3 x 9.99 = 29.97 with tax 5.69) it is not, hence the
    rounding to the nearest 0.01% of an exact per-rate amount only."""
    amount, tax = _loose(amount), _loose(tax)
    if not amount or tax is None:
        return None
    return (tax / amount * 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _line_rate(item, rates, base_key="subtotal"):
    """The tax rate (percent, Decimal) of a line, shipping line or fee.

    From the line's per-rate taxes matched to the order's tax lines; several rates on
    one line add up (never seen on a store with one rate per class). None when the line
    does not say at all (then the product's own taxes apply)."""
    taxes = item.get("taxes")
    if isinstance(taxes, list):
        total = Decimal(0)
        found = False
        for tax in taxes:
            if not isinstance(tax, dict):
                continue
            amount = _loose(tax.get(base_key))
            if amount is None:
                return tax.get(base_key)  # no number: handed on as the line's rate, which the core refuses
            amount = amount or _loose(tax.get("total")) or Decimal(0)
            rate = rates.get(str(tax.get("id")))
            if rate is None:
                # a rate deleted from the shop since: derived from the exact amount
                rate = _ratio_rate(item.get(base_key) or item.get("total"), amount) or Decimal(0)
            if amount or rate:
                total += rate
                found = True
        return total if found else Decimal(0)
    tax_key = f"{base_key}_tax" if base_key == "subtotal" else "total_tax"
    if item.get(tax_key) in (None, ""):
        return None
    return _ratio_rate(item.get(base_key), item.get(tax_key)) or Decimal(0)


def _float(value):
    """A rate as the core takes it; one that is no number as sent, which the core refuses."""
    return None if value is None else float(value) if isinstance(value, Decimal | int | float) else value


def _address(data, email="", phone=""):
    data = data if isinstance(data, dict) else {}
    name = " ".join(filter(None, [str(data.get("first_name") or "").strip(), str(data.get("last_name") or "").strip()]))
    return {
        "name": name,
        "company": data.get("company") or "",
        "is_company": False,
        "street": data.get("address_1") or "",
        "street2": data.get("address_2") or "",
        "city": data.get("city") or "",
        "zip": data.get("postcode") or "",
        "state": data.get("state") or "",
        "country_code": data.get("country") or "",
        "email": data.get("email") or email,
        "phone": data.get("phone") or phone,
    }


def _discounts(order, line_rates, include, charges_tax=True):
    """Coupons as discounts, each with the tax rate of the lines it reduced.

    The shop spreads a coupon over the lines (``subtotal`` - ``total``); when the
    discounted lines share one rate, each coupon is one discount of that rate, else one
    discount per rate with the exact amounts taken from the lines."""
    coupons = [c for c in order.get("coupon_lines") or [] if isinstance(c, dict)]
    if not coupons:
        return []
    codes = ", ".join(str(c.get("code") or "").strip() for c in coupons if c.get("code"))
    per_rate = defaultdict(Decimal)
    for line, rate in line_rates:
        keys = ("subtotal", "total", "subtotal_tax", "total_tax") if include else ("subtotal", "total")
        amounts = [_loose(line.get(key)) for key in keys]
        if None in amounts:
            # how the coupons spread over the rates is unknown: handed on as sent, refused
            unread = line.get(keys[amounts.index(None)])
            return [{"name": f"Coupon {codes}".strip(), "tax_rate": None, "amount": unread}]
        reduced = sum(amounts[0::2], Decimal(0)) - sum(amounts[1::2], Decimal(0))
        if reduced:
            per_rate[rate] += reduced
    if len(per_rate) > 1:
        return [
            {
                "name": f"Coupon {codes} ({_rate_label(rate)}%)".replace("Coupon  ", "Coupon "),
                "tax_rate": _float(rate),
                "amount": float(amount.quantize(CENT, rounding=ROUND_HALF_UP)),
            }
            for rate, amount in per_rate.items()
        ]
    rate = next(iter(per_rate)) if per_rate else None
    discounts = []
    for coupon in coupons:
        amount = _sum_or_sent(coupon.get("discount"), coupon.get("discount_tax") if include else None)
        if not charges_tax:
            coupon_rate = None  # the lines' own
        elif rate is None:
            coupon_rate = _ratio_rate(coupon.get("discount"), coupon.get("discount_tax"))
        else:
            coupon_rate = rate
        discounts.append(
            {
                "name": f"Coupon {coupon.get('code') or ''}".strip(),
                "tax_rate": _float(coupon_rate),
                "amount": _as_float(amount),
            }
        )
    return discounts


def _rate_label(rate):
    return f"{rate.normalize():f}" if rate is not None else "?"


def normalize_order(order, charges_tax=True):
    """A WooCommerce order as the core's normalised order (see stock_multichannel.lib.orders).

    Lines go by variation id, then product id (the listing's external id), then SKU;
    unit prices come from the line subtotal (before coupons), coupons become discounts,
    fees with a positive amount are charged like shipping and negative ones discount.
    Tax rates come from the order's own per-rate data, never from rounded amounts. A shop
    charging no tax (``charges_tax`` False, its *Enable taxes* off) sells at the prices it
    shows, which hold the tax its merchant owes: prices with tax, at no rate of the shop's
    (each product's own rate applies in Odoo).
    """
    if not isinstance(order, dict):
        return {"external_id": "", "raw": order}
    # an order that carries tax was placed while the shop charged it, whatever it does now
    if not charges_tax and not _carries_tax(order):
        order = _without_tax_data(order)
    else:
        charges_tax = True
    include = bool(order.get("prices_include_tax")) or not charges_tax
    rates = tax_rates(order)
    lines, line_rates = [], []
    for line in order.get("line_items") or []:
        if not isinstance(line, dict):
            continue
        # a quantity or price that is no number goes to the core as sent, which refuses it by name
        quantity = _loose(line.get("quantity")) or Decimal(0)
        gross = _sum_or_sent(line.get("subtotal"), line.get("subtotal_tax") if include else None)
        if not isinstance(gross, Decimal):
            unit_price = gross
        else:
            unit_price = float(gross / quantity) if quantity else line.get("price")
        rate = _line_rate(line, rates)
        line_rates.append((line, rate))
        lines.append(
            {
                "external_id": str(line.get("id") or ""),
                "listing_external_id": str(line.get("variation_id") or line.get("product_id") or ""),
                "sku": line.get("sku") or "",
                "name": line.get("name") or "",
                "quantity": line.get("quantity"),
                "unit_price": unit_price,
                "tax_rate": _float(rate),
            }
        )
    charges = [
        {
            "name": s.get("method_title") or "Shipping",
            "tax_rate": _float(_line_rate(s, rates, "total")),
            "amount": _as_float(_sum_or_sent(s.get("total"), s.get("total_tax") if include else None)),
        }
        for s in order.get("shipping_lines") or []
        if isinstance(s, dict)
    ]
    discounts = _discounts(order, line_rates, include, charges_tax)
    for fee in order.get("fee_lines") or []:
        if not isinstance(fee, dict):
            continue
        amount = _sum_or_sent(fee.get("total"), fee.get("total_tax") if include else None)
        entry = {
            "name": fee.get("name") or "Fee",
            "tax_rate": _float(_line_rate(fee, rates, "total")),
            "amount": _as_float(abs(amount) if isinstance(amount, Decimal) else amount),
        }
        (discounts if isinstance(amount, Decimal) and amount < 0 else charges).append(entry)
    billing = order.get("billing") if isinstance(order.get("billing"), dict) else {}
    customer = _address(billing)
    # a company named at checkout is who buys: the invoice is the company's
    customer["is_company"] = bool(str(customer["company"]).strip())
    shipping = _address(order.get("shipping"))
    same = all(shipping[k] == customer[k] for k in ("street", "city", "zip", "name"))
    return {
        "external_id": str(order.get("id") or ""),
        "name": f"#{order.get('number') or order.get('id')}",  # the core says the channel: "Web shop #1234"
        "status": core_status(order.get("status")),
        "date": (order.get("date_created_gmt") or "").replace("T", " "),
        "modified": modified(order).replace("T", " "),
        "currency": order.get("currency") or "",
        "prices_include_tax": include,
        "customer": customer,
        "shipping_address": None if same or not shipping["street"] else shipping,
        "lines": lines,
        "shipping": charges,
        "discounts": discounts,
        "total": order.get("total"),
        "payment_method": order.get("payment_method_title") or order.get("payment_method") or "",
        "note": order.get("customer_note") or "",
        "stock_marks": stock_marks(order),
        "unknown_status": unknown_status(order.get("status")),
        "refunds": [
            {"external_id": str(r.get("id") or ""), "amount": r.get("total"), "reason": r.get("reason") or ""}
            for r in order.get("refunds") or []
            if isinstance(r, dict)
        ],
        "raw": order,
    }


def _carries_tax(order):
    total_tax = _loose(order.get("total_tax"))
    return bool(order.get("tax_lines")) or total_tax is None or bool(total_tax)


def _without_tax_data(order):
    """The order as the core reads it from a shop charging no tax: no line says a rate (a
    rate of 0 would be a tax of 0), whatever an extension wrote."""
    order = dict(order)
    for key in ("line_items", "shipping_lines", "fee_lines", "coupon_lines"):
        order[key] = [
            {k: v for k, v in item.items() if k not in ("taxes", "subtotal_tax", "total_tax", "discount_tax")}
            if isinstance(item, dict)
            else item
            for item in order.get(key) or []
        ]
    order["tax_lines"] = []
    return order


def stock_marks(order):
    """What of the order moved the shop's stock besides its status: its refunds, and the
    units each line still holds (``_reduced_stock``, which a refund restocking units lowers)."""
    refunds = sorted(str(r.get("id")) for r in order.get("refunds") or [] if isinstance(r, dict))
    held = sorted(
        f"{line.get('id')}:{meta.get('value')}"
        for line in order.get("line_items") or []
        if isinstance(line, dict)
        for meta in line.get("meta_data") or []
        if isinstance(meta, dict) and meta.get("key") == "_reduced_stock"
    )
    return f"refunds {','.join(refunds)}; held {','.join(held)}"


def modified(order):
    """The order's GMT modification stamp, comparable as text ('' when unknown)."""
    return str(order.get("date_modified_gmt") or "") if isinstance(order, dict) else ""
