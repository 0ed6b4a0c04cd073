"""Demo data on first start: zones for South/West/North/East India, the manual carrier
and the aggregator (test mode), standard and express methods with weight slabs,
serviceability for demo PINs. Runs only while there are no zones."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from mesh.db import Database
from services.shipping.cache import bump_version
from services.shipping.models import Carrier, Method, Serviceability, Zone
from services.shipping.secrets import SecretBox

ZONES = {
    "south": ("South India", ["KA", "TN", "KL", "AP", "TS", "PY", "LD", "AN"]),
    "west": ("West India", ["MH", "GJ", "GA", "DH", "RJ", "MP", "CG"]),
    "north": ("North India", ["DL", "HR", "PB", "CH", "HP", "JK", "LA", "UP", "UK"]),
    "east": (
        "East & North-East India",
        ["WB", "OD", "BR", "JH", "AS", "SK", "AR", "ML", "MN", "MZ", "NL", "TR"],
    ),
}
# (max grams, paise): 0.5 kg, 1 kg, 2 kg; +extra per 500 g above 2 kg.
STANDARD_SLABS = [[500, 4900], [1000, 6900], [2000, 9900]]
EXPRESS_SLABS = [[500, 9900], [1000, 12900], [2000, 17900]]
DAYS = {"south": 3, "west": 4, "north": 5, "east": 6}
# Demo PINs: (pincode, state, serviceable, cod, days).
PINS = [
    ("560001", "KA", True, True, 2),
    ("400001", "MH", True, True, 3),
    ("110001", "DL", True, True, 4),
    ("700001", "WB", True, True, 5),
    ("744101", "AN", True, False, 10),  # Port Blair: prepaid only, slow
    ("194101", "LA", False, False, 0),  # Leh: not serviceable
]
# Where demo warehouses are (labels), matching the inventory's demo warehouses.
DEMO_WAREHOUSES: Mapping[str, Mapping[str, str]] = {
    "blr-1": {
        "recipient_name": "Cleanse Bengaluru FC",
        "line1": "Plot 7, KIADB Industrial Area",
        "city": "Bengaluru",
        "state_code": "KA",
        "pincode": "560099",
        "phone": "+918000000001",
    },
    "bhw-1": {
        "recipient_name": "Cleanse Bhiwandi FC",
        "line1": "Gala 12, Rahnal",
        "city": "Bhiwandi",
        "state_code": "MH",
        "pincode": "421302",
        "phone": "+918000000002",
    },
    "ggn-1": {
        "recipient_name": "Cleanse Gurugram FC",
        "line1": "Sector 37 Warehousing",
        "city": "Gurugram",
        "state_code": "HR",
        "pincode": "122004",
        "phone": "+918000000003",
    },
}


def warehouse_address(warehouse_id: str) -> Mapping[str, str]:
    return DEMO_WAREHOUSES.get(
        warehouse_id, {"recipient_name": f"Warehouse {warehouse_id}", "city": "", "pincode": ""}
    )


async def seed_demo(db: Database, box: SecretBox, aggregator_webhook_secret: str) -> bool:
    async with db.transaction() as s:
        if (await s.scalars(select(Zone.id).limit(1))).first() is not None:
            return False
        s.add(
            Carrier(
                id="manual",
                display_name="Self-arranged courier",
                kind="MANUAL",
                tracking_url_template="",
                active=True,
            )
        )
        s.add(
            Carrier(
                id="shipfast",
                display_name="Shipfast (aggregator)",
                kind="AGGREGATOR",
                tracking_url_template="https://track.shipfast.example/awb/{awb}",
                webhook_secret_encrypted=box.seal(aggregator_webhook_secret),
                test_mode=True,
                active=True,
            )
        )
        for zid, (title, states) in ZONES.items():
            s.add(
                Zone(
                    id=zid,
                    display_name=title,
                    state_codes=states,
                    pincode_prefixes=[],
                    pincode_ranges=[],
                    active=True,
                )
            )
        await s.flush()
        for zid in ZONES:
            s.add(
                Method(
                    id=f"{zid}-standard",
                    zone_id=zid,
                    kind="STANDARD",
                    display_name="Standard",
                    slabs=STANDARD_SLABS,
                    extra_per_500g_minor=2000,
                    free_shipping_threshold_minor=49900,
                    cod_available=True,
                    cod_fee_minor=4900,
                    cod_max_order_value_minor=2500000,
                    estimated_days=DAYS[zid],
                    carrier_id="shipfast",
                    active=True,
                )
            )
            s.add(
                Method(
                    id=f"{zid}-express",
                    zone_id=zid,
                    kind="EXPRESS",
                    display_name="Express",
                    slabs=EXPRESS_SLABS,
                    extra_per_500g_minor=4000,
                    free_shipping_threshold_minor=0,
                    cod_available=False,
                    cod_fee_minor=0,
                    estimated_days=max(1, DAYS[zid] - 2),
                    carrier_id="shipfast",
                    active=True,
                )
            )
        for pin, state, ok, cod, days in PINS:
            s.add(
                Serviceability(
                    pincode=pin,
                    state_code=state,
                    serviceable=ok,
                    cod_available=cod,
                    estimated_days=days,
                )
            )
        # Replicas that started first (and cached an empty configuration) reload.
        await bump_version(s)
    return True
