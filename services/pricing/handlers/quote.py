"""Gathering a calculation's inputs (catalog, settings, inventory, own rules) and
running the pure engine: CalculatePrice, SuggestCoupons, ListPromotions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from cleanse.pricing.v1 import breakdown_pb2, pricing_service_pb2
from mesh.cached import TtlCache
from mesh.db import Database, utcnow
from mesh.errors import FailedPrecondition, InvalidArgument
from services.pricing import convert
from services.pricing import repository as repo
from services.pricing.config import Settings
from services.pricing.domain import model as d
from services.pricing.domain.coupons import normalize_codes
from services.pricing.domain.engine import finish, merchandise
from services.pricing.domain.result import Breakdown, Rejection
from services.pricing.handlers.common import Clock, cart_lines
from services.pricing.peers import Peers
from services.pricing.shipping import FLAT_RATE, QuoteRequest, ShippingQuotes, apply, parcel

RULES_KEY = "rules"
CONVERT_RULE = {"automatic": convert.automatic, "tier": convert.tier, "gift": convert.gift}


@dataclass(frozen=True)
class LoadedRules:
    automatic: tuple[d.AutomaticDiscount, ...]
    tiers: tuple[d.Tier, ...]
    gifts: tuple[d.GiftRule, ...]
    # The stacking cap: the admin's (pricing_settings), else the process default.
    stacking_cap_bp: int


class Quoter:
    def __init__(
        self,
        db: Database,
        peers: Peers,
        settings: Settings,
        shipping: ShippingQuotes | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.peers = peers
        self.settings = settings
        self.shipping = shipping or ShippingQuotes()
        self.clock = clock
        # Own rules, cached `rules_cache_seconds`; admin writes in this process clear it.
        self.rules_cache = TtlCache(settings.rules_cache_seconds, max_entries=4096)
        self._rule_memo: dict[tuple[str, str], tuple[Any, Any]] = {}
        # The Checkout of the cached settings answer, per place of supply: rebuilt
        # only when settings' checkout config is fetched again (another object).
        self._checkouts: tuple[Any, dict[str, d.Checkout]] = (None, {})

    def invalidate(self) -> None:
        self.rules_cache.clear()

    async def rules(self) -> LoadedRules:
        async def load() -> LoadedRules:
            async with self.db.session() as s:
                rows = (await s.execute(repo.ACTIVE_RULES_AND_CAP)).all()
            by_kind: dict[str, list[Any]] = {"automatic": [], "tier": [], "gift": []}
            cap = None
            for row in rows:
                if row.kind == "settings":
                    cap = row.cap
                else:
                    by_kind[row.kind].append(self._converted(row))
            return LoadedRules(
                tuple(sorted(by_kind["automatic"], key=lambda a: a.id)),
                tuple(sorted(by_kind["tier"], key=lambda t: t.id)),
                tuple(sorted(by_kind["gift"], key=lambda g: g.id)),
                self.settings.stacking_cap_bp if cap is None else cap,
            )

        return await self.rules_cache.get_or_fetch(RULES_KEY, load)

    def _converted(self, row: Any) -> Any:
        """The domain rule of a row of repo.ACTIVE_RULES_AND_CAP, converted once per
        version of the row (the proto parse is most of a reload's cost)."""
        key = (row.kind, row.id)
        version = (row.update_time, row.active, row.created_by, row.spec)
        hit = self._rule_memo.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        rule = CONVERT_RULE[row.kind](row)
        if len(self._rule_memo) >= 4096:
            self._rule_memo.clear()
        self._rule_memo[key] = (version, rule)
        return rule

    async def coupons(self, codes: tuple[str, ...], *, fresh: bool) -> dict[str, d.Coupon]:
        async def load() -> dict[str, d.Coupon]:
            async with self.db.session() as s:
                rows = await repo.coupons_by_code(s, codes)
            return {code: convert.coupon(row) for code, row in rows.items()}

        if not codes:
            return {}
        if fresh:
            return await load()
        return await self.rules_cache.get_or_fetch(("coupons", codes), load)

    async def listed_codes(self) -> tuple[str, ...]:
        async def load() -> tuple[str, ...]:
            async with self.db.session() as s:
                return tuple(c.code for c in await repo.listed_coupons(s))

        return await self.rules_cache.get_or_fetch("listed", load)

    async def _customer(self, cid: str, coupons: dict[str, d.Coupon]) -> d.Customer:
        if not cid:
            return d.GUEST
        uses: dict[str, int] = {}
        placed = 0
        # Only coupons read these: per-customer uses, and orders placed (first order).
        if coupons:
            async with self.db.session() as s:
                uses = await repo.customer_uses(s, cid, sorted(c.id for c in coupons.values()))
                if any(c.first_order_only for c in coupons.values()):
                    placed = await repo.orders_placed(s, cid)
        wanted = frozenset().union(*(c.segments for c in coupons.values()))
        segments = await self.peers.segments(cid, wanted)
        return d.Customer(cid, segments, placed, uses)

    async def inputs(
        self,
        cart: breakdown_pb2.Cart,
        customer_id: str,
        *,
        extra_codes: tuple[str, ...] = (),
        fresh: bool = False,
        lines: tuple[tuple[str, int], ...] | None = None,
    ) -> d.PricingInput:
        """`lines`: cart_lines(cart), when the caller has them already."""
        if lines is None:
            lines = cart_lines(cart)
        codes = normalize_codes([*cart.coupon_codes, *extra_codes])
        # One after the other: on the hot path each is an in-memory cache hit, and
        # awaiting a coroutine that does not suspend costs less than a task.
        rules = await self.rules()
        config = await self.peers.checkout_config()
        coupons = await self.coupons(codes, fresh=fresh)
        gift_ids = sorted({g.variant_id for g in rules.gifts})
        line_ids = [vid for vid, _ in lines]
        variants, missing = await self.peers.variants([*line_ids, *gift_ids], fresh=fresh)
        unknown = [vid for vid in line_ids if vid in missing or vid not in variants]
        if unknown:
            index = {ln.variant_id: i for i, ln in enumerate(cart.lines)}
            raise InvalidArgument(
                [(f"cart.lines[{index[vid]}].variant_id", "no such variant") for vid in unknown]
            )
        unsellable = [vid for vid in line_ids if not variants[vid].sellable]
        if unsellable:
            raise FailedPrecondition(
                f"not for sale: {', '.join(unsellable)}",
                reason="VARIANT_NOT_SELLABLE",
                metadata={"variant_ids": ",".join(unsellable)},
            )
        registered = config.registered_state_code
        place = registered
        if cart.delivery_pincode:
            place = await self.peers.place_of_supply(cart.delivery_pincode)
        rates = await self.peers.tax_rates([variants[v] for v in line_ids])
        stock = await self.peers.stock([g for g in gift_ids if g in variants])
        customer = await self._customer(customer_id, coupons)
        checkout = self._checkout(config, place or registered)
        return d.PricingInput(
            lines=lines,
            variants=variants,
            tax_rates=rates,
            checkout=checkout,
            now=self.clock(),
            rules=d.Rules(
                coupons=coupons,
                automatic=rules.automatic,
                tiers=rules.tiers,
                gifts=rules.gifts,
                stacking_cap_bp=rules.stacking_cap_bp,
            ),
            coupon_codes=normalize_codes(cart.coupon_codes),
            customer=customer,
            payment_method=cart.payment_method,
            gift_stock=stock,
        )

    def _checkout(self, config: Any, place: str) -> d.Checkout:
        """Settings' checkout config as the engine's Checkout, priced with the flat
        rate (`price` swaps in shipping's quote). Built once per config answer and
        place of supply: the cached answer is not changed, a new one is a new object."""
        seen, by_place = self._checkouts
        if seen is not config:
            by_place = {}
            self._checkouts = (config, by_place)
        hit = by_place.get(place)
        if hit is not None:
            return hit
        registered = config.registered_state_code
        checkout = d.Checkout(
            registered_state=registered,
            place_of_supply=place,
            prices_include_tax=config.prices_include_tax,
            shipping_fee=config.flat_shipping_rate.amount_minor,
            shipping_source=FLAT_RATE,
            free_shipping_threshold=config.free_shipping_threshold.amount_minor,
            payment_methods={
                pm.code: d.PaymentMethod(
                    pm.code,
                    pm.enabled,
                    pm.min_order_value.amount_minor,
                    pm.max_order_value.amount_minor,
                    pm.fee.amount_minor,
                    pm.display_name,
                )
                for pm in config.payment_methods
            },
            currency=config.currency_code or "INR",
        )
        if len(by_place) < 1024:
            by_place[place] = checkout
        return checkout

    async def price(
        self, inp: d.PricingInput, cart: breakdown_pb2.Cart, *, fresh: bool = False
    ) -> Breakdown:
        """The breakdown of `inp` with the shipping service's quote when it answers.

        Shipping's free-shipping threshold compares the order value after discounts,
        which only the engine knows: the lines are priced first (engine.merchandise),
        then, a quote from shipping in hand, shipping, the fee and the totals are
        settled (engine.finish). Shipping never changes the merchandise total, so the
        order value sent is exact. Shipping down: settled with the flat rate.
        """
        m = merchandise(inp)
        if not self.shipping.enabled or not cart.delivery_pincode:
            return finish(m)
        weight, lines = parcel(inp.lines, inp.variants)
        req = QuoteRequest(cart.delivery_pincode, m.total, weight, inp.payment_method, lines)
        quote = await self.shipping.quote(req, inp.checkout.shipping_fee, fresh=fresh)
        if quote.source == FLAT_RATE:
            return finish(m)
        # The lines do not depend on the shipping charge: they are priced once.
        return finish(m, apply(inp.checkout, quote))

    # --- RPCs ----------------------------------------------------------------------

    async def calculate(self, cart: breakdown_pb2.Cart, customer_id: str) -> Breakdown:
        return await self.price(await self.inputs(cart, customer_id), cart)

    async def suggest(
        self, cart: breakdown_pb2.Cart, customer_id: str
    ) -> pricing_service_pb2.SuggestCouponsResponse:
        listed = await self.listed_codes()
        inp = await self.inputs(cart, customer_id, extra_codes=listed)
        candidates = normalize_codes([*listed, *cart.coupon_codes])
        base, *priced = await asyncio.gather(
            self.price(replace(inp, coupon_codes=()), cart),
            *(self.price(replace(inp, coupon_codes=(code,)), cart) for code in candidates),
        )
        out = []
        for code, b in zip(candidates, priced, strict=True):
            outcome = b.coupons[0]
            savings = base.total - b.total
            ok = outcome.applied and savings > 0
            c = inp.rules.coupons.get(code)
            rejection = Rejection.NONE if ok else (outcome.rejection or Rejection.NO_SAVINGS)
            out.append(
                pricing_service_pb2.CouponSuggestion(
                    code=code,
                    description=c.description if c else "",
                    savings=convert.money(max(savings, 0)),
                    total=convert.money(b.total),
                    applicable=ok,
                    rejection=int(rejection),
                    message=outcome.message,
                )
            )
        out.sort(key=lambda s: (not s.applicable, -s.savings.amount_minor, s.code))
        best = out[0].code if out and out[0].applicable else ""
        return pricing_service_pb2.SuggestCouponsResponse(suggestions=out, best_code=best)

    async def promotions(self) -> pricing_service_pb2.ListPromotionsResponse:
        rules, config = await asyncio.gather(self.rules(), self.peers.checkout_config())
        now = self.clock()
        out = [
            pricing_service_pb2.Promotion(
                kind=1,
                rule=t.rule,
                title=t.title,
                threshold=convert.money(t.min_subtotal),
                percent_basis_points=t.percent_bp,
            )
            for t in rules.tiers
            if t.window.open_at(now)
        ]
        out += [
            pricing_service_pb2.Promotion(
                kind=2,
                rule=g.rule,
                title=g.title,
                threshold=convert.money(g.min_subtotal),
                gift_variant_id=g.variant_id,
            )
            for g in rules.gifts
            if g.window.open_at(now)
        ]
        if config.free_shipping_threshold.amount_minor:
            out.append(
                pricing_service_pb2.Promotion(
                    kind=3, title="Free shipping", threshold=config.free_shipping_threshold
                )
            )
        out.sort(key=lambda p: (p.threshold.amount_minor, p.kind, p.rule))
        return pricing_service_pb2.ListPromotionsResponse(promotions=out)
