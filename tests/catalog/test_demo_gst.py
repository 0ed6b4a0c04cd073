"""Every demo product gets the GST rate it should: the demo catalogue as the loader
builds it, resolved by settings' own resolution over settings' seeded rules, at GST's
launch, just before GST 2.0 (22 Sep 2025) and after it. So the demo data cannot drift
from the seeded rules again (4-digit headings that miss the 5% tariff items, tax
classes settings does not know).

The expected rates are hand-checked against services/settings/README.md ("Seeded GST
rates"); the classification of each product is in services/catalog/README.md ("Demo
GST").
"""

from __future__ import annotations

from datetime import UTC, datetime

from mesh.db import Database, utcnow
from mesh.errors import Violations
from services.catalog.demo.loader import build, load_data
from services.catalog.domain.validation import check_hsn
from services.catalog.models import Product
from services.settings.handlers.tax import TaxHandlers, TaxQuery
from services.settings.seed import seed_demo

LAUNCH = datetime(2017, 8, 1, tzinfo=UTC)  # GST's first rates (28% on cosmetics)
BEFORE = datetime(2025, 9, 1, tzinfo=UTC)  # the last rates before GST 2.0
AFTER = datetime(2025, 10, 1, tzinfo=UTC)  # GST 2.0

# (at launch, before GST 2.0, from 22 Sep 2025), total GST in basis points.
SKIN = (2800, 1800, 1800)  # 3304 99 90 / 91 90 / 99 10 / 10 00: 28%, 18% from 15 Nov 2017
FACE_WASH = (2800, 1800, 1800)  # 3401 30: liquid skin wash, like 3304
ROSE_WATER = (1800, 1800, 1800)  # 3301 90: an aqueous distillate, not a 3304 toner
HAIR_OIL = (1800, 1800, 500)  # 3305 90 19
SHAMPOO = (2800, 1800, 500)  # 3305 10 90
CONDITIONER = (2800, 1800, 1800)  # 3305 90 90: other hair preparations stay 18%
MEDICINE = (1200, 1200, 500)  # 3004 90 11 Ayurvedic
SOAP = (1800, 1800, 500)  # 3401 11 90 toilet soap in bars
COMB = (1200, 1200, 500)  # 9615 19 00
COPPER = (1200, 1200, 500)  # 7418 10 90
APPAREL = (500, 500, 500)  # class apparel, Rs 599 a pair: under every threshold
FOOD = (1800, 1800, 500)  # 2106 90 99: the standard rate until 2106 got its rule
TEA = (500, 500, 500)  # 0902 10 10
JUICE = (1200, 1200, 500)  # 2009 89 90

EXPECTED = {
    "kumkumadi-tailam": SKIN,
    "nalpamaradi-tailam": SKIN,
    "saffron-night-serum": SKIN,
    "amla-vitamin-c-serum": SKIN,
    "manjistha-rosehip-face-oil": SKIN,
    "eladi-face-oil": SKIN,
    "ubtan-face-pack": SKIN,
    "multani-mitti-neem-pack": SKIN,
    "sandalwood-rose-face-pack": SKIN,
    "kesar-haldi-ubtan": SKIN,
    "neem-tulsi-face-wash": FACE_WASH,
    "besan-haldi-cleansing-powder": SKIN,
    "rose-water-toner": ROSE_WATER,
    "aloe-vera-gel": SKIN,
    "kumkumadi-day-cream": SKIN,
    "saffron-lip-balm": SKIN,
    "shata-dhauta-ghrita-cream": SKIN,
    "bhringraj-hair-oil": HAIR_OIL,
    "neelibhringadi-hair-oil": HAIR_OIL,
    "amla-brahmi-hair-oil": HAIR_OIL,
    "hibiscus-coconut-hair-oil": HAIR_OIL,
    "castor-rosemary-scalp-oil": HAIR_OIL,
    "shikakai-reetha-shampoo": SHAMPOO,
    "amla-hibiscus-conditioner": CONDITIONER,
    "herbal-hair-wash-powder": SHAMPOO,
    "neem-anti-dandruff-shampoo": SHAMPOO,
    "neem-wood-comb": COMB,
    "sheesham-wide-tooth-comb": COMB,
    "ksheerabala-tailam": MEDICINE,
    "mahanarayan-oil": MEDICINE,
    "sesame-abhyanga-oil": SKIN,
    "coconut-vetiver-body-oil": SKIN,
    "neem-turmeric-soap": SOAP,
    "sandalwood-bathing-bar": SOAP,
    "charcoal-tulsi-soap": SOAP,
    "goat-milk-saffron-soap": SOAP,
    "coffee-ubtan-body-scrub": SKIN,
    "kansa-wand": COPPER,
    "copper-tongue-cleaner": COPPER,
    "raw-silk-garshana-gloves": APPAREL,
    "ashwagandha-capsules": MEDICINE,
    "triphala-churna": MEDICINE,
    "chyawanprash": MEDICINE,
    "brahmi-capsules": MEDICINE,
    "shatavari-granules": MEDICINE,
    "giloy-tulsi-tablets": MEDICINE,
    "moringa-powder": FOOD,
    "tulsi-green-tea": TEA,
    "immunity-kadha-mix": FOOD,
    "golden-milk-haldi-mix": FOOD,
    "amla-juice": JUICE,
    "triphala-tablets": MEDICINE,
    "licorice-brightening-serum": SKIN,
    "rose-glycerin-soap": SOAP,
}
# The one documented use of the standard fallback (settings README): 2106 before its
# GST 2.0 rule. Anything else resolving to the fallback is a classification gap.
FALLBACK_BEFORE_GST_2_0 = {"moringa-powder", "immunity-kadha-mix", "golden-milk-haldi-mix"}


def demo_products() -> list[Product]:
    return [row for row in build(load_data()) if isinstance(row, Product)]


def test_demo_hsn_codes_are_tariff_items() -> None:
    products = demo_products()
    assert {p.slug for p in products} == set(EXPECTED)
    for p in products:
        v = Violations()
        assert check_hsn(p.hsn_code, v, "hsn") == p.hsn_code and not v, p.slug
        assert len(p.hsn_code) == 8, (p.slug, p.hsn_code)


async def test_every_demo_product_resolves_to_its_intended_rate(database_url: str) -> None:
    db = Database("settings", database_url)
    try:
        await db.migrate()
        assert await seed_demo(db)
        # resolve() and classes() only read rules: no change announcements needed.
        handlers = TaxHandlers(db, None, utcnow)  # type: ignore[arg-type]
        products = demo_products()
        assert {p.tax_class for p in products} <= set(await handlers.classes())
        queries = [
            TaxQuery(f"{p.slug}/{v.sku}", p.hsn_code, p.tax_class, v.price)
            for p in products
            for v in p.variants
        ]
        got: dict[str, list[tuple[int, bool]]] = {}
        for when in (LAUNCH, BEFORE, AFTER):
            for r in await handlers.resolve(queries, when):
                got.setdefault(r.key, []).append((r.rate_bp, r.fallback))
                assert not r.unknown_class, r.key
        for key, answers in got.items():
            slug = key.split("/")[0]
            rates = tuple(rate for rate, _ in answers)
            assert rates == EXPECTED[slug], (key, rates)
            fell_back = tuple(f for _, f in answers)
            documented = slug in FALLBACK_BEFORE_GST_2_0
            assert fell_back == (documented, documented, False), (key, fell_back)
    finally:
        await db.dispose()
