"""Rows and domain values <-> protos."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cleanse.common.v1 import address_pb2, money_pb2
from cleanse.order.v1 import resources_pb2 as pb
from cleanse.pricing.v1 import breakdown_pb2
from mesh.timestamps import ts
from services.order.domain.checkout import PricedLineFacts
from services.order.models import (
    CheckoutSession,
    Order,
    OrderEdit,
    OrderItem,
    OrderStatusChange,
    Payment,
)

INR = "INR"


def money(minor: int, currency: str = INR) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency_code=currency or INR)


def address_out(d: dict[str, Any]) -> address_pb2.PostalAddress:
    return address_pb2.PostalAddress(**{k: str(v) for k, v in d.items()})


def priced_line(line: breakdown_pb2.PricedLine) -> PricedLineFacts:
    tax = line.tax
    return PricedLineFacts(
        variant_id=line.variant_id,
        product_id=line.product_id,
        sku=line.sku,
        title=line.title,
        quantity=line.quantity,
        unit_mrp=line.unit_mrp.amount_minor,
        unit_price=line.unit_price.amount_minor,
        discount=line.discount_total.amount_minor,
        taxable=tax.taxable_value.amount_minor,
        tax=tax.total_tax.amount_minor,
        total=line.total.amount_minor,
        hsn_code=line.hsn_code,
        rate_bp=line.gst_rate_basis_points,
        free_gift=line.free_gift,
        gift_rule=line.gift_rule,
        cgst=tax.cgst.amount_minor,
        sgst=tax.sgst.amount_minor,
        igst=tax.igst.amount_minor,
    )


def session(row: CheckoutSession) -> pb.CheckoutSession:
    quote = breakdown_pb2.PriceBreakdown.FromString(row.quote)
    cur = quote.currency_code or INR
    return pb.CheckoutSession(
        name=f"checkoutSessions/{row.id}",
        cart=f"carts/{row.cart_id}",
        customer=f"users/{row.customer_id}" if row.customer_id else "",
        state=pb.CheckoutSessionState.Value(f"CHECKOUT_SESSION_STATE_{row.state}"),
        delivery_address=address_out(row.address),
        email=row.email,
        phone=row.phone,
        shipping=pb.ShippingSelection(
            option=row.shipping_option,
            rate=money(row.shipping_rate_minor, cur),
            source=row.shipping_source,
        ),
        payment_method=row.payment_method,
        coupon_codes=row.coupon_codes,
        quote=quote,
        quote_expire_time=ts(row.quote_expire_time),
        reservation=row.reservation_name,
        reservation_expire_time=ts(row.reservation_expire_time),
        order=f"orders/{row.order_id}" if row.order_id else "",
        create_time=ts(row.create_time),
        available_payment_methods=row.available_methods,
        degradations=row.degradations,
    )


def payment(row: Payment) -> pb.Payment:
    return pb.Payment(
        name=f"orders/{row.order_id}/payments/{row.id}",
        provider=pb.PaymentProvider.Value(f"PAYMENT_PROVIDER_{row.provider}"),
        method=row.method,
        state=pb.PaymentState.Value(f"PAYMENT_STATE_{row.state}"),
        amount=money(row.amount_minor, row.currency),
        provider_order_id=row.provider_order_id or "",
        provider_payment_id=row.provider_payment_id or "",
        error_code=row.error_code,
        error_description=row.error_description,
        create_time=ts(row.create_time),
        update_time=ts(row.update_time),
    )


def item(row: OrderItem, cur: str) -> pb.OrderItem:
    return pb.OrderItem(
        variant_id=row.variant_id,
        product_id=row.product_id,
        product_name=row.product_name,
        variant_title=row.variant_title,
        sku=row.sku,
        hsn_code=row.hsn_code,
        quantity=row.quantity,
        unit_mrp=money(row.unit_mrp_minor, cur),
        unit_price=money(row.unit_price_minor, cur),
        discount=money(row.discount_minor, cur),
        taxable_value=money(row.taxable_minor, cur),
        gst_rate_basis_points=row.gst_rate_bp,
        cgst=money(row.cgst_minor, cur),
        sgst=money(row.sgst_minor, cur),
        igst=money(row.igst_minor, cur),
        total=money(row.total_minor, cur),
        free_gift=row.free_gift,
        gift_rule=row.gift_rule,
    )


def order(
    row: Order,
    items: Sequence[OrderItem] = (),
    history: Sequence[OrderStatusChange] = (),
    latest_payment: Payment | None = None,
    key_id: str = "",
) -> pb.Order:
    cur = row.currency
    out = pb.Order(
        name=f"orders/{row.id}",
        order_number=row.order_number,
        customer=f"users/{row.customer_id}" if row.customer_id else "",
        status=pb.OrderStatus.Value(f"ORDER_STATUS_{row.status}"),
        email=row.email,
        phone=row.phone,
        delivery_address=address_out(row.address),
        items=[item(i, cur) for i in items],
        subtotal=money(row.subtotal_minor, cur),
        discount_total=money(row.discount_minor, cur),
        shipping_fee=money(row.shipping_minor, cur),
        cod_fee=money(row.cod_fee_minor, cur),
        tax=breakdown_pb2.TaxAmounts(
            taxable_value=money(row.taxable_minor, cur),
            cgst=money(row.cgst_minor, cur),
            sgst=money(row.sgst_minor, cur),
            igst=money(row.igst_minor, cur),
            total_tax=money(row.tax_minor, cur),
        ),
        total=money(row.total_minor, cur),
        coupon_codes=row.coupon_codes,
        payment_method=row.payment_method,
        payment_provider=pb.PaymentProvider.Value(f"PAYMENT_PROVIDER_{row.payment_provider}"),
        paid=row.paid,
        place_of_supply_state_code=row.place_of_supply,
        inter_state=row.inter_state,
        status_history=[
            pb.OrderStatusChange(
                from_status=pb.OrderStatus.Value(f"ORDER_STATUS_{h.from_status}")
                if h.from_status
                else pb.ORDER_STATUS_UNSPECIFIED,
                to_status=pb.OrderStatus.Value(f"ORDER_STATUS_{h.to_status}"),
                actor=h.actor,
                reason=h.reason,
                time=ts(h.time),
            )
            for h in history
        ],
        request_id=row.request_id,
        create_time=ts(row.create_time),
        update_time=ts(row.update_time),
        cancel_reason=row.cancel_reason,
        shipping=pb.ShippingSelection(
            option=row.shipping_option,
            rate=money(row.shipping_minor, cur),
            source=row.shipping_source,
        ),
    )
    if latest_payment is not None:
        out.payment.CopyFrom(payment(latest_payment))
        if latest_payment.provider == "RAZORPAY":
            out.payment.key_id = key_id
    return out


def _restock_note(e: OrderEdit) -> list[str]:
    """Why the edit's removed units are not back on the shelf yet (a pending restock
    inventory refused or could not take), as a note."""
    if e.restock_state == "PENDING" and e.restock_error:
        return [f"restock pending: {e.restock_error}"]
    return []


def order_edit(e: OrderEdit) -> pb.OrderEdit:
    return pb.OrderEdit(
        name=f"orders/{e.order_id}/edits/{e.id}",
        request_id=e.request_id,
        actor=e.actor,
        reason=e.reason,
        before_lines=[pb.RefundLine(variant_id=v, quantity=q) for v, q in e.before_lines],
        after_lines=[pb.RefundLine(variant_id=v, quantity=q) for v, q in e.after_lines],
        before_total=money(e.before_total_minor),
        after_total=money(e.after_total_minor),
        difference=money(e.after_total_minor - e.before_total_minor),
        settlement=e.settlement,
        settlement_ref=e.settlement_ref,
        notes=list(e.notes) + _restock_note(e),
        address_changed=e.address_changed,
        create_time=ts(e.create_time),
    )
