"""mesh.india additions: PIN code -> state (place of supply), GST state codes, GSTIN."""

from __future__ import annotations

import pytest

from mesh.india import (
    gstin_check_character,
    gstin_problem,
    gstin_state,
    normalize_state_code,
    state_for_pincode,
)

KNOWN = {
    "560001": "KA",  # Bengaluru GPO
    "400001": "MH",  # Mumbai GPO
    "110001": "DL",  # New Delhi
    "600001": "TN",  # Chennai
    "700001": "WB",  # Kolkata
    "500001": "TG",  # Hyderabad (TG is normalized to TS)
    "682001": "KL",  # Kochi
    "302001": "RJ",  # Jaipur
    "380001": "GJ",  # Ahmedabad
    "122001": "HR",  # Gurugram
    "160017": "CH",  # Chandigarh sector 17
    "403001": "GA",  # Panaji
    "744101": "AN",  # Port Blair
    "737101": "SK",  # Gangtok
    "190001": "JK",  # Srinagar
    "194101": "LA",  # Leh
    "682555": "LD",  # Lakshadweep (inside Kerala's 682)
    "605001": "PY",  # Puducherry (inside Tamil Nadu's 60)
    "673310": "PY",  # Mahe (inside Kerala's 67)
    "533464": "PY",  # Yanam (inside Andhra Pradesh's 53)
    "396210": "DH",  # Daman (inside Gujarat's 39)
    "248001": "UK",  # Dehradun (inside UP's 2x circle)
    "263001": "UK",  # Nainital
    "226001": "UP",  # Lucknow
    "834001": "JH",  # Ranchi (inside Bihar's 8x circle)
    "800001": "BR",  # Patna
    "781001": "AS",  # Guwahati
    "799001": "TR",  # Agartala
    "795001": "MN",  # Imphal
    "793001": "ML",  # Shillong
    "751001": "OD",  # Bhubaneswar
    "492001": "CG",  # Raipur
    "462001": "MP",  # Bhopal
    "171001": "HP",  # Shimla
    "141001": "PB",  # Ludhiana
    "160062": "PB",  # Mohali (shares 160 with Chandigarh)
    "520001": "AP",  # Vijayawada
}


@pytest.mark.parametrize(("pincode", "state"), sorted(KNOWN.items()))
def test_known_pincodes(pincode: str, state: str) -> None:
    assert state_for_pincode(pincode) == normalize_state_code(state)


def test_malformed_and_army_postal_pincodes() -> None:
    for bad in ("", "56001", "5600011", "056001", "56OO01"):
        assert state_for_pincode(bad) is None
    assert state_for_pincode("900056") is None  # Army Postal Service
    assert state_for_pincode(" 560001 ") == "KA"


def test_gstin_checksum_and_state() -> None:
    # A GSTIN published as an example by the GST portal: valid checksum "V".
    assert gstin_problem("27AAPFU0939F1ZV") is None
    assert gstin_state("27AAPFU0939F1ZV") == "MH"
    assert gstin_check_character("27AAPFU0939F1Z") == "V"
    assert "checksum" in (gstin_problem("27AAPFU0939F1ZA") or "")
    assert gstin_problem("27AAPFU0939F1Z") is not None  # 14 characters
    assert "state code" in (gstin_problem("99AAPFU0939F1ZV") or "")
    assert gstin_state("29AAGCC1234F1ZY") == "KA"
