"""Field rules for catalogue input: plain functions, no I/O, testable alone.

Each `check_*` adds field violations to a `Violations` and returns the
normalised value; handlers raise once with every violation (nothing changed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from mesh.errors import Violations

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SKU_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
HSN_RE = re.compile(r"^\d{4}(?:\d{2}){0,2}$")  # 4, 6 or 8 digits
TAG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
WORD_RE = TAG_RE

SLUG_MAX = 80
SKU_MAX = 40
TITLE_MAX = 200
TAGS_MAX = 30
# A tax class as settings writes it ("standard", "apparel"): whether settings has a
# rule for it is checked against settings on every write (services/catalog/tax_classes.py).
TAX_CLASS_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# The filterable attributes a product may carry.
ATTRIBUTE_KEYS = frozenset({"skin_type", "hair_type", "dosha", "concern"})
DOSHAS = frozenset({"vata", "pitta", "kapha", "tridosha"})
MONEY_MAX = 10_000_000_00  # Rs 1 crore, in paise

# Media URLs: https only, on a media host we serve from, with a known extension.
# The server never fetches them; browsers load them from the CDN.
MEDIA_HOSTS = ("cdn.cleanse.in", "images.cleanse.in", "media.cleanse.in", "res.cloudinary.com")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".m3u8")
VIDEO_HOSTS = ("www.youtube.com", "youtube.com", "youtu.be", "player.vimeo.com")
URL_MAX = 500


def check_slug(value: str, v: Violations, field: str) -> str:
    value = value.strip()
    if not value:
        v.add(field, "is required")
    elif len(value) > SLUG_MAX or not SLUG_RE.match(value):
        v.add(field, "must be lower-case letters, digits and single hyphens (at most 80)")
    return value


def check_text(value: str, v: Violations, field: str, *, required: bool, max_len: int) -> str:
    value = value.strip()
    if required and not value:
        v.add(field, "is required")
    elif len(value) > max_len:
        v.add(field, f"must be at most {max_len} characters")
    return value


def check_sku(value: str, v: Violations, field: str) -> str:
    value = value.strip().upper()
    if not value:
        v.add(field, "is required")
    elif len(value) > SKU_MAX or not SKU_RE.match(value):
        v.add(field, "must be letters, digits and single hyphens (at most 40)")
    return value


def check_hsn(value: str, v: Violations, field: str) -> str:
    value = value.strip()
    if value and not HSN_RE.match(value):
        v.add(field, "must be an HSN code of 4, 6 or 8 digits")
    return value


def check_tax_class(value: str, v: Violations, field: str) -> str:
    """The form only; that settings has GST rules for it is asked of settings."""
    value = value.strip().lower()
    if value and not TAX_CLASS_RE.match(value):
        v.add(field, "must be a tax class: lower-case letters, digits and _, at most 32")
    return value


def ean13_valid(code: str) -> bool:
    """EAN-13: 13 digits whose last is the mod-10 check digit (weights 1,3,1,3...)."""
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def check_barcode(value: str, v: Violations, field: str) -> str:
    value = value.strip()
    if value and not ean13_valid(value):
        v.add(field, "must be an EAN-13 barcode with a valid check digit")
    return value


def check_prices(mrp: int, price: int, cost: int | None, v: Violations, prefix: str) -> None:
    if mrp <= 0 or mrp > MONEY_MAX:
        v.add(f"{prefix}mrp", "must be more than 0 paise and at most Rs 1 crore")
    if price <= 0:
        v.add(f"{prefix}price", "must be more than 0 paise")
    elif price > mrp > 0:
        v.add(f"{prefix}price", "must not exceed the MRP")
    if cost is not None and cost < 0:
        v.add(f"{prefix}cost_price", "must not be negative")


def check_currency(code: str, v: Violations, field: str) -> None:
    if code and code != "INR":
        v.add(field, "only INR is supported")


def check_non_negative(value: int, v: Violations, field: str, maximum: int = 1_000_000) -> None:
    if value < 0 or value > maximum:
        v.add(field, f"must be between 0 and {maximum}")


MAX_PIECES_PER_UNIT = 1000


def check_pieces_per_unit(value: int, v: Violations, field: str) -> int:
    """Pieces sold as one unit (GST slabs per piece): 1-1000; 0 (unset) means 1."""
    if value < 0 or value > MAX_PIECES_PER_UNIT:
        v.add(field, f"must be between 1 and {MAX_PIECES_PER_UNIT} (0 means 1)")
    return max(value, 1)


def check_tags(tags: Iterable[str], v: Violations, field: str) -> list[str]:
    out: list[str] = []
    for i, raw in enumerate(tags):
        tag = raw.strip().lower()
        if not tag or len(tag) > 64 or not TAG_RE.match(tag):
            v.add(f"{field}[{i}]", "must be lower-case words joined by - or _")
        elif tag not in out:
            out.append(tag)
    if len(out) > TAGS_MAX:
        v.add(field, f"at most {TAGS_MAX} tags")
    return out


def check_attributes(
    attributes: Iterable[tuple[str, Iterable[str]]], v: Violations, field: str
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i, (raw_key, values) in enumerate(attributes):
        key = raw_key.strip().lower()
        if key not in ATTRIBUTE_KEYS:
            v.add(f"{field}[{i}].key", f"must be one of {', '.join(sorted(ATTRIBUTE_KEYS))}")
            continue
        bucket = out.setdefault(key, [])
        for j, raw in enumerate(values):
            value = raw.strip().lower()
            if not value or len(value) > 64 or not WORD_RE.match(value):
                v.add(f"{field}[{i}].values[{j}]", "must be lower-case words joined by - or _")
            elif key == "dosha" and value not in DOSHAS:
                v.add(f"{field}[{i}].values[{j}]", f"must be one of {', '.join(sorted(DOSHAS))}")
            elif value not in bucket:
                bucket.append(value)
    return out


def check_media_url(url: str, kind: str, v: Violations, field: str) -> str:
    """https, an allowed host, a file extension matching the kind. Never fetched."""
    url = url.strip()
    if not url:
        v.add(field, "is required")
        return url
    if len(url) > URL_MAX:
        v.add(field, f"must be at most {URL_MAX} characters")
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        v.add(field, "is not a valid URL")
        return url
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        v.add(field, "must be an https URL")
    elif parts.username or parts.password or parts.port not in (None, 443):
        v.add(field, "must not carry credentials or a port")
    elif kind == "video" and host in VIDEO_HOSTS:
        pass  # embeds: the player URL has no file extension
    elif host not in MEDIA_HOSTS:
        v.add(field, f"host must be one of {', '.join(MEDIA_HOSTS)}")
    else:
        allowed = VIDEO_EXTENSIONS if kind == "video" else IMAGE_EXTENSIONS
        if not parts.path.lower().endswith(allowed):
            v.add(field, f"must end with one of {', '.join(allowed)}")
    return url


def check_optional_image_url(url: str, v: Violations, field: str) -> str:
    return check_media_url(url, "image", v, field) if url.strip() else ""


def parse_variant_name(name: str) -> tuple[str, str] | None:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "products" or parts[2] != "variants":
        return None
    if not parts[1] or not parts[3] or len(parts[1]) > 64 or len(parts[3]) > 64:
        return None
    return parts[1], parts[3]


def option_title(options: Mapping[str, str]) -> str:
    return " / ".join(v for _, v in sorted(options.items()) if v)
