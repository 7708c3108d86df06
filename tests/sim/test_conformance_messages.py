"""The conformance suite's own failures say what was expected and what came back; its demands follow capabilities."""

from __future__ import annotations

from dataclasses import replace

import pytest

from channelsync.sdk.models import Listing, Page
from channelsync.sim.fake import FakeChannel
from channelsync.testing.conformance import connect, suite


class PricelessFake(FakeChannel):
    """A platform whose goods list has no SKU price (the model makes it optional)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.capabilities = replace(self.capabilities, listing_prices=self.declares_prices)

    declares_prices = False

    def list_listings(self, page_token):
        page = super().list_listings(page_token)
        return Page([replace(ls, price=None) for ls in page.items], page.next_token)


class ClaimsPrices(PricelessFake):
    declares_prices = True


class LosesASku(FakeChannel):
    def list_listings(self, page_token):
        page = super().list_listings(page_token)
        return Page([ls for ls in page.items if ls.sku_code != "C-0003-1"], page.next_token)


def run(cls, test: str) -> None:
    with connect(cls, "direct") as env:
        getattr(suite(cls, transports=("direct",), entry_point=False)(), test)(env)


def test_a_platform_without_listing_prices_passes_when_it_declares_so():
    run(PricelessFake, "test_lists_every_listing_across_pages")


def test_a_missing_price_fails_with_expected_and_got_when_prices_are_declared():
    with pytest.raises(AssertionError) as info:
        run(ClaimsPrices, "test_lists_every_listing_across_pages")
    message = str(info.value)
    assert message.startswith("listings by merchant code over 27 items of 2 SKUs, as (external_id, quantity, price):")
    assert "'C-0000-0': expected (" in message and ", 1000), got (" in message and ", None)" in message


def test_a_lost_listing_is_named():
    with pytest.raises(AssertionError) as info:
        run(LosesASku, "test_lists_every_listing_across_pages")
    assert "'C-0003-1': expected (" in str(info.value) and "missing" in str(info.value)


def test_a_wrong_quantity_says_both_values():
    class OffByOne(FakeChannel):
        def set_stock(self, updates):
            return super().set_stock([replace(u, quantity=u.quantity + 1, delta=u.delta + 1) for u in updates])

    with pytest.raises(AssertionError) as info:
        run(OffByOne, "test_set_stock_reaches_targets")
    assert "quantities on the platform after set_stock:" in str(info.value)
    assert "'S-0': expected 7, got 8" in str(info.value)


def test_listing_is_the_model_the_suite_reads():
    assert Listing("1", "A").price is None  # optional in the model, so the suite may not demand it
