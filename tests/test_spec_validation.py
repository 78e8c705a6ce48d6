"""The generator refuses a broken spec, naming every problem by its path, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, generate, spec_copy


def _inline_cancel_params_with_typo(document: dict[str, Any]) -> None:
    document["operations"]["cancel_order"]["params"] = {
        "type": "object",
        "required": ["instID"],
        "properties": {"instId": {"type": "string"}, "ordId": {"type": "string"}},
    }


def _several_problems(document: dict[str, Any]) -> None:
    amend = document["operations"]["amend_order"]
    amend["connection"] = "public"
    del amend["doc"]
    document["operations"]["cancel_spread_order"]["op"] = "cancel-order"
    document["operations"]["submit_multiple_orders"].pop("max_items")
    document["operations"]["mass_cancel_orders"]["params"] = {"$ref": "#/definitions/Nope"}


CASES = {
    "required name is not a property": (
        _inline_cancel_params_with_typo,
        ["operations.cancel_order.params.required[0]: 'instID' is not a property"],
    ),
    "every problem is reported": (
        _several_problems,
        [
            "operations.amend_order.connection: 'public' is not one of ['private', 'business']",
            "operations.amend_order.doc: required property is missing",
        ],
    ),
    "rules run once the shape is right": (
        lambda d: (
            d["operations"]["cancel_spread_order"].__setitem__("op", "cancel-order"),
            d["operations"]["submit_multiple_orders"].pop("max_items"),
            d["operations"]["mass_cancel_orders"].__setitem__(
                "params", {"$ref": "#/definitions/Nope"}
            ),
        ),
        [
            "operations.cancel_spread_order.op: op 'cancel-order' is also used by cancel_order",
            "operations.submit_multiple_orders.max_items: a batch operation needs max_items",
            "operations.mass_cancel_orders.params.$ref: '#/definitions/Nope' is not defined",
        ],
    ),
    "an invalid example that passes is caught": (
        lambda d: d["operations"]["cancel_order"]["examples"]["invalid"].append(
            {"name": "x", "params": {"instId": "A", "ordId": "1"}, "error_field": "ordId"}
        ),
        ["operations.cancel_order.examples.invalid[4].params: expected to be invalid"],
    ),
    "an invalid example failing elsewhere is caught": (
        lambda d: d["operations"]["cancel_order"]["examples"]["invalid"].append(
            {"name": "x", "params": {"ordId": "1"}, "error_field": "ordId"}
        ),
        ["operations.cancel_order.examples.invalid[4].error_field: no error names 'ordId'"],
    ),
    "a valid example that fails is caught": (
        lambda d: d["operations"]["submit_new_order"]["examples"]["valid"][0]["params"].__setitem__(
            "sz", 0.1
        ),
        ["operations.submit_new_order.examples.valid[0].params: sz: expected string"],
    ),
}


@pytest.mark.parametrize(("edit", "expected"), list(CASES.values()), ids=list(CASES))
def test_broken_spec_is_reported_with_paths_and_nothing_is_written(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    out_dir = tmp_path / "out"
    result = generate(spec_copy(tmp_path, {"operations.yaml": edit}), out_dir)

    assert result.returncode == 1
    for line in expected:
        assert line in result.stderr, result.stderr
    assert not out_dir.exists()


def test_the_committed_spec_is_valid(tmp_path: Path) -> None:
    result = generate(ROOT / "spec", tmp_path)
    assert result.returncode == 0, result.stderr
