# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The e2e filters: stat results in, decisions out; knowledge errors become AnsibleFilterError."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winkube.node.plugins.filter import e2e as filters

PLAN = {"head": "a" * 40, "dirty": False, "platform": "linux/amd64", "targets": ["test/e2e/e2e.test"]}
BUILT = {"e2e.test": {"exists": True, "checksum": "ab" * 32}}


def test_filters_are_registered() -> None:
    assert set(filters.FilterModule().filters()) == {
        "e2e_input_check",
        "e2e_credentials_toml",
        "e2e_run_plan",
        "e2e_build_decision",
        "e2e_build_stamp",
    }


def test_a_missing_binary_means_build() -> None:
    decision = filters.e2e_build_decision({"e2e.test": {"exists": False}}, None, PLAN)
    assert decision == {"up_to_date": False, "reason": "no built e2e.test yet"}


def test_the_stamp_of_a_build_makes_the_next_run_skip_it() -> None:
    stamp = filters.e2e_build_stamp(BUILT, PLAN)
    assert stamp == {
        "head": "a" * 40,
        "platform": "linux/amd64",
        "targets": ["test/e2e/e2e.test"],
        "sha256": {"e2e.test": "ab" * 32},
    }
    assert filters.e2e_build_decision(BUILT, stamp, PLAN)["up_to_date"] is True


def test_no_stamp_for_a_binary_that_is_not_there() -> None:
    with pytest.raises(
        AnsibleFilterError, match=r"winkube\.node\.e2e_build_stamp: cannot stamp a build without e2e\.test"
    ):
        filters.e2e_build_stamp({"e2e.test": {"exists": False}}, PLAN)


def test_input_check_gives_one_message() -> None:
    check = filters.e2e_input_check({}, {})
    assert check["ok"] is False
    assert check["message"].startswith(f"winkube.node.e2e cannot run, {len(check['problems'])} inputs to fix:\n")
    assert "- e2e_kubernetes_src: is not set" in check["message"]


def test_credentials_toml_errors_name_the_filter() -> None:
    with pytest.raises(
        AnsibleFilterError, match=r"winkube\.node\.e2e_credentials_toml: the Azure credentials are incomplete"
    ):
        filters.e2e_credentials_toml({})
