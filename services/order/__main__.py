"""`python -m services.order`: migrate and serve.

The Razorpay gateway comes from services.order.payments.razorpay when its
configuration is present (RazorpayGateway.from_env()); without it only cash on
delivery is offered.
"""

from __future__ import annotations

import logging

from mesh.db import Database
from mesh.server import run
from services.order.app import build
from services.order.payments.gateway import PaymentGateway

log = logging.getLogger("cleanse.order")


def _gateway() -> PaymentGateway | None:
    try:
        from services.order.payments import razorpay
    except ImportError:
        log.warning("no Razorpay adapter installed: cash on delivery only")
        return None
    try:
        return razorpay.RazorpayGateway.from_env()
    except RuntimeError as exc:
        log.warning("Razorpay not configured (%s): cash on delivery only", exc)
        return None


def main() -> None:
    run(build(Database("order"), gateway=_gateway()).app)


if __name__ == "__main__":
    main()
