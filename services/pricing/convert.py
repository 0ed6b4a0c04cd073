"""Conversions: protos <-> domain values <-> rows. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message

from cleanse.catalog.v1 import catalog_internal_service_pb2 as catalog_pb2
from cleanse.common.v1 import money_pb2
from cleanse.pricing.v1 import breakdown_pb2, resources_pb2
from mesh.timestamps import ts
from services.pricing import models
from services.pricing.domain import model as d
from services.pricing.domain import result as r

M = TypeVar("M", bound=Message)

OUTPUT_ONLY = ("name", "times_used", "times_held", "created_by", "create_time", "update_time")


def money(paise: int, currency: str = "INR") -> money_pb2.Money:
    return money_pb2.Money(amount_minor=paise, currency_code=currency)


def when(msg: Message, field: str) -> datetime | None:
    if not msg.HasField(field):
        return None
    return getattr(msg, field).ToDatetime(tzinfo=UTC)


# --- rows <-> resources ----------------------------------------------------------


def spec_of(resource: Message) -> dict[str, Any]:
    """The stored document: the resource without its output-only fields."""
    clean = type(resource)()
    clean.CopyFrom(resource)
    for f in OUTPUT_ONLY:
        if f in clean.DESCRIPTOR.fields_by_name:
            clean.ClearField(f)
    return MessageToDict(clean, preserving_proto_field_name=True)


def resource_of(row: models.RuleColumns, cls: type[M], collection: str) -> M:
    out = ParseDict(row.spec or {}, cls(), ignore_unknown_fields=True)
    out.name = f"{collection}/{row.id}"  # type: ignore[attr-defined]
    out.active = row.active  # type: ignore[attr-defined]
    out.created_by = row.created_by  # type: ignore[attr-defined]
    out.create_time.CopyFrom(ts(row.create_time))  # type: ignore[attr-defined]
    out.update_time.CopyFrom(ts(row.update_time))  # type: ignore[attr-defined]
    if isinstance(row, models.Coupon):
        out.code = row.code  # type: ignore[attr-defined]
        out.times_used = row.times_used  # type: ignore[attr-defined]
        out.times_held = row.times_reserved - row.times_used  # type: ignore[attr-defined]
    return out


# --- resources -> domain ---------------------------------------------------------


def _ids(values: Any) -> frozenset[str]:
    return frozenset(values)


def eligibility(e: resources_pb2.Eligibility) -> d.Eligibility:
    return d.Eligibility(
        product_ids=_ids(e.product_ids),
        variant_ids=_ids(e.variant_ids),
        category_ids=_ids(e.category_ids),
        collection_ids=_ids(e.collection_ids),
        brand_ids=_ids(e.brand_ids),
        tags=_ids(e.tags),
        exclude_product_ids=_ids(e.exclude_product_ids),
        exclude_variant_ids=_ids(e.exclude_variant_ids),
        exclude_category_ids=_ids(e.exclude_category_ids),
        exclude_collection_ids=_ids(e.exclude_collection_ids),
    )


def offer(msg: Any) -> d.Offer:
    b = msg.buy_x_get_y
    return d.Offer(
        kind=d.Kind(msg.kind),
        percent_bp=msg.percent_basis_points,
        amount=msg.amount.amount_minor,
        max_discount=msg.max_discount.amount_minor,
        buy_quantity=b.buy_quantity,
        get_quantity=b.get_quantity,
        get_discount_bp=b.get_discount_basis_points or 10_000,
        max_applications=b.max_applications,
    )


def window(msg: Any) -> d.Window:
    return d.Window(when(msg, "start_time"), when(msg, "end_time"))


def coupon(row: models.Coupon) -> d.Coupon:
    c = resource_of(row, resources_pb2.Coupon, "coupons")
    return d.Coupon(
        id=row.id,
        code=row.code,
        offer=offer(c),
        description=c.description,
        min_cart_value=c.min_cart_value.amount_minor,
        window=window(c),
        usage_limit=row.usage_limit,
        per_customer_limit=row.per_customer_limit,
        first_order_only=c.first_order_only,
        segments=_ids(c.customer_segments),
        eligibility=eligibility(c.eligibility),
        exclusive=c.exclusive,
        group=c.combination_group or "default",
        priority=c.priority,
        active=row.active,
        listed=row.listed,
        times_reserved=row.times_reserved,
    )


def automatic(row: models.AutomaticDiscount) -> d.AutomaticDiscount:
    a = resource_of(row, resources_pb2.AutomaticDiscount, "automaticDiscounts")
    return d.AutomaticDiscount(
        id=row.id,
        title=a.title,
        offer=offer(a),
        min_cart_value=a.min_cart_value.amount_minor,
        min_quantity=a.min_quantity,
        window=window(a),
        eligibility=eligibility(a.eligibility),
        priority=a.priority,
        active=row.active,
        combines_with_coupons=a.combines_with_coupons,
    )


def tier(row: models.TierDiscount) -> d.Tier:
    t = resource_of(row, resources_pb2.TierDiscount, "tierDiscounts")
    return d.Tier(
        id=row.id,
        title=t.title,
        min_subtotal=t.min_subtotal.amount_minor,
        percent_bp=t.percent_basis_points,
        max_discount=t.max_discount.amount_minor,
        window=window(t),
        active=row.active,
    )


def gift(row: models.FreeGiftRule) -> d.GiftRule:
    g = resource_of(row, resources_pb2.FreeGiftRule, "freeGiftRules")
    return d.GiftRule(
        id=row.id,
        title=g.title,
        min_subtotal=g.min_subtotal.amount_minor,
        variant_id=g.gift_variant_id,
        quantity=max(g.gift_quantity, 1),
        window=window(g),
        priority=g.priority,
        active=row.active,
    )


def variant(v: catalog_pb2.VariantSnapshot) -> d.Variant:
    title = f"{v.product_title} - {v.variant_title}" if v.variant_title else v.product_title
    return d.Variant(
        variant_id=v.variant_id,
        price=v.price.amount_minor,
        mrp=v.mrp.amount_minor,
        product_id=v.product_id,
        sku=v.sku,
        title=title,
        hsn_code=v.hsn_code,
        tax_class=v.tax_class,
        sellable=v.sellable,
        category_ids=frozenset(v.category_ids),
        brand_id=v.brand_id,
        collection_ids=frozenset(v.collection_ids),
        tags=frozenset(v.tags),
        weight_grams=v.weight_grams,
        pieces_per_unit=max(v.pieces_per_unit, 1),  # 0: an older catalog, one piece
        product_title=v.product_title,
        variant_title=v.variant_title,
    )


# --- breakdown -> proto ------------------------------------------------------------
# Built by assigning into the parent message (no temporary submessages to copy):
# this runs for every priced cart.


def _set_money(m: money_pb2.Money, paise: int, cur: str) -> None:
    m.amount_minor = paise
    m.currency_code = cur


def _fill_discount(out: breakdown_pb2.AppliedDiscount, x: r.Discount, cur: str) -> None:
    out.source = int(x.source)
    out.rule = x.rule
    out.code = x.code
    out.title = x.title
    _set_money(out.amount, x.amount, cur)
    out.capped = x.capped


def _fill_tax(out: breakdown_pb2.TaxAmounts, t: r.Tax, cur: str) -> None:
    _set_money(out.taxable_value, t.taxable_value, cur)
    _set_money(out.cgst, t.cgst, cur)
    _set_money(out.sgst, t.sgst, cur)
    _set_money(out.igst, t.igst, cur)
    _set_money(out.total_tax, t.total, cur)


def _fill_line(out: breakdown_pb2.PricedLine, ln: r.Line, cur: str) -> None:
    out.variant_id = ln.variant_id
    out.product_id = ln.product_id
    out.sku = ln.sku
    out.title = ln.title
    out.product_title = ln.product_title
    out.variant_title = ln.variant_title
    out.quantity = ln.quantity
    _set_money(out.unit_mrp, ln.unit_mrp, cur)
    _set_money(out.unit_price, ln.unit_price, cur)
    _set_money(out.gross, ln.gross, cur)
    for x in ln.discounts:  # shares: rule and amount (titles are in the cart's list)
        share = out.discounts.add()
        share.source = int(x.source)
        share.rule = x.rule
        share.code = x.code
        _set_money(share.amount, x.amount, cur)
    _set_money(out.discount_total, ln.discount_total, cur)
    _set_money(out.net, ln.net, cur)
    out.hsn_code = ln.hsn_code
    out.gst_rate_basis_points = ln.gst_rate_bp
    out.tax_rule = ln.tax_rule
    _fill_tax(out.tax, ln.tax, cur)
    _set_money(out.total, ln.total, cur)
    out.free_gift = ln.free_gift
    out.gift_rule = ln.gift_rule


def _fill_coupon(out: breakdown_pb2.CouponResult, o: r.CouponOutcome, cur: str) -> None:
    out.code = o.code
    out.applied = o.applied
    out.coupon = o.coupon
    out.rejection = int(o.rejection)
    out.message = o.message
    _set_money(out.savings, o.savings, cur)


def _fill_progress(out: breakdown_pb2.Progress, p: r.Progress, cur: str) -> None:
    out.kind = int(p.kind)
    out.rule = p.rule
    out.title = p.title
    _set_money(out.threshold, p.threshold, cur)
    _set_money(out.remaining, p.remaining, cur)
    out.percent_basis_points = p.percent_bp
    out.message = p.message


def coupon_result(o: r.CouponOutcome, cur: str = "INR") -> breakdown_pb2.CouponResult:
    out = breakdown_pb2.CouponResult()
    _fill_coupon(out, o, cur)
    return out


def progress(p: r.Progress, cur: str = "INR") -> breakdown_pb2.Progress:
    out = breakdown_pb2.Progress()
    _fill_progress(out, p, cur)
    return out


def breakdown(b: r.Breakdown) -> breakdown_pb2.PriceBreakdown:
    out = breakdown_pb2.PriceBreakdown()
    fill_breakdown(out, b)
    return out


def fill_breakdown(out: breakdown_pb2.PriceBreakdown, b: r.Breakdown) -> None:
    """`b` into `out` (empty), e.g. a CouponHold's `breakdown` field in place."""
    cur = b.currency
    for ln in b.lines:
        _fill_line(out.lines.add(), ln, cur)
    for x in b.discounts:
        _fill_discount(out.discounts.add(), x, cur)
    for o in b.coupons:
        _fill_coupon(out.coupons.add(), o, cur)
    s = b.shipping
    shipping = out.shipping
    _set_money(shipping.fee, s.fee, cur)
    _set_money(shipping.base_fee, s.base_fee, cur)
    shipping.source = s.source
    shipping.free = s.free
    shipping.free_reason = s.free_reason
    _fill_tax(shipping.tax, s.tax, cur)
    shipping.gst_rate_basis_points = s.gst_rate_bp
    _set_money(out.cod_fee, b.payment_fee, cur)
    _fill_tax(out.cod_fee_tax, b.payment_fee_tax, cur)
    out.cod_fee_gst_rate_basis_points = b.payment_fee_gst_rate_bp
    _set_money(out.subtotal, b.subtotal, cur)
    _set_money(out.mrp_total, b.mrp_total, cur)
    _set_money(out.discount_total, b.discount_total, cur)
    _fill_tax(out.tax, b.tax, cur)
    _set_money(out.total, b.total, cur)
    out.registered_state_code = b.registered_state
    out.place_of_supply_state_code = b.place_of_supply
    out.inter_state = b.inter_state
    out.prices_include_tax = b.prices_include_tax
    for p in b.progress:
        _fill_progress(out.progress.add(), p, cur)
    out.payment_method_available = b.payment_method_available
    out.messages.extend(b.messages)
    out.currency_code = cur
