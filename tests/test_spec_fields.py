"""The spec covers every field of the protocol notes' operation table (okx-protocol.md).

The table below is transcribed from those notes on purpose: it is an
independent record to catch a field dropped from, or misspelt in, the spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codegen.schema_check import SchemaChecker
from codegen.spec_loader import load_spec

SPEC = load_spec(Path(__file__).resolve().parent.parent / "spec")
CHECKER = SchemaChecker(SPEC.raw)

ORDER = (
    {"instId", "tdMode", "side", "ordType", "sz"},
    {"px", "ccy", "clOrdId", "tag", "posSide", "reduceOnly", "tgtCcy", "banAmend", "pxUsd", "pxVol", "stpMode"},
    {"clOrdId", "ordId", "tag", "ts", "sCode", "sMsg"},
)  # fmt: skip
CANCEL = ({"instId"}, {"ordId", "clOrdId"}, {"clOrdId", "ordId", "ts", "sCode", "sMsg"})
AMEND = (
    {"instId"},
    {"ordId", "clOrdId", "cxlOnFail", "reqId", "newSz", "newPx", "newPxUsd", "newPxVol"},
    {"clOrdId", "ordId", "ts", "reqId", "sCode", "sMsg"},
)
# method: (op, connection, max_items, required fields, optional fields, reply item fields)
PROTOCOL_TABLE: dict[str, tuple[str, str, int, set[str], set[str], set[str]]] = {
    "submit_new_order": ("order", "private", 1, *ORDER),
    "submit_multiple_orders": ("batch-orders", "private", 20, *ORDER),
    "cancel_order": ("cancel-order", "private", 1, *CANCEL),
    "cancel_multiple_orders": ("batch-cancel-orders", "private", 20, *CANCEL),
    "amend_order": ("amend-order", "private", 1, *AMEND),
    "amend_multiple_orders": ("batch-amend-orders", "private", 20, *AMEND),
    "mass_cancel_orders": ("mass-cancel", "private", 1, {"instType", "instFamily"}, {"lockInterval"}, {"result"}),
    "submit_spread_order": (
        "sprd-order", "business", 1, {"sprdId", "side", "ordType", "sz"}, {"px", "clOrdId", "tag"},
        {"clOrdId", "ordId", "tag", "sCode", "sMsg"},
    ),
    "amend_spread_order": (
        "sprd-amend-order", "business", 1, set(), {"ordId", "clOrdId", "reqId", "newSz", "newPx"},
        {"clOrdId", "ordId", "reqId", "sCode", "sMsg"},
    ),
    "cancel_spread_order": (
        "sprd-cancel-order", "business", 1, set(), {"ordId", "clOrdId"}, {"clOrdId", "ordId", "sCode", "sMsg"},
    ),
    "mass_cancel_spread_orders": ("sprd-mass-cancel", "business", 1, set(), {"sprdId"}, {"result"}),
}  # fmt: skip
ENUMS = {
    "tdMode": ["cash", "cross", "isolated", "spot_isolated"],
    "posSide": ["long", "short", "net"],
    "tgtCcy": ["base_ccy", "quote_ccy"],
    "stpMode": ["cancel_maker", "cancel_taker", "cancel_both"],
    "instType": ["OPTION"],
}


def _object(schema: dict[str, Any]) -> Any:
    return CHECKER.resolve(schema)


def test_the_spec_lists_exactly_the_protocol_operations() -> None:
    assert list(SPEC.raw["operations"]) == list(PROTOCOL_TABLE)


@pytest.mark.parametrize("name", list(PROTOCOL_TABLE))
def test_operation_matches_the_protocol_table(name: str) -> None:
    op, connection, max_items, required, optional, reply = PROTOCOL_TABLE[name]
    entry = SPEC.raw["operations"][name]
    params = _object(entry["params"])
    assert (entry["op"], entry["connection"], entry.get("max_items", 1)) == (
        op,
        connection,
        max_items,
    )
    assert set(params.get("required", [])) == required
    assert set(params["properties"]) == required | optional
    assert set(_object(entry["response_item"])["properties"]) == reply


@pytest.mark.parametrize("name", list(PROTOCOL_TABLE))
def test_enums_match_the_protocol(name: str) -> None:
    properties = _object(SPEC.raw["operations"][name]["params"])["properties"]
    for field, values in ENUMS.items():
        if field in properties:
            assert _object(properties[field])["enum"] == values


def test_booleans_are_booleans_and_numbers_are_strings() -> None:
    for entry in SPEC.raw["operations"].values():
        properties = _object(entry["params"])["properties"]
        for field, schema in properties.items():
            resolved = _object(schema)
            if field in {"reduceOnly", "banAmend", "cxlOnFail"}:
                assert resolved["type"] == "boolean", field
            if field in {"sz", "px", "newSz", "newPx", "pxUsd", "pxVol", "newPxUsd", "newPxVol"}:
                assert resolved["type"] == "string" and "pattern" in resolved, field
