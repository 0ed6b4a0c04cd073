"""engine.merchandise + engine.finish (Quoter.price prices the lines once, then settles
shipping with the quote) give exactly what calculate gives with the quoted checkout."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from services.pricing.domain.engine import calculate, finish, merchandise
from services.pricing.domain.model import PricingInput
from services.pricing.shipping import FLAT_RATE, Quote, apply
from tests.pricing.test_domain import scenarios

quotes = st.builds(
    Quote,
    fee=st.sampled_from([0, 1, 4900, 9999]),
    source=st.sampled_from(["methods/std", FLAT_RATE, "shipping"]),
    base_fee=st.sampled_from([0, 4900, 12000]),
    free=st.booleans(),
    cod_available=st.sampled_from([None, True, False]),
    cod_fee=st.sampled_from([None, 0, 2500]),
)


@settings(max_examples=300, deadline=None)
@given(scenarios(), quotes)
def test_finishing_with_a_quote_equals_pricing_with_it(x: PricingInput, quote: Quote) -> None:
    m = merchandise(x)
    assert m.total == sum(ln.total for ln in calculate(x).lines)
    quoted = apply(x.checkout, quote)
    # Finished twice (flat rate, then the quote) and in the other order: the stage
    # is not changed by finishing it.
    assert finish(m) == calculate(x)
    assert finish(m, quoted) == calculate(replace(x, checkout=quoted))
    assert finish(m) == calculate(x)
    assert finish(m, quoted) == calculate(replace(x, checkout=quoted))


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.sampled_from(["KA", "MH", "DL"]), st.booleans())
def test_a_checkout_that_changes_the_lines_is_priced_afresh(
    x: PricingInput, place: str, inclusive: bool
) -> None:
    other = replace(x.checkout, place_of_supply=place, prices_include_tax=inclusive)
    assert finish(merchandise(x), other) == calculate(replace(x, checkout=other))
