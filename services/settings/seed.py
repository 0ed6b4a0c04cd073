"""Demo data on first start: a Bengaluru-registered store (legal name and registered
address for tax invoices), GST rates, payment methods and two segments. Later starts
change nothing that exists: a database seeded before the registered address existed
gets none (an admin sets it with UpdateStoreSettings), so a real store never prints
the demo address.

GST rates (demo data; confirm with the store's tax adviser):
- 3304 beauty/make-up preparations: 18%.
- 3004 medicaments incl. Ayurvedic: 12%, 5% from 22 Sep 2025 (GST rate
  rationalisation, notification 9/2025-CT(Rate)).
- 3305 hair preparations: 18%; 3305 90 11/19 hair oil: 18%, 5% from 22 Sep 2025.
- 3401 soap: 18%; 3401 11 toilet soap: 18%, 5% from 22 Sep 2025.
- 3307 41 agarbatti: 5%.
- 0409 natural honey, pre-packaged and labelled: 5% (loose, unbranded honey
  is exempt; a D2C brand sells it packed, so 5%).
- tax class "apparel": 5% up to Rs 1,000 a piece, 12% above; from 22 Sep 2025
  5% up to Rs 2,500, 18% above.
- tax class "standard" (fallback): 18%.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select

from cleanse.settings.v1 import resources_pb2 as res
from mesh.db import Database, new_id, utcnow
from services.settings.domain.segments import Rules
from services.settings.domain.store import Address, StoreConfig
from services.settings.models import (
    CustomerSegment,
    PaymentMethodConfig,
    Setting,
    TaxRateRule,
)

log = logging.getLogger("cleanse.settings.seed")

# Midnight in India (IST, UTC+5:30) on 1 Jul 2017 and on 22 Sep 2025.
GST_START = datetime(2017, 6, 30, 18, 30, tzinfo=UTC)
GST_2_0 = datetime(2025, 9, 21, 18, 30, tzinfo=UTC)
RS = 100

DEMO_STORE = StoreConfig(
    store_name="Cleanse Ayurveda",
    legal_name="Cleanse Ayurveda Private Limited",
    gstin="29AAGCC1234F1ZY",
    registered_state_code="KA",
    invoice_prefix="CLN",
    return_window_days=7,
    flat_shipping_rate_minor=49 * RS,
    free_shipping_threshold_minor=499 * RS,
    currency_code="INR",
    support_email="care@cleanse.example",
    support_phone="+919845012345",
    prices_include_tax=True,
    registered_address=Address(
        line1="No. 42, 2nd Floor, 100 Feet Road",
        line2="HAL 2nd Stage, Indiranagar",
        city="Bengaluru",
        state_code="KA",
        pincode="560038",
        country_code="IN",
    ),
)

# (hsn prefix, tax class, [(up_to_minor, rate_bp)], effective_from, description)
DEMO_TAX_RULES: tuple[tuple[str, str, list[tuple[int, int]], datetime, str], ...] = (
    ("3304", "", [(0, 1800)], GST_START, "Beauty and make-up preparations"),
    ("3004", "", [(0, 1200)], GST_START, "Medicaments incl. Ayurvedic"),
    ("3004", "", [(0, 500)], GST_2_0, "Medicaments incl. Ayurvedic (GST 2.0)"),
    ("3305", "", [(0, 1800)], GST_START, "Hair preparations"),
    ("3305901", "", [(0, 1800)], GST_START, "Hair oil"),
    ("3305901", "", [(0, 500)], GST_2_0, "Hair oil (GST 2.0)"),
    ("3401", "", [(0, 1800)], GST_START, "Soap"),
    ("340111", "", [(0, 1800)], GST_START, "Toilet soap"),
    ("340111", "", [(0, 500)], GST_2_0, "Toilet soap (GST 2.0)"),
    ("330741", "", [(0, 500)], GST_START, "Agarbatti"),
    ("0409", "", [(0, 500)], GST_START, "Natural honey, pre-packaged and labelled"),
    ("", "apparel", [(1000 * RS, 500), (0, 1200)], GST_START, "Apparel"),
    ("", "apparel", [(2500 * RS, 500), (0, 1800)], GST_2_0, "Apparel (GST 2.0)"),
    ("", "standard", [(0, 1800)], GST_START, "Standard rate"),
)

R, C = res.PAYMENT_PROVIDER_RAZORPAY, res.PAYMENT_PROVIDER_COD
# (code, display name, provider, order, min, max, fee, description)
DEMO_PAYMENT_METHODS = (
    ("razorpay_upi", "UPI", R, 1, 0, 0, 0, "Google Pay, PhonePe, Paytm or any UPI app"),
    ("razorpay_card", "Credit / debit card", R, 2, 0, 0, 0, "Visa, Mastercard, RuPay"),
    ("razorpay_netbanking", "Net banking", R, 3, 0, 0, 0, "All major Indian banks"),
    ("razorpay_wallet", "Wallets", R, 4, 0, 0, 0, "Paytm, Mobikwik, Amazon Pay"),
    ("cod", "Cash on delivery", C, 5, 199 * RS, 5000 * RS, 49 * RS, "Pay when it arrives"),
)

DEMO_SEGMENTS = (
    ("vip", "VIP", "Lifetime spend of Rs 10,000 or more", Rules(min_total_spend_minor=10_000 * RS)),
    (
        "new-customers",
        "New customers",
        "Signed up within the last 30 days",
        Rules(signed_up_within_days=30),
    ),
)


async def seed_demo(db: Database) -> bool:
    """Seed an empty database; False (and nothing written) when settings exist."""
    async with db.transaction() as s:
        if (await s.scalar(select(func.count()).select_from(Setting))) or 0:
            return False
        now = utcnow()
        for key, value in DEMO_STORE.as_rows().items():
            s.add(Setting(key=key, value=value, update_time=now, update_by="seed"))
        for hsn, cls, slabs, when, desc in DEMO_TAX_RULES:
            s.add(
                TaxRateRule(
                    id=new_id(),
                    rule_key=f"hsn:{hsn}" if hsn else f"class:{cls}",
                    hsn_prefix=hsn,
                    tax_class=cls,
                    slabs=[{"up_to_minor": u, "rate_bp": r} for u, r in slabs],
                    effective_from=when,
                    description=desc,
                    create_time=now,
                )
            )
        for code, name, provider, order, low, high, fee, desc in DEMO_PAYMENT_METHODS:
            s.add(
                PaymentMethodConfig(
                    code=code,
                    display_name=name,
                    provider=provider,
                    enabled=True,
                    display_order=order,
                    min_order_minor=low,
                    max_order_minor=high,
                    fee_minor=fee,
                    description=desc,
                    update_time=now,
                )
            )
        for sid, name, desc, rules in DEMO_SEGMENTS:
            s.add(
                CustomerSegment(
                    id=sid,
                    display_name=name,
                    description=desc,
                    rules=rules.to_json(),
                    create_time=now,
                    update_time=now,
                )
            )
    log.info("seeded demo settings")
    return True
