"""Proto <-> domain conversions for the settings service."""

from __future__ import annotations

from datetime import UTC, date, datetime

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.settings.v1 import resources_pb2 as res
from mesh.errors import InvalidArgument
from mesh.timestamps import ts
from services.settings.domain import segments as seg
from services.settings.domain import tax
from services.settings.domain.store import Address, StoreConfig
from services.settings.handlers.store import MethodValues, StoreView
from services.settings.models import (
    CustomerProfile,
    CustomerSegment,
    PaymentMethodConfig,
    TaxRateRule,
)

INR = "INR"


def money(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency_code=INR)


def minor(m: money_pb2.Money, field: str) -> int:
    if m.currency_code not in ("", INR):
        raise InvalidArgument({f"{field}.currency_code": "only INR is supported"})
    return m.amount_minor


def from_ts(t: timestamp_pb2.Timestamp) -> datetime:
    return t.ToDatetime(tzinfo=UTC)


def from_date(d: date_pb2.Date, field: str) -> date:
    try:
        return date(d.year, d.month, d.day)
    except ValueError:
        raise InvalidArgument({field: "is not a valid date"}) from None


def to_date(d: date) -> date_pb2.Date:
    return date_pb2.Date(year=d.year, month=d.month, day=d.day)


# --- store settings -------------------------------------------------------------------


def address_pb(a: Address) -> address_pb2.PostalAddress | None:
    """The registered address as a PostalAddress; None (field unset) when there is none."""
    if not a.is_set:
        return None
    return address_pb2.PostalAddress(
        recipient_name=a.recipient_name,
        phone=a.phone,
        line1=a.line1,
        line2=a.line2,
        landmark=a.landmark,
        city=a.city,
        state_code=a.state_code,
        pincode=a.pincode,
        country_code=a.country_code,
    )


def address_from_pb(m: address_pb2.PostalAddress) -> Address:
    return Address(
        recipient_name=m.recipient_name,
        phone=m.phone,
        line1=m.line1,
        line2=m.line2,
        landmark=m.landmark,
        city=m.city,
        state_code=m.state_code,
        pincode=m.pincode,
        country_code=m.country_code,
    )


def store_pb(view: StoreView) -> res.StoreSettings:
    c = view.config
    return res.StoreSettings(
        name="storeSettings",
        store_name=c.store_name,
        legal_name=c.legal_name,
        gstin=c.gstin,
        registered_state_code=c.registered_state_code,
        invoice_prefix=c.invoice_prefix,
        return_window_days=c.return_window_days,
        flat_shipping_rate=money(c.flat_shipping_rate_minor),
        free_shipping_threshold=money(c.free_shipping_threshold_minor),
        currency_code=c.currency_code,
        support_email=c.support_email,
        support_phone=c.support_phone,
        prices_include_tax=c.prices_include_tax,
        update_time=ts(view.update_time),
        update_by=view.update_by,
        registered_address=address_pb(c.registered_address),
    )


def store_values(m: res.StoreSettings) -> dict[str, object]:
    """StoreConfig attribute -> value from the proto (all fields; the mask picks)."""
    p = "store_settings."
    return {
        "store_name": m.store_name,
        "legal_name": m.legal_name,
        "gstin": m.gstin,
        "registered_state_code": m.registered_state_code,
        "invoice_prefix": m.invoice_prefix,
        "return_window_days": m.return_window_days,
        "flat_shipping_rate_minor": minor(m.flat_shipping_rate, p + "flat_shipping_rate"),
        "free_shipping_threshold_minor": minor(
            m.free_shipping_threshold, p + "free_shipping_threshold"
        ),
        "currency_code": m.currency_code,
        "support_email": m.support_email,
        "support_phone": m.support_phone,
        "prices_include_tax": m.prices_include_tax,
        "registered_address": address_from_pb(m.registered_address),
    }


def public_pb(c: StoreConfig) -> res.PublicStoreSettings:
    return res.PublicStoreSettings(
        store_name=c.store_name,
        currency_code=c.currency_code,
        support_email=c.support_email,
        support_phone=c.support_phone,
        return_window_days=c.return_window_days,
        flat_shipping_rate=money(c.flat_shipping_rate_minor),
        free_shipping_threshold=money(c.free_shipping_threshold_minor),
        prices_include_tax=c.prices_include_tax,
    )


# --- tax rules -------------------------------------------------------------------------


def rule_pb(r: TaxRateRule) -> res.TaxRateRule:
    return res.TaxRateRule(
        name=r.name,
        hsn_prefix=r.hsn_prefix,
        tax_class=r.tax_class,
        slabs=[
            res.TaxSlab(up_to_unit_price=money(s["up_to_minor"]), rate_basis_points=s["rate_bp"])
            for s in r.slabs
        ],
        effective_from=ts(r.effective_from),
        description=r.description,
        create_time=ts(r.create_time),
    )


def tax_slab(s: tax.Slab) -> res.TaxSlab:
    return res.TaxSlab(up_to_unit_price=money(s.up_to_minor), rate_basis_points=s.rate_bp)


def slabs(m: res.TaxRateRule) -> tuple[tax.Slab, ...]:
    return tuple(
        tax.Slab(minor(s.up_to_unit_price, f"tax_rate_rule.slabs[{i}]"), s.rate_basis_points)
        for i, s in enumerate(m.slabs)
    )


# --- payment methods --------------------------------------------------------------------


def method_pb(m: PaymentMethodConfig) -> res.PaymentMethod:
    return res.PaymentMethod(
        name=m.name,
        display_name=m.display_name,
        provider=m.provider,  # type: ignore[arg-type]
        enabled=m.enabled,
        display_order=m.display_order,
        min_order_value=money(m.min_order_minor),
        max_order_value=money(m.max_order_minor),
        fee=money(m.fee_minor),
        description=m.description,
        update_time=ts(m.update_time),
    )


def method_values(m: res.PaymentMethod) -> MethodValues:
    p = "payment_method."
    return MethodValues(
        display_name=m.display_name,
        provider=int(m.provider),
        enabled=m.enabled,
        display_order=m.display_order,
        min_order_minor=minor(m.min_order_value, p + "min_order_value"),
        max_order_minor=minor(m.max_order_value, p + "max_order_value"),
        fee_minor=minor(m.fee, p + "fee"),
        description=m.description,
    )


# --- segments ---------------------------------------------------------------------------


def rules_from_pb(r: res.SegmentRules) -> seg.Rules:
    p = "customer_segment.rules."
    return seg.Rules(
        min_total_spend_minor=(
            minor(r.min_total_spend, p + "min_total_spend")
            if r.HasField("min_total_spend")
            else None
        ),
        max_total_spend_minor=(
            minor(r.max_total_spend, p + "max_total_spend")
            if r.HasField("max_total_spend")
            else None
        ),
        min_order_count=r.min_order_count if r.HasField("min_order_count") else None,
        max_order_count=r.max_order_count if r.HasField("max_order_count") else None,
        state_codes=tuple(r.state_codes),
        cities=tuple(r.cities),
        signed_up_within_days=(
            r.signed_up_within_days if r.HasField("signed_up_within_days") else None
        ),
        signed_up_after=from_ts(r.signed_up_after) if r.HasField("signed_up_after") else None,
        signed_up_before=from_ts(r.signed_up_before) if r.HasField("signed_up_before") else None,
        any_tags=tuple(r.any_tags),
        all_tags=tuple(r.all_tags),
    )


def rules_pb(r: seg.Rules) -> res.SegmentRules:
    out = res.SegmentRules(
        state_codes=list(r.state_codes),
        cities=list(r.cities),
        any_tags=list(r.any_tags),
        all_tags=list(r.all_tags),
    )
    if r.min_total_spend_minor is not None:
        out.min_total_spend.CopyFrom(money(r.min_total_spend_minor))
    if r.max_total_spend_minor is not None:
        out.max_total_spend.CopyFrom(money(r.max_total_spend_minor))
    if r.min_order_count is not None:
        out.min_order_count = r.min_order_count
    if r.max_order_count is not None:
        out.max_order_count = r.max_order_count
    if r.signed_up_within_days is not None:
        out.signed_up_within_days = r.signed_up_within_days
    if r.signed_up_after is not None:
        out.signed_up_after.CopyFrom(ts(r.signed_up_after))
    if r.signed_up_before is not None:
        out.signed_up_before.CopyFrom(ts(r.signed_up_before))
    return out


def segment_pb(s: CustomerSegment) -> res.CustomerSegment:
    return res.CustomerSegment(
        name=s.name,
        display_name=s.display_name,
        description=s.description,
        rules=rules_pb(seg.Rules.from_json(s.rules)),
        create_time=ts(s.create_time),
        update_time=ts(s.update_time),
    )


def profile_pb(p: CustomerProfile) -> res.CustomerProfile:
    return res.CustomerProfile(
        name=f"customerProfiles/{p.user_id}",
        user=f"users/{p.user_id}",
        total_spend=money(p.total_spend_minor or 0),
        order_count=p.order_count or 0,
        state_code=p.state_code or "",
        city=p.city or "",
        tags=list(p.tags or []),
        update_time=ts(p.update_time),
    )
