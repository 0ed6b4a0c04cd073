"""Order service: carts, checkout, orders, payments, refunds, returns, invoices."""
