"""GST rates over real gRPC: seeded real cases with effective dates, prefix specificity,
slabs, admin create/delete rules, and the place of supply from a PIN code."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import timestamp_pb2

from cleanse.common.v1 import money_pb2
from cleanse.settings.v1 import resources_pb2 as res
from cleanse.settings.v1 import settings_admin_service_pb2 as adm
from cleanse.settings.v1 import settings_internal_service_pb2 as internal
from services.settings.handlers.tax import FALLBACKS
from tests.settings.conftest import SettingsHarness
from tests.support.rpc import reason, violations

Code = grpc.StatusCode


def ts(d: datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(d)
    return out


def q(key: str, hsn: str = "", cls: str = "", rupees: float = 499) -> internal.TaxQuery:
    return internal.TaxQuery(
        key=key,
        hsn_code=hsn,
        tax_class=cls,
        unit_price=money_pb2.Money(amount_minor=int(rupees * 100)),
    )


async def rates(
    h: SettingsHarness, queries: list[internal.TaxQuery], at: datetime | None = None
) -> dict[str, int]:
    req = internal.ResolveTaxRatesRequest(queries=queries)
    if at:
        req.at.CopyFrom(ts(at))
    resp = await h.internal.ResolveTaxRates(req)
    assert [r.key for r in resp.rates] == [x.key for x in queries]  # request order
    assert all(r.rule.startswith("taxRates/") for r in resp.rates)
    return {r.key: r.rate_basis_points for r in resp.rates}


async def test_real_gst_cases_before_and_after_22_sep_2025(settings_svc: SettingsHarness) -> None:
    # The seeded rules (services/settings/README.md, "Seeded GST rates", has the sources).
    lines = [
        q("lipstick", hsn="33041000"),
        q("face-cream", hsn="33049910"),
        q("talc", hsn="3304 91 20"),
        q("kumkum", hsn="33049940"),
        q("chyawanprash", hsn="3004 90 11"),
        q("hair-oil", hsn="33059011"),
        q("shampoo", hsn="33051090"),
        q("hair-dye", hsn="33059040"),
        q("tooth-powder", hsn="33061010"),
        q("toothpaste", hsn="33061020"),
        q("mouthwash", hsn="33069000"),
        q("soap", hsn="34011190"),
        q("body-wash", hsn="34013090"),
        q("soap-flakes", hsn="34012000"),
        q("agarbatti", hsn="3307 41 00"),
        q("honey", hsn="04090000"),
        q("tea", hsn="09021010"),
        q("kadha-mix", hsn="21069099"),
        q("amla-juice", hsn="20098990"),
        q("rose-water", hsn="33019090"),
        q("comb", hsn="96151900"),
        q("copper-cleaner", hsn="74181090"),
        q("scarf", cls="apparel", rupees=999),
        q("kurta", cls="apparel", rupees=1499),
        # Per-piece thresholds are without GST: Rs 1,000 = Rs 1,050 incl. 5%, and from
        # 22 Sep 2025 Rs 2,500 = Rs 2,625 incl. 5%; a paisa more takes the higher rate.
        q("at-1050", cls="apparel", rupees=1050),
        q("over-1050", cls="apparel", rupees=1050.01),
        q("at-2625", cls="apparel", rupees=2625),
        q("over-2625", cls="apparel", rupees=2625.01),
        q("mystery", hsn="99999999"),
    ]
    launch = await rates(settings_svc, lines, datetime(2017, 8, 1, tzinfo=UTC))
    assert launch == {
        "lipstick": 2800, "face-cream": 2800, "talc": 2800, "kumkum": 0, "chyawanprash": 1200,
        "hair-oil": 1800, "shampoo": 2800, "hair-dye": 2800, "tooth-powder": 1200,
        "toothpaste": 1800, "mouthwash": 1800, "soap": 1800, "body-wash": 2800,
        "soap-flakes": 1800, "agarbatti": 500, "honey": 500, "tea": 500, "kadha-mix": 1800,
        "amla-juice": 1200, "rose-water": 1800,
        "comb": 1200, "copper-cleaner": 1200, "scarf": 500, "kurta": 1200, "at-1050": 500,
        "over-1050": 1200, "at-2625": 1200, "over-2625": 1200, "mystery": 1800,
    }  # fmt: skip
    old = await rates(settings_svc, lines, datetime(2025, 1, 15, tzinfo=UTC))
    # 28% -> 18% from 15 Nov 2017 on cosmetics, shampoo, hair dye and liquid skin wash.
    assert old == launch | {
        "lipstick": 1800, "face-cream": 1800, "talc": 1800, "shampoo": 1800,
        "hair-dye": 1800, "body-wash": 1800,
    }  # fmt: skip
    new = await rates(settings_svc, lines, datetime(2025, 10, 1, tzinfo=UTC))
    assert new == {
        "lipstick": 1800, "face-cream": 1800, "talc": 500, "kumkum": 0, "chyawanprash": 500,
        "hair-oil": 500, "shampoo": 500, "hair-dye": 1800, "tooth-powder": 500,
        "toothpaste": 500, "mouthwash": 1800, "soap": 500, "body-wash": 1800,
        "soap-flakes": 1800, "agarbatti": 500, "honey": 500, "tea": 500, "kadha-mix": 500,
        "amla-juice": 500, "rose-water": 1800,
        "comb": 500, "copper-cleaner": 500, "scarf": 500, "kurta": 500, "at-1050": 500,
        "over-1050": 500, "at-2625": 500, "over-2625": 1800, "mystery": 1800,
    }  # fmt: skip
    # The change takes effect at midnight IST (18:30 UTC the day before).
    edge = [q("hair-oil", hsn="33059011")]
    assert await rates(settings_svc, edge, datetime(2025, 9, 21, 18, 29, 59, tzinfo=UTC)) == {
        "hair-oil": 1800
    }
    assert await rates(settings_svc, edge, datetime(2025, 9, 21, 18, 30, tzinfo=UTC)) == {
        "hair-oil": 500
    }


async def test_new_rule_prefix_specificity_slabs_and_future_dates(
    settings_svc: SettingsHarness,
) -> None:
    md = settings_svc.md()
    # Two-digit chapters no real rule uses ("98" is project imports), plus a random tail.
    base = "98" + "".join(str(secrets.randbelow(10)) for _ in range(2))
    longer = base + "12"
    now = datetime.now(UTC)

    async def create(hsn: str, slabs: list[tuple[int, int]], when: datetime) -> res.TaxRateRule:
        return await settings_svc.admin.CreateTaxRateRule(
            adm.CreateTaxRateRuleRequest(
                tax_rate_rule=res.TaxRateRule(
                    hsn_prefix=hsn,
                    slabs=[
                        res.TaxSlab(
                            up_to_unit_price=money_pb2.Money(amount_minor=u), rate_basis_points=r
                        )
                        for u, r in slabs
                    ],
                    effective_from=ts(when),
                )
            ),
            metadata=md,
        )

    await create(base, [(0, 1200)], now - timedelta(days=10))
    await create(longer, [(50000, 500), (0, 2800)], now - timedelta(days=10))
    future = await create(base, [(0, 300)], now + timedelta(days=30))
    got = await rates(
        settings_svc,
        [
            q("short", hsn=base + "0000"),
            q("cheap", hsn=longer + "00", rupees=500),
            q("dear", hsn=longer, rupees=500.01),
        ],
    )
    assert got == {"short": 1200, "cheap": 500, "dear": 2800}
    later = await rates(settings_svc, [q("short", hsn=base)], now + timedelta(days=31))
    assert later == {"short": 300}
    listed = await settings_svc.admin.ListTaxRateRules(
        adm.ListTaxRateRulesRequest(hsn_prefix=base), metadata=md
    )
    assert [r.slabs[0].rate_basis_points for r in listed.tax_rate_rules] == [300, 1200]  # history
    # Same key and date twice: conflict. Bad slabs: field violations.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(base, [(0, 300)], future.effective_from.ToDatetime(tzinfo=UTC))
    assert err.value.code() == Code.ALREADY_EXISTS
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(base, [(100, 500), (0, 9000)], now)
    assert set(violations(err.value)) == {"tax_rate_rule.slabs[1].rate_basis_points"}
    # A future rule may be withdrawn; a rule in force may not.
    await settings_svc.admin.DeleteTaxRateRule(
        adm.DeleteTaxRateRuleRequest(name=future.name), metadata=md
    )
    in_force = listed.tax_rate_rules[1]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.DeleteTaxRateRule(
            adm.DeleteTaxRateRuleRequest(name=in_force.name), metadata=md
        )
    assert err.value.code() == Code.FAILED_PRECONDITION and reason(err.value) == "RULE_IN_EFFECT"


async def test_answers_carry_slabs_and_flag_fallbacks(
    settings_svc: SettingsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    def count(reason: str) -> float:
        return FALLBACKS.labels(reason)._value.get()

    before = {r: count(r) for r in ("hsn_not_covered", "unknown_tax_class")}
    req = internal.ResolveTaxRatesRequest(
        queries=[
            q("kurta", hsn="62114990", cls="apparel", rupees=2999),
            q("oil", hsn="33059019", cls="standard"),
            q("old-class", hsn="33059019", cls="gst_18"),
            q("mystery", hsn="99999999", cls="standard"),
            q("both", hsn="99999999", cls="gst_12"),
        ]
    )
    req.at.CopyFrom(ts(datetime(2025, 10, 1, tzinfo=UTC)))
    with caplog.at_level("WARNING", logger="cleanse.settings.tax"):
        got = {r.key: r for r in (await settings_svc.internal.ResolveTaxRates(req)).rates}
    # Every slab of the rule, so pricing can choose by the discounted price per piece.
    kurta = got["kurta"]
    assert kurta.rate_basis_points == 1800 and not kurta.fallback
    assert [(s.up_to_unit_price.amount_minor, s.rate_basis_points) for s in kurta.slabs] == [
        (262500, 500),
        (0, 1800),
    ]
    assert [(s.up_to_unit_price.amount_minor, s.rate_basis_points) for s in got["oil"].slabs] == [
        (0, 500)
    ]
    assert not (got["oil"].fallback or got["oil"].unknown_tax_class)
    # A class no rule has: the HSN code still decides, but the answer says so.
    old = got["old-class"]
    assert (old.rate_basis_points, old.fallback, old.unknown_tax_class) == (500, False, True)
    # No HSN rule and no class rule: the standard 18%, flagged.
    assert (got["mystery"].rate_basis_points, got["mystery"].fallback) == (1800, True)
    assert not got["mystery"].unknown_tax_class
    assert (got["both"].fallback, got["both"].unknown_tax_class) == (True, True)
    # Logged and counted.
    assert count("hsn_not_covered") == before["hsn_not_covered"] + 1
    assert count("unknown_tax_class") == before["unknown_tax_class"] + 2
    warned = [r.getMessage() for r in caplog.records if r.name == "cleanse.settings.tax"]
    assert any("'99999999'" in m and "standard rate" in m for m in warned), warned
    assert any("'gst_18'" in m for m in warned), warned


async def test_gst_2_0_rates_up_to_40_percent_and_nothing_else(
    settings_svc: SettingsHarness,
) -> None:
    md = settings_svc.md()
    hsn = "97" + "".join(str(secrets.randbelow(10)) for _ in range(4))

    def rule(*rates: int) -> adm.CreateTaxRateRuleRequest:
        bounds = [100_000 * (i + 1) for i in range(len(rates) - 1)] + [0]
        return adm.CreateTaxRateRuleRequest(
            tax_rate_rule=res.TaxRateRule(
                hsn_prefix=hsn,
                slabs=[
                    res.TaxSlab(
                        up_to_unit_price=money_pb2.Money(amount_minor=u), rate_basis_points=r
                    )
                    for u, r in zip(bounds, rates, strict=True)
                ],
                effective_from=ts(datetime.now(UTC) - timedelta(days=1)),
            )
        )

    # Only the rates in law: 12.5%, 29%, 41%, 50% or a negative rate is a typo.
    for bad in (1250, 2900, 4100, 5000, -500):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await settings_svc.admin.CreateTaxRateRule(rule(bad), metadata=md)
        assert err.value.code() == Code.INVALID_ARGUMENT
        assert set(violations(err.value)) == {"tax_rate_rule.slabs[0].rate_basis_points"}
    made = await settings_svc.admin.CreateTaxRateRule(
        rule(0, 10, 25, 150, 300, 500, 1200, 1800, 2800, 4000), metadata=md
    )
    assert [s.rate_basis_points for s in made.slabs][-1] == 4000
    # Every legal rate in one rule (a slab each, Rs 1,000 apart): above Rs 9,000, 40%.
    got = await rates(settings_svc, [q("cola", hsn=hsn + "10", rupees=9000.01), q("nil", hsn=hsn)])
    assert got == {"cola": 4000, "nil": 0}


async def test_list_tax_classes(settings_svc: SettingsHarness) -> None:
    cls = "t" + secrets.token_hex(4)
    got = await settings_svc.internal.ListTaxClasses(internal.ListTaxClassesRequest())
    assert {"apparel", "standard"} <= set(got.tax_classes) and cls not in got.tax_classes
    assert list(got.tax_classes) == sorted(got.tax_classes)
    # A class gets a rule (even one that starts later): it is a class from now on.
    await settings_svc.admin.CreateTaxRateRule(
        adm.CreateTaxRateRuleRequest(
            tax_rate_rule=res.TaxRateRule(
                tax_class=cls,
                slabs=[res.TaxSlab(rate_basis_points=500)],
                effective_from=ts(datetime.now(UTC) + timedelta(days=30)),
            )
        ),
        metadata=settings_svc.md(),
    )
    got = await settings_svc.internal.ListTaxClasses(internal.ListTaxClassesRequest())
    assert cls in got.tax_classes


async def test_tax_rules_need_settings_write(settings_svc: SettingsHarness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await settings_svc.admin.CreateTaxRateRule(
            adm.CreateTaxRateRuleRequest(
                tax_rate_rule=res.TaxRateRule(
                    tax_class="x", slabs=[res.TaxSlab(rate_basis_points=0)]
                )
            ),
            metadata=settings_svc.md(perms=("settings.read",)),
        )
    assert err.value.code() == Code.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("pincode", "state"),
    [("560001", "KA"), ("400001", "MH"), ("500001", "TS"), ("682555", "LD"), ("194101", "LA")],
)
async def test_place_of_supply(settings_svc: SettingsHarness, pincode: str, state: str) -> None:
    resp = await settings_svc.internal.ResolvePlaceOfSupply(
        internal.ResolvePlaceOfSupplyRequest(pincode=pincode)
    )
    assert resp.state_code == state


async def test_place_of_supply_rejects_bad_pins(settings_svc: SettingsHarness) -> None:
    for pin in ("12345", "900056"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await settings_svc.internal.ResolvePlaceOfSupply(
                internal.ResolvePlaceOfSupplyRequest(pincode=pin)
            )
        assert err.value.code() == Code.INVALID_ARGUMENT and "pincode" in violations(err.value)
