"""What the storefront says about stock, from the inventory service's answer."""

from __future__ import annotations

from dataclasses import dataclass

# Same numbers as cleanse.catalog.v1.StockStatus (and cleanse.inventory.v1.StockStatus).
UNKNOWN, IN_STOCK, LOW_STOCK, OUT_OF_STOCK, BACKORDER = 0, 1, 2, 3, 4
# Best first, for "the product's status" over its variants.
_RANK = {IN_STOCK: 0, LOW_STOCK: 1, BACKORDER: 2, OUT_OF_STOCK: 3, UNKNOWN: 4}


@dataclass(frozen=True)
class StockInfo:
    status: int = UNKNOWN
    available: int = 0

    @property
    def sellable(self) -> bool:
        return self.status in (IN_STOCK, LOW_STOCK, BACKORDER)

    @property
    def label(self) -> str:
        if self.status == IN_STOCK:
            return "In stock"
        if self.status == LOW_STOCK:
            return f"Only {self.available} left"
        if self.status == OUT_OF_STOCK:
            return "Out of stock"
        if self.status == BACKORDER:
            return "Available on backorder"
        return ""


def best(statuses: list[int]) -> int:
    return min(statuses, key=lambda s: _RANK.get(s, 9)) if statuses else OUT_OF_STOCK


def discount_percent(mrp: int, price: int) -> int:
    return (mrp - price) * 100 // mrp if mrp > 0 and price < mrp else 0
