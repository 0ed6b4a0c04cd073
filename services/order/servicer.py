"""Thin gRPC servicers: protos in, handler calls, protos out."""

from __future__ import annotations

import grpc
from google.protobuf import empty_pb2

from cleanse.order.v1 import (
    cart_internal_service_pb2,
    cart_internal_service_pb2_grpc,
    cart_service_pb2,
    cart_service_pb2_grpc,
    checkout_service_pb2,
    checkout_service_pb2_grpc,
    order_admin_service_pb2,
    order_admin_service_pb2_grpc,
    order_service_pb2,
    order_service_pb2_grpc,
    payment_webhook_service_pb2,
    payment_webhook_service_pb2_grpc,
    resources_pb2,
)
from services.order.handlers.abandoned import AbandonedCarts
from services.order.handlers.carts import CartHandlers
from services.order.handlers.checkout import CheckoutHandlers
from services.order.handlers.edits import EditHandlers
from services.order.handlers.invoices import InvoiceHandlers
from services.order.handlers.orders import OrderHandlers
from services.order.handlers.refunds import RefundHandlers
from services.order.handlers.returns import ReturnHandlers
from services.order.handlers.webhooks import WebhookHandlers

Ctx = grpc.aio.ServicerContext
# Forwarded by the edge (the RPC's forward_headers), lower-case as gRPC metadata.
SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"


class CartService(cart_service_pb2_grpc.CartServiceServicer):
    def __init__(self, carts: CartHandlers) -> None:
        self.carts = carts

    async def CreateCart(self, request: cart_service_pb2.CreateCartRequest, context: Ctx):
        return await self.carts.create()

    async def GetCart(self, request: cart_service_pb2.GetCartRequest, context: Ctx):
        return await self.carts.get(request.name, request.cart_token)

    async def AddCartLine(self, request: cart_service_pb2.AddCartLineRequest, context: Ctx):
        return await self.carts.add_line(
            request.name, request.cart_token, request.variant_id, request.quantity
        )

    async def UpdateCartLine(self, request: cart_service_pb2.UpdateCartLineRequest, context: Ctx):
        return await self.carts.update_line(
            request.name, request.cart_token, request.variant_id, request.quantity
        )

    async def RemoveCartLine(self, request: cart_service_pb2.RemoveCartLineRequest, context: Ctx):
        return await self.carts.remove_line(request.name, request.cart_token, request.variant_id)

    async def MergeCart(self, request: cart_service_pb2.MergeCartRequest, context: Ctx):
        return await self.carts.merge(request.guest_cart, request.cart_token)


class CheckoutService(checkout_service_pb2_grpc.CheckoutServiceServicer):
    def __init__(self, checkout: CheckoutHandlers) -> None:
        self.checkout = checkout

    async def CreateCheckoutSession(
        self, request: checkout_service_pb2.CreateCheckoutSessionRequest, context: Ctx
    ) -> resources_pb2.CheckoutSession:
        return await self.checkout.create_session(request)

    async def GetCheckoutSession(
        self, request: checkout_service_pb2.GetCheckoutSessionRequest, context: Ctx
    ) -> resources_pb2.CheckoutSession:
        return await self.checkout.get_session(request.name, request.cart_token)

    async def PlaceOrder(
        self, request: checkout_service_pb2.PlaceOrderRequest, context: Ctx
    ) -> resources_pb2.Order:
        return await self.checkout.place_order(
            request.checkout_session, request.request_id, request.cart_token
        )

    async def ConfirmPayment(
        self, request: checkout_service_pb2.ConfirmPaymentRequest, context: Ctx
    ) -> resources_pb2.Order:
        return await self.checkout.confirm_payment(
            request.order,
            request.provider_order_id,
            request.provider_payment_id,
            request.signature,
            request.cart_token,
        )


class OrderService(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(
        self, orders: OrderHandlers, returns: ReturnHandlers, invoices: InvoiceHandlers
    ) -> None:
        self.orders = orders
        self.returns = returns
        self.invoices = invoices

    async def RequestReturn(self, request: order_service_pb2.RequestReturnRequest, context: Ctx):
        return await self.returns.request(request)

    async def ListInvoices(self, request: order_service_pb2.ListInvoicesRequest, context: Ctx):
        return await self.invoices.list(request)

    async def RenderInvoice(self, request: order_service_pb2.RenderInvoiceRequest, context: Ctx):
        return await self.invoices.render(request.name, request.format)

    async def GetInvoicePdf(self, request: order_service_pb2.GetInvoicePdfRequest, context: Ctx):
        return await self.invoices.pdf(request.name)

    async def ListOrders(self, request: order_service_pb2.ListOrdersRequest, context: Ctx):
        return await self.orders.list_mine(request)

    async def GetOrder(self, request: order_service_pb2.GetOrderRequest, context: Ctx):
        return await self.orders.get_mine(request.name)

    async def CancelOrder(self, request: order_service_pb2.CancelOrderRequest, context: Ctx):
        return await self.orders.cancel_mine(request.name, request.reason)


class CartInternalService(cart_internal_service_pb2_grpc.CartInternalServiceServicer):
    def __init__(self, abandoned: AbandonedCarts) -> None:
        self.abandoned = abandoned

    async def ListAbandonedCarts(
        self, request: cart_internal_service_pb2.ListAbandonedCartsRequest, context: Ctx
    ) -> cart_internal_service_pb2.ListAbandonedCartsResponse:
        return await self.abandoned.list(request)


class OrderAdminService(order_admin_service_pb2_grpc.OrderAdminServiceServicer):
    def __init__(
        self,
        orders: OrderHandlers,
        refunds: RefundHandlers,
        returns: ReturnHandlers,
        edits: EditHandlers,
    ) -> None:
        self.orders = orders
        self.refunds = refunds
        self.returns = returns
        self.edits = edits

    async def EditOrder(self, request: order_admin_service_pb2.EditOrderRequest, context: Ctx):
        return await self.edits.edit(request)

    async def ListReturns(self, request: order_admin_service_pb2.ListReturnsRequest, context: Ctx):
        return await self.returns.list(request)

    async def ApproveReturn(
        self, request: order_admin_service_pb2.ApproveReturnRequest, context: Ctx
    ):
        return await self.returns.approve(request.name)

    async def RejectReturn(
        self, request: order_admin_service_pb2.RejectReturnRequest, context: Ctx
    ):
        return await self.returns.reject(request.name, request.reason)

    async def InspectReturn(
        self, request: order_admin_service_pb2.InspectReturnRequest, context: Ctx
    ):
        return await self.returns.inspect(request)

    async def CreateRefund(
        self, request: order_admin_service_pb2.CreateRefundRequest, context: Ctx
    ) -> resources_pb2.Refund:
        return await self.refunds.create(request)

    async def ListRefunds(self, request: order_admin_service_pb2.ListRefundsRequest, context: Ctx):
        return await self.refunds.list(request)

    async def ListOrders(self, request: order_service_pb2.ListOrdersRequest, context: Ctx):
        return await self.orders.list(request, customer_id=None)

    async def GetOrder(self, request: order_service_pb2.GetOrderRequest, context: Ctx):
        return await self.orders.get(request.name)

    async def UpdateOrderStatus(
        self, request: order_admin_service_pb2.UpdateOrderStatusRequest, context: Ctx
    ):
        return await self.orders.update_status(request.name, request.status, request.reason)

    async def BatchUpdateOrderStatus(
        self, request: order_admin_service_pb2.BatchUpdateOrderStatusRequest, context: Ctx
    ):
        return await self.orders.batch_update(request)

    async def MarkCodPaid(self, request: order_admin_service_pb2.MarkCodPaidRequest, context: Ctx):
        return await self.orders.mark_cod_paid(request.name)

    async def ExportOrders(
        self, request: order_admin_service_pb2.ExportOrdersRequest, context: Ctx
    ) -> None:
        # context.write, not yield: the contract interceptor awaits the handler.
        async for chunk, rows in self.orders.export(request):
            await context.write(
                order_admin_service_pb2.ExportOrdersResponse(chunk=chunk, rows=rows)
            )


class PaymentWebhookService(payment_webhook_service_pb2_grpc.PaymentWebhookServiceServicer):
    def __init__(self, webhooks: WebhookHandlers) -> None:
        self.webhooks = webhooks

    async def ReceiveRazorpayWebhook(
        self, request: payment_webhook_service_pb2.ReceiveRazorpayWebhookRequest, context: Ctx
    ) -> empty_pb2.Empty:
        md = {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)}
        await self.webhooks.receive(
            request.body.data, md.get(SIGNATURE_HEADER, ""), md.get(EVENT_ID_HEADER, "")
        )
        return empty_pb2.Empty()
