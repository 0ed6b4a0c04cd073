"""Pure domain rules: tax rule resolution, segment matching, the ingest token bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mesh.gst import tax_from_inclusive
from services.settings.domain import segments as seg
from services.settings.domain import tax
from services.settings.domain.analytics import TokenBucket

T0 = datetime(2017, 7, 1, tzinfo=UTC)
T1 = datetime(2025, 9, 22, tzinfo=UTC)


def rule(key: str, slabs: list[tuple[int, int]], when: datetime = T0, rid: str = "") -> tax.Rule:
    return tax.Rule(rid or f"{key}@{when.year}", key, tuple(tax.Slab(*s) for s in slabs), when)


RULES = [
    rule("hsn:3307", [(0, 1800)]),
    rule("hsn:330741", [(0, 500)]),
    rule("hsn:3004", [(0, 1200)]),
    rule("hsn:3004", [(0, 500)], T1),
    # As seeded: the law's per-piece threshold is without GST (Rs 1,000, then Rs 2,500);
    # slabs compare the tax-inclusive price, so the bounds are the threshold + 5%.
    rule("class:apparel", [(105000, 500), (0, 1200)]),
    rule("class:apparel", [(262500, 500), (0, 1800)], T1),
    rule("class:standard", [(0, 1800)]),
]


def resolve(hsn: str, cls: str, price: int, at: datetime) -> tuple[int, str]:
    r = tax.pick_rule(tax.in_force(RULES, at), hsn, cls)
    assert r is not None
    return tax.pick_slab(r, price).rate_bp, r.id


def test_most_specific_hsn_prefix_wins() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert resolve("3307 41 00", "", 9900, now) == (500, "hsn:330741@2017")  # agarbatti
    assert resolve("33079000", "", 9900, now) == (1800, "hsn:3307@2017")
    assert resolve("9999", "", 9900, now) == (1800, "class:standard@2017")  # fallback


def test_effective_dates_keep_history() -> None:
    assert resolve("30049011", "", 29900, datetime(2025, 9, 21, tzinfo=UTC))[0] == 1200
    assert resolve("30049011", "", 29900, T1)[0] == 500
    # Before GST began nothing is in force, not even the fallback.
    assert tax.pick_rule(tax.in_force(RULES, datetime(2017, 1, 1, tzinfo=UTC)), "3004", "") is None


def test_price_slabs_inclusive_bound() -> None:
    before, after = datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    # Rs 1,050 incl. 5% is Rs 1,000.00 without GST: still 5%; a paisa more is 12%.
    assert resolve("", "apparel", 105000, before)[0] == 500
    assert resolve("", "apparel", 105001, before)[0] == 1200
    assert resolve("", "apparel", 199900, after)[0] == 500  # Rs 1,999 after 22 Sep 2025
    # Rs 2,625 incl. 5% is Rs 2,500.00 without GST: 5%; Rs 2,625.01 is 18%.
    assert resolve("", "apparel", 262500, after)[0] == 500
    assert resolve("", "apparel", 262501, after)[0] == 1800
    # The bounds are exact: 262500 x 10000 / 10500 = 250000.00; 262501 -> 250000.95 -> 250001.
    assert tax_from_inclusive(262500, 500) == (250000, 12500)
    assert tax_from_inclusive(262501, 500)[0] == 250001
    assert tax_from_inclusive(105000, 500) == (100000, 5000)


def test_resolution_says_when_it_fell_back() -> None:
    active = tax.in_force(RULES, datetime(2026, 1, 1, tzinfo=UTC))

    def flags(hsn: str, cls: str) -> tuple[str, bool, bool]:
        r = tax.resolve(active, hsn, cls)
        assert r is not None
        return r.rule.key, r.fallback, r.unknown_class

    assert flags("33074100", "standard") == ("hsn:330741", False, False)
    assert flags("33074100", "gst_5") == ("hsn:330741", False, True)  # HSN decides, class unknown
    assert flags("", "apparel") == ("class:apparel", False, False)
    assert flags("61091000", "Apparel") == ("class:apparel", False, False)
    assert flags("99999999", "standard") == ("class:standard", True, False)  # named, no HSN rule
    assert flags("99999999", "") == ("class:standard", True, False)
    assert flags("99999999", "gst_18") == ("class:standard", True, True)


def test_only_legal_gst_rates() -> None:
    legal = [0, 10, 25, 150, 300, 500, 1200, 1800, 2800, 4000]  # 0.1% ... 40% (GST 2.0)
    slabs = tuple(tax.Slab((i + 1) * 1000, r) for i, r in enumerate(legal[:-1]))
    assert tax.slab_problems((*slabs, tax.Slab(0, 4000)), "s") == []
    for bad in (-1, 1, 100, 600, 1000, 1250, 2000, 2900, 3000, 4001, 10000):
        problems = tax.slab_problems((tax.Slab(0, bad),), "s")
        assert [f for f, _ in problems] == ["s[0].rate_basis_points"], bad


def test_slab_validation() -> None:
    ok = (tax.Slab(100000, 500), tax.Slab(0, 1200))
    assert tax.slab_problems(ok, "s") == []
    bad = (tax.Slab(100000, 500), tax.Slab(50000, 1200), tax.Slab(10, 3000))
    fields = {f for f, _ in tax.slab_problems(bad, "s")}
    assert fields == {"s[1].up_to_unit_price", "s[2].up_to_unit_price", "s[2].rate_basis_points"}
    assert tax.key_problems("3304", "x", "p.") and tax.key_problems("3", "", "p.")
    assert tax.clean_hsn("3307.41 00") == "33074100"


def test_segment_rules() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    vip = seg.Rules(min_total_spend_minor=1_000_000)
    assert seg.matches(vip, seg.CustomerFacts(total_spend_minor=1_000_000), now)
    assert not seg.matches(vip, seg.CustomerFacts(total_spend_minor=999_999), now)
    new = seg.Rules(signed_up_within_days=30)
    assert seg.matches(new, seg.CustomerFacts(signup_time=now - timedelta(days=29)), now)
    assert not seg.matches(new, seg.CustomerFacts(signup_time=now - timedelta(days=31)), now)
    assert not seg.matches(new, seg.CustomerFacts(signup_time=None), now)
    south = seg.Rules(state_codes=("KA", "TN"), cities=("Bengaluru",), any_tags=("ayurveda",))
    facts = seg.CustomerFacts(state_code="KA", city="bengaluru", tags=frozenset({"ayurveda"}))
    assert seg.matches(south, facts, now)
    assert not seg.matches(south, seg.CustomerFacts(state_code="MH", city="Bengaluru"), now)
    assert seg.matches(seg.Rules(), seg.CustomerFacts(), now)  # empty rules: everyone
    assert seg.Rules.from_json(south.to_json()) == south
    dated = seg.Rules(signed_up_after=now - timedelta(days=1), min_order_count=2)
    assert seg.Rules.from_json(dated.to_json()) == dated


def test_token_bucket() -> None:
    t = [0.0]
    b = TokenBucket(rate=2.0, burst=10.0, clock=lambda: t[0])
    assert b.retry_after("a", 10) is None
    b.take("a", 10)
    assert b.retry_after("a", 1) == 0.5
    t[0] = 1.0  # two tokens back
    assert b.retry_after("a", 2) is None
    assert b.retry_after("b", 10) is None  # keys are independent


def test_store_registered_address_rows_and_rules() -> None:
    from dataclasses import replace

    from services.settings.domain import store
    from services.settings.seed import DEMO_STORE

    demo = store.normalize(DEMO_STORE)
    assert demo == DEMO_STORE and store.problems(demo) == []  # the seed is valid as is
    assert demo.registered_address.is_set and demo.legal_name
    # Stored as one JSON object under one key, read back the same.
    rows = demo.as_rows()
    assert rows["registered_address"]["pincode"] == "560038"
    assert store.StoreConfig.from_rows(rows) == demo
    # A database from before the address existed: no row, no address, still valid.
    old = store.StoreConfig.from_rows({k: v for k, v in rows.items() if k != "registered_address"})
    assert not old.registered_address.is_set and store.problems(old) == []
    # PIN code and state must agree, and the state must be the registered one.
    p = "store_settings.registered_address."

    def fields_of(**kw: str) -> set[str]:
        address = replace(demo.registered_address, **kw)
        cfg = store.normalize(replace(demo, registered_address=address))
        return {f for f, _ in store.problems(cfg)}

    assert fields_of(pincode="110001") == {p + "pincode"}  # a Delhi PIN in Karnataka
    assert fields_of(pincode="110001", state_code="DL") == {p + "state_code"}
    assert fields_of(state_code="Karnataka") == {p + "state_code"}
    assert fields_of(pincode="56003") == {p + "pincode"}
    assert fields_of(pincode=" 560 038 ", state_code=" ka ") == set()
    # Moving the GST registration without the address is refused on the address.
    moved = replace(demo, registered_state_code="MH", gstin="")
    assert {f for f, _ in store.problems(moved)} == {p + "state_code"}
