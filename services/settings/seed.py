"""Demo data on first start: a Bengaluru-registered store (legal name and registered
address for tax invoices), GST rates, payment methods and two segments. Later starts
change nothing that exists: a database seeded before the registered address existed
gets none (an admin sets it with UpdateStoreSettings), so a real store never prints
the demo address.

GST rates (demo data; confirm with the store's tax adviser). Checked against the text
of 9/2025-CT(Rate) and other public sources; README.md ("Seeded GST rates") has the
entry and source of each rule and what could not be verified.
Three dates: 1 Jul 2017 (GST starts), 15 Nov 2017 (28% -> 18% on cosmetics, shampoos
and liquid skin washes, 23rd GST Council) and 22 Sep 2025 ("GST 2.0",
notification 9/2025-CT(Rate)). A tariff-item rule starts only when its rate first
differs from its heading's (before that the heading's rule applies).
- 3301 essential oils and aqueous distillates (rose water): 18% throughout.
- 3304 beauty/make-up/skin care: 28%, 18% from 15 Nov 2017; face powder 3304 91 10
  and talcum powder 3304 91 20: 5% from 22 Sep 2025; sindur, bindi, kumkum
  3304 99 40: nil throughout.
- 3004 medicaments incl. Ayurvedic: 12%, 5% from 22 Sep 2025 (before 22 Sep 2025
  classical Ayurvedic medicines sold under their book name were 5%; the HSN code
  cannot tell them apart, so the seed carries the proprietary 12%).
- 3305 hair preparations: 28%, 18% from 15 Nov 2017; shampoo 3305 10 and hair oil
  3305 90 11/19: 5% from 22 Sep 2025 (hair oil was 18% from the start).
- 3306 10 10 tooth powder: 12%, 5% from 22 Sep 2025; 3306 10 20 toothpaste and
  3306 20 dental floss: 18% (the fallback), 5% from 22 Sep 2025.
- 3401 soap: 18%; 3401 11 toilet soap: 5% from 22 Sep 2025; 3401 30 liquid or cream
  skin washes: 28%, 18% from 15 Nov 2017.
- 3307 41 agarbatti: 5%. 0409 natural honey, branded / pre-packaged and labelled: 5%.
- 0902 tea: 5%. 2009 fruit and vegetable juices: 12%, 5% from 22 Sep 2025.
  2106 food preparations n.e.s.: 5% from 22 Sep 2025 (18%, the
  fallback, before; pan masala 2106 90 20 is not 5% but this store sells none).
  9615 combs and 7418 copper household articles: 12%, 5% from 22 Sep 2025.
- tax class "apparel": the law's threshold is the sale value per piece WITHOUT GST
  (Rs 1,000; Rs 2,500 from 22 Sep 2025), while slabs here compare the tax-inclusive
  unit price, so the bounds are the threshold plus 5%: 5% up to Rs 1,050 a piece,
  12% above; from 22 Sep 2025 5% up to Rs 2,625, 18% above.
- tax class "standard" (fallback, the residual entry): 18%.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

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

# Midnight in India (IST, UTC+5:30) on 1 Jul 2017, 15 Nov 2017 and 22 Sep 2025.
GST_START = datetime(2017, 6, 30, 18, 30, tzinfo=UTC)
NOV_2017 = datetime(2017, 11, 14, 18, 30, tzinfo=UTC)
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
    ("3301", "", [(0, 1800)], GST_START, "Essential oils, aqueous distillates (rose water)"),
    ("3304", "", [(0, 2800)], GST_START, "Beauty, make-up and skin-care preparations"),
    ("3304", "", [(0, 1800)], NOV_2017, "Beauty, make-up and skin-care preparations"),
    ("33049110", "", [(0, 500)], GST_2_0, "Face powder (GST 2.0)"),
    ("33049120", "", [(0, 500)], GST_2_0, "Talcum powder (GST 2.0)"),
    ("33049940", "", [(0, 0)], GST_START, "Sindur, bindi, kumkum (exempt)"),
    ("3004", "", [(0, 1200)], GST_START, "Medicaments incl. Ayurvedic"),
    ("3004", "", [(0, 500)], GST_2_0, "Medicaments incl. Ayurvedic (GST 2.0)"),
    ("3305", "", [(0, 2800)], GST_START, "Hair preparations"),
    ("3305", "", [(0, 1800)], NOV_2017, "Hair preparations"),
    ("330510", "", [(0, 500)], GST_2_0, "Shampoo (GST 2.0)"),
    ("3305901", "", [(0, 1800)], GST_START, "Hair oil"),
    ("3305901", "", [(0, 500)], GST_2_0, "Hair oil (GST 2.0)"),
    ("33061010", "", [(0, 1200)], GST_START, "Tooth powder"),
    ("33061010", "", [(0, 500)], GST_2_0, "Tooth powder (GST 2.0)"),
    ("33061020", "", [(0, 500)], GST_2_0, "Toothpaste (GST 2.0)"),
    ("330620", "", [(0, 500)], GST_2_0, "Dental floss (GST 2.0)"),
    ("3401", "", [(0, 1800)], GST_START, "Soap"),
    ("340111", "", [(0, 500)], GST_2_0, "Toilet soap: bars, cakes, shapes (GST 2.0)"),
    ("340130", "", [(0, 2800)], GST_START, "Liquid or cream skin wash"),
    ("340130", "", [(0, 1800)], NOV_2017, "Liquid or cream skin wash"),
    ("330741", "", [(0, 500)], GST_START, "Agarbatti, dhoop"),
    ("0409", "", [(0, 500)], GST_START, "Natural honey, branded / pre-packaged and labelled"),
    ("0902", "", [(0, 500)], GST_START, "Tea"),
    ("2009", "", [(0, 1200)], GST_START, "Fruit and vegetable juices"),
    ("2009", "", [(0, 500)], GST_2_0, "Fruit and vegetable juices (GST 2.0)"),
    ("2106", "", [(0, 500)], GST_2_0, "Food preparations n.e.s. (GST 2.0)"),
    ("9615", "", [(0, 1200)], GST_START, "Combs"),
    ("9615", "", [(0, 500)], GST_2_0, "Combs (GST 2.0)"),
    ("7418", "", [(0, 1200)], GST_START, "Household articles of copper"),
    ("7418", "", [(0, 500)], GST_2_0, "Household articles of copper (GST 2.0)"),
    # Threshold (sale value without GST) + 5%: Rs 1,050 incl. GST = Rs 1,000 + 5%.
    ("", "apparel", [(1050 * RS, 500), (0, 1200)], GST_START, "Apparel"),
    ("", "apparel", [(2625 * RS, 500), (0, 1800)], GST_2_0, "Apparel (GST 2.0)"),
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
    """Seed an empty database; False (and nothing written) when settings exist.

    Replicas starting together on an empty database both find it empty; the one
    that commits second hits the unique keys and writes nothing (False)."""
    try:
        return await _seed_empty(db)
    except IntegrityError:  # another replica seeded at the same moment
        log.info("demo settings seeded by another replica meanwhile")
        return False


async def _seed_empty(db: Database) -> bool:
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
