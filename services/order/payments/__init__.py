"""Payment gateways for the order service.

`gateway` holds the provider-neutral interface (`PaymentGateway`), the value types it
returns and its error classes; `razorpay` implements it over Razorpay's REST API.
The order service depends on `gateway` only and receives a concrete gateway at
start-up (`razorpay.RazorpayGateway.from_env()`).
"""
