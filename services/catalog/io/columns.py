"""The CSV column specification and per-row parsing. Pure functions, no I/O.

One row per variant; the product's columns repeat on each of its variants' rows
(the last row of a product in the file wins when they differ). Lists inside a cell
are separated by `;`, key/value pairs are `key=value` and several values of one
attribute are separated by `|`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mesh.errors import Violations
from services.catalog.domain.richtext import sanitize_html
from services.catalog.domain.validation import (
    check_attributes,
    check_barcode,
    check_hsn,
    check_non_negative,
    check_pieces_per_unit,
    check_prices,
    check_sku,
    check_slug,
    check_tags,
    check_tax_class,
    check_text,
)

# (column, meaning). Required columns must be in the header; a missing optional
# column leaves that field unchanged on existing rows (defaults for new ones).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("product_slug", "required; the product's unique slug (upsert key for products)"),
    ("title", "product title; required for a new product"),
    ("subtitle", "product subtitle"),
    ("description_html", "rich text; sanitised with the catalogue's HTML allow-list"),
    ("brand_slug", "an existing brand's slug; empty: no brand"),
    ("category_slugs", "existing category slugs separated by ';'"),
    ("ingredient_slugs", "existing ingredient slugs separated by ';', in order"),
    ("status", "draft | active | archived (default draft)"),
    ("hsn_code", "4, 6 or 8 digits"),
    ("tax_class", "a class settings has GST rules for, e.g. standard | apparel"),
    ("attributes", "e.g. 'skin_type=dry|oily;dosha=vata'"),
    ("tags", "e.g. 'bestseller;new'"),
    ("sku", "required; the variant's unique SKU (upsert key for variants)"),
    ("variant_title", "e.g. '100 ml'; default: the option values"),
    ("option_values", "e.g. 'size=100 ml;pack=1'"),
    ("mrp_paise", "required for a new variant; integer paise"),
    ("price_paise", "required for a new variant; integer paise, at most the MRP"),
    ("cost_price_paise", "integer paise; empty: unknown"),
    ("weight_grams", "integer"),
    ("length_mm", "integer"),
    ("width_mm", "integer"),
    ("height_mm", "integer"),
    ("barcode", "EAN-13 with a valid check digit; empty: none"),
    ("variant_status", "active | inactive | archived (default active)"),
    ("position", "integer display order of the variant"),
    ("pieces_per_unit", "pieces sold as one unit, e.g. 2 for a pack of 2 (default 1)"),
)
COLUMN_NAMES = tuple(c for c, _ in COLUMNS)
REQUIRED = ("product_slug", "sku")
PRODUCT_STATUSES = ("draft", "active", "archived")
VARIANT_STATUSES = ("active", "inactive", "archived")
INT_COLUMNS = ("weight_grams", "length_mm", "width_mm", "height_mm", "position")


def split_list(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(";") if p.strip()]


def parse_pairs(cell: str) -> list[tuple[str, str]]:
    """'a=1;b=2' -> [("a", "1"), ("b", "2")]; a part without '=' raises ValueError."""
    out = []
    for part in split_list(cell):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(part)
        out.append((key.strip(), value.strip()))
    return out


def format_pairs(pairs: dict[str, str] | dict[str, list[str]]) -> str:
    items = []
    for k in sorted(pairs):
        v = pairs[k]
        items.append(f"{k}={'|'.join(v) if isinstance(v, list) else v}")
    return ";".join(items)


@dataclass
class Row:
    """One parsed, validated CSV row. `present` names the columns the header has."""

    line: int
    present: frozenset[str]
    slug: str = ""
    sku: str = ""
    title: str = ""
    subtitle: str = ""
    description_html: str = ""
    brand_slug: str = ""
    category_slugs: list[str] = field(default_factory=list)
    ingredient_slugs: list[str] = field(default_factory=list)
    status: str = "draft"
    hsn_code: str = ""
    tax_class: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    variant_title: str = ""
    option_values: dict[str, str] = field(default_factory=dict)
    mrp: int | None = None
    price: int | None = None
    cost_price: int | None = None
    ints: dict[str, int] = field(default_factory=dict)
    barcode: str | None = None
    variant_status: str = "active"

    def has(self, column: str) -> bool:
        return column in self.present


class HeaderError(ValueError):
    pass


def check_header(header: list[str]) -> list[str]:
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMN_NAMES]
    missing = [n for n in REQUIRED if n not in names]
    dup = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if dup:
        problems.append(f"duplicate column(s): {', '.join(dup)}")
    if problems:
        raise HeaderError("; ".join(problems))
    return names


def _int(cell: str, column: str, v: Violations) -> int | None:
    cell = cell.strip().replace("_", "")
    if not cell:
        return None
    try:
        return int(cell)
    except ValueError:
        v.add(column, f"must be an integer, got {cell[:20]!r}")
        return None


def parse_row(header: list[str], fields: list[str], line: int) -> tuple[Row, Violations]:
    """A row from its cells; the violations name columns (not proto fields)."""
    v = Violations()
    if len(fields) != len(header):
        v.add("", f"has {len(fields)} cells, the header has {len(header)}")
        return Row(line, frozenset()), v
    cells = dict(zip(header, fields, strict=True))
    row = Row(line, frozenset(header))
    row.slug = check_slug(cells["product_slug"], v, "product_slug")
    row.sku = check_sku(cells["sku"], v, "sku")
    if "title" in cells:
        row.title = check_text(cells["title"], v, "title", required=False, max_len=200)
    if "subtitle" in cells:
        row.subtitle = check_text(cells["subtitle"], v, "subtitle", required=False, max_len=300)
    if "description_html" in cells:
        try:
            row.description_html = sanitize_html(cells["description_html"])
        except Exception as exc:  # the sanitiser's own limits (length)
            v.add("description_html", str(exc) or "is not acceptable")
    if "brand_slug" in cells:
        row.brand_slug = cells["brand_slug"].strip()
    if "category_slugs" in cells:
        row.category_slugs = split_list(cells["category_slugs"])
    if "ingredient_slugs" in cells:
        row.ingredient_slugs = split_list(cells["ingredient_slugs"])
    if "status" in cells:
        row.status = cells["status"].strip().lower() or "draft"
        v.check(row.status in PRODUCT_STATUSES, "status", "must be draft, active or archived")
    if "hsn_code" in cells:
        row.hsn_code = check_hsn(cells["hsn_code"], v, "hsn_code")
    if "tax_class" in cells:
        row.tax_class = check_tax_class(cells["tax_class"], v, "tax_class")
    if "attributes" in cells:
        try:
            pairs = [(k, val.split("|")) for k, val in parse_pairs(cells["attributes"])]
            inner = Violations()
            row.attributes = check_attributes(pairs, inner, "attributes")
            if inner:
                v.add("attributes", inner.items[0][1])
        except ValueError as exc:
            v.add("attributes", f"expected key=value, got {str(exc)[:30]!r}")
    if "tags" in cells:
        inner = Violations()
        row.tags = check_tags(split_list(cells["tags"]), inner, "tags")
        if inner:
            v.add("tags", inner.items[0][1])
    if "variant_title" in cells:
        row.variant_title = check_text(
            cells["variant_title"], v, "variant_title", required=False, max_len=120
        )
    if "option_values" in cells:
        try:
            row.option_values = dict(parse_pairs(cells["option_values"]))
        except ValueError as exc:
            v.add("option_values", f"expected key=value, got {str(exc)[:30]!r}")
    for column, attr in (("mrp_paise", "mrp"), ("price_paise", "price")):
        if column in cells:
            setattr(row, attr, _int(cells[column], column, v))
    if "cost_price_paise" in cells:
        row.cost_price = _int(cells["cost_price_paise"], "cost_price_paise", v)
    for column in INT_COLUMNS:
        if column in cells:
            value = _int(cells[column], column, v)
            if value is not None:
                check_non_negative(value, v, column)
                row.ints[column] = value
    if "pieces_per_unit" in cells:
        value = _int(cells["pieces_per_unit"], "pieces_per_unit", v)
        if value is not None:
            row.ints["pieces_per_unit"] = check_pieces_per_unit(value, v, "pieces_per_unit")
    if "barcode" in cells:
        row.barcode = check_barcode(cells["barcode"], v, "barcode") or None
    if "variant_status" in cells:
        row.variant_status = cells["variant_status"].strip().lower() or "active"
        v.check(
            row.variant_status in VARIANT_STATUSES,
            "variant_status",
            "must be active, inactive or archived",
        )
    if row.mrp is not None and row.price is not None:
        inner = Violations()
        check_prices(row.mrp, row.price, row.cost_price, inner, "")
        for f, d in inner.items:
            v.add({"mrp": "mrp_paise", "price": "price_paise"}.get(f, "cost_price_paise"), d)
    return row, v
