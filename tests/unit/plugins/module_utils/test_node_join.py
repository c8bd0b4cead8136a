# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any, Dict, List

import pytest
from ansible_collections.winkube.node.plugins.module_utils import node_join as nj

TOKEN = "abcdef.0123456789abcdef"
SECRET = "0123456789abcdef"
HASH = "sha256:" + "0123456789abcdef" * 4
HASH_HEX = HASH.partition(":")[2]
OTHER_HASH = "sha256:" + "c7154756e6dfc460f76beca9998c9ae3ce49003b129c6a75752c35571748d91e"
COMMAND = f"kubeadm join 10.20.30.10:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} \n"
TRACE = "To see the stack trace of this error execute with --v=5 or higher\n"
ID_PREFIX = "error execution phase preflight: couldn't validate the identity of the API Server: "


def assert_clean(text: str) -> None:
    assert TOKEN not in text and SECRET not in text and HASH_HEX not in text


# ---------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"--token {TOKEN} x", "--token abcdef.<redacted> x"),
        (f"--token={TOKEN}", "--token=abcdef.<redacted>"),
        (f"pin {HASH}", "pin sha256:<redacted>"),
        ("token: abc", "token: <redacted>"),
        ("Authorization: Bearer eyJhbGciOi", "Authorization: Bearer <redacted>"),
        ("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "<PEM block <redacted>>"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_mask_secrets_patterns(text: str, expected: str) -> None:
    assert nj.mask_secrets(text) == expected


def test_mask_secrets_literal_values_first_even_when_malformed() -> None:
    # A malformed token kubeadm echoes back does not match the token pattern; the literal value is masked.
    assert nj.mask_secrets("token: ABCDEF.xyz-not-a-token!", ["ABCDEF.xyz-not-a-token!"]) == "token: <redacted>"
    assert nj.mask_secrets(f"secret half {SECRET} alone", [TOKEN]) == "secret half <redacted> alone"


def test_token_secrets_lists_token_secret_and_hashes() -> None:
    assert nj.token_secrets([TOKEN, HASH]) == [TOKEN, SECRET, HASH, HASH_HEX]
    assert nj.token_secrets(["", "plain"]) == ["plain"]


# ---------------------------------------------------------------- inputs


def test_join_command_is_parsed() -> None:
    target = nj.resolve_join_inputs(COMMAND)
    assert (target.api_server_endpoint, target.token, target.ca_cert_hashes) == ("10.20.30.10:6443", TOKEN, (HASH,))
    assert target.token_id == "abcdef"
    assert TOKEN not in repr(target) and HASH not in repr(target)


def test_parts_are_parsed_with_one_or_more_hashes() -> None:
    target = nj.resolve_join_inputs(None, "cp.example:6443", TOKEN, [HASH, OTHER_HASH])
    assert target.ca_cert_hashes == (HASH, OTHER_HASH)
    assert nj.resolve_join_inputs("", "cp.example:6443", TOKEN, HASH).ca_cert_hashes == (HASH,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, None, None, None), "no join input: set join_command"),
        ((COMMAND, "cp:6443", None, None), "give either join_command or"),
        ((None, "cp:6443", TOKEN, None), "join_ca_cert_hash missing"),
        ((None, None, TOKEN, HASH), "join_api_endpoint missing"),
        ((None, "https://cp:6443", TOKEN, HASH), "without a scheme"),
        ((None, "cp:6443", "abcdef.short", HASH), "the secret has 5 characters"),
        ((None, "cp:6443", TOKEN, "sha256:abc"), "is not 'sha256:' followed by 64 hex digits"),
        ((None, "cp:6443", f"{TOKEN} --x", HASH), "join_token must be one word"),
        ((None, "cp:6443", TOKEN, [HASH, 3]), "join_ca_cert_hash must be a string or a list"),
        ((COMMAND.replace(" \n", " --control-plane"), None, None, None), "can only join as workers"),
        (("kubeadm init", None, None, None), "no line starting with 'kubeadm join'"),
    ],
)
def test_bad_inputs_name_the_problem_without_secrets(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        nj.resolve_join_inputs(*args)
    assert_clean(str(info.value))
    assert "short" not in str(info.value)  # not even a malformed token is echoed


def test_join_inputs_returns_the_error_instead_of_raising() -> None:
    good = nj.join_inputs(COMMAND)
    assert good == {
        "error": None,
        "api_server_endpoint": "10.20.30.10:6443",
        "token": TOKEN,
        "token_id": "abcdef",
        "ca_cert_hashes": [HASH],
    }
    bad = nj.join_inputs(None, "cp:6443", TOKEN, None)
    assert bad["error"] == "join_ca_cert_hash missing: join_api_endpoint, join_token and join_ca_cert_hash go together"
    assert bad["token"] is None


# ---------------------------------------------------------------- skew


@pytest.mark.parametrize(
    ("git_version", "expected"),
    [
        ("v1.33.3", (1, 33, 3)),
        ("1.36.4", (1, 36, 4)),
        ("v1.30.2-eks-1552ad0", (1, 30, 2)),
        ("v1.31.4+k3s1", (1, 31, 4)),
    ],
)
def test_server_version(git_version: str, expected: tuple) -> None:
    assert nj.server_version(git_version).key() == expected


@pytest.mark.parametrize("bad", ["v1.33", "latest", "", None, 1.33, "v01.2.3"])
def test_server_version_refuses(bad: Any) -> None:
    with pytest.raises(ValueError):
        nj.server_version(bad)


def test_join_skew_same_minor_ok() -> None:
    result = nj.join_skew("v1.33.3", "1.33.1")
    assert result["ok"] is True
    assert set(result["components"]) == {"kubelet", "kube-proxy", "kubeadm"}
    assert result["apiserver_version"] == "1.33.3"


def test_join_skew_node_newer_than_apiserver_fails_for_kubelet_not_kubeadm() -> None:
    result = nj.join_skew("v1.35.2", "1.36.4")
    assert result["ok"] is False
    assert result["components"]["kubelet"]["ok"] is False
    assert result["components"]["kube-proxy"]["ok"] is False
    assert result["components"]["kubeadm"]["ok"] is True  # kubeadm may be one minor newer
    assert "cannot join kube-apiserver 1.35.2" in result["message"]
    assert "winkube_kubernetes_version" in result["message"]


def test_join_skew_old_node_fails_for_kubeadm() -> None:
    # kubelet 1.34 against 1.36 is fine (n-2), but kubeadm must not be older than the control plane.
    result = nj.join_skew("v1.36.4", "1.34.1")
    assert result["components"]["kubelet"]["ok"] is True
    assert result["components"]["kubeadm"]["ok"] is False
    assert result["ok"] is False


# ---------------------------------------------------------------- kubeadm join failures


def failed(stderr: str, stdout: str = "[preflight] Running pre-flight checks\n", rc: int = 1) -> Dict[str, Any]:
    return {"rc": rc, "stdout": stdout, "stderr": stderr, "failed": False}


def test_expired_token_message_says_what_and_how_to_fix() -> None:
    msg = nj.kubeadm_join_failure(
        failed(
            ID_PREFIX + 'could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"\n' + TRACE
        ),
        [TOKEN, HASH],
        "win2022",
    )
    assert msg.splitlines()[0] == "kubeadm join on node win2022 failed (rc 1) in phase preflight."
    assert 'for token ID "abcdef"' in msg  # the public id helps to find the token
    assert "expired" in msg and "kubeadm token create --print-join-command" in msg
    assert "join_control_plane_host" in msg
    assert "stack trace" not in msg
    assert_clean(msg)


def test_wrong_ca_hash_masks_the_hash_kubeadm_prints() -> None:
    text = (
        ID_PREFIX
        + f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "{OTHER_HASH}" are pinned\n'
    )
    msg = nj.kubeadm_join_failure(failed(text), [TOKEN, HASH])
    assert "does not match join_ca_cert_hash" in msg
    assert OTHER_HASH not in msg and "sha256:<redacted>" in msg


def test_malformed_token_echoed_by_kubeadm_is_masked() -> None:
    bad = "abcdef.0123"
    text = (
        ID_PREFIX
        + f'could not construct token string for token: {bad}: the bootstrap token "{bad}" was not of the form\n'
    )
    msg = nj.kubeadm_join_failure(failed(text), [bad])
    assert bad not in msg and "is not of the form" in msg


def test_preflight_errors_are_listed_with_fixes() -> None:
    stderr = (
        "error execution phase preflight: [preflight] Some fatal errors occurred:\n"
        "\t[ERROR FileAvailable-\\etc\\kubernetes\\kubelet.conf]: \\etc\\kubernetes\\kubelet.conf already exists\n"
        '\t[ERROR CRI]: container runtime is not running: validate CRI v1 runtime API for endpoint "npipe:x"\n'
        "[preflight] If you know what you are doing, you can make a check non-fatal with "
        "`--ignore-preflight-errors=...`\n" + TRACE
    )
    msg = nj.kubeadm_join_failure(failed(stderr))
    lines = msg.splitlines()
    assert lines[1] == "kubeadm's preflight refused:"
    assert "reset it (playbooks/reset.yml" in lines[2]
    assert "the container runtime is not running" in lines[3]


def test_unknown_failure_shows_the_last_lines_masked() -> None:
    msg = nj.kubeadm_join_failure(failed(f"something odd with {TOKEN}\n", rc=3))
    assert msg.splitlines() == [
        "kubeadm join failed (rc 3).",
        "kubeadm's last output lines:",
        "  something odd with abcdef.<redacted>",
    ]


def test_process_that_did_not_start() -> None:
    msg = nj.kubeadm_join_failure({"failed": True, "msg": r"Failed to run: 'C:\k\kubeadm.exe join x --token " + TOKEN})
    assert msg.startswith("kubeadm join could not run:") and TOKEN not in msg


def test_failure_needs_a_result_mapping() -> None:
    with pytest.raises(ValueError, match="registered result"):
        nj.kubeadm_join_failure("rc 1")


# ---------------------------------------------------------------- labels and taints


def node(labels: Dict[str, str] | None = None, taints: List[Dict[str, str]] | None = None) -> Dict[str, Any]:
    return {"metadata": {"name": "win1", "labels": labels or {}}, "spec": {"taints": taints} if taints else {}}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["os=windows:NoSchedule"], [{"key": "os", "value": "windows", "effect": "NoSchedule"}]),
        (["dedicated:NoExecute"], [{"key": "dedicated", "effect": "NoExecute"}]),
        (
            [{"key": "example.com/gpu", "effect": "PreferNoSchedule"}],
            [{"key": "example.com/gpu", "effect": "PreferNoSchedule"}],
        ),
        (None, []),
    ],
)
def test_node_taints(given: Any, expected: list) -> None:
    assert nj.node_taints(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("os=windows:NoSchedule", "must be a list"),
        (["os=windows"], "has no effect"),
        (["os=windows:Never"], "effect 'Never' is not one of"),
        ([{"key": "os", "effect": "NoSchedule", "operator": "Equal"}], "unknown keys operator"),
        (["a:NoSchedule", "a=b:NoSchedule"], "is given twice"),
        (["Bad Key:NoSchedule"], "the name part"),
        (["os=bad value:NoSchedule"], "value must be a label value"),
    ],
)
def test_bad_taints(given: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nj.node_taints(given)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (["a"], "must be a mapping"),
        ({"UPPER.example/x": "v"}, "prefix that is not"),
        ({"x": True}, "quote numbers and booleans"),
        ({"x": "-bad"}, "is not a label value"),
        ({"": "v"}, "non-empty string"),
    ],
)
def test_bad_labels(given: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nj.node_labels(given)


def test_labels_accept_numbers_as_text() -> None:
    assert nj.node_labels({"example.com/rack": 7, "tier": "win"}) == {"example.com/rack": "7", "tier": "win"}


def test_patch_adds_labels_and_taints_keeping_others() -> None:
    existing = [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    result = nj.node_metadata_patch(
        node({"kubernetes.io/os": "windows"}, existing), {"tier": "win"}, ["os=windows:NoSchedule"]
    )
    assert result["changed"] is True
    assert result["patch"] == {
        "metadata": {"labels": {"tier": "win"}},
        "spec": {"taints": [*existing, {"key": "os", "value": "windows", "effect": "NoSchedule"}]},
    }
    assert result["labels"] == ["tier"] and result["taints"] == ["os=windows:NoSchedule"]


def test_patch_replaces_a_taint_of_the_same_key_and_effect() -> None:
    result = nj.node_metadata_patch(
        node(taints=[{"key": "os", "value": "linux", "effect": "NoSchedule"}]), None, ["os=windows:NoSchedule"]
    )
    assert result["patch"] == {"spec": {"taints": [{"key": "os", "value": "windows", "effect": "NoSchedule"}]}}


def test_patch_is_empty_when_converged_in_any_order() -> None:
    taints = [{"key": "b", "effect": "NoExecute"}, {"key": "os", "value": "windows", "effect": "NoSchedule"}]
    result = nj.node_metadata_patch(
        node({"tier": "win"}, taints), {"tier": "win"}, ["os=windows:NoSchedule", "b:NoExecute"]
    )
    assert result == {"changed": False, "patch": {}, "labels": [], "taints": []}


def test_patch_needs_a_node_object() -> None:
    with pytest.raises(ValueError, match="Node object"):
        nj.node_metadata_patch(None, {}, [])


# ---------------------------------------------------------------- readiness


def status_node(status: str, reason: str = "KubeletNotReady", message: str = "") -> Dict[str, Any]:
    return {
        "metadata": {"name": "win1"},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": status, "reason": reason, "message": message},
            ]
        },
    }


def test_ready_condition_and_is_ready() -> None:
    assert nj.node_is_ready(status_node("True", "KubeletReady"))
    assert not nj.node_is_ready(status_node("False"))
    assert not nj.node_is_ready(status_node("Unknown", "NodeStatusUnknown"))
    assert not nj.node_is_ready({"metadata": {}, "status": {}})
    assert nj.ready_condition(None) is None


def test_log_tail_keeps_last_lines_masks_and_drops_blanks() -> None:
    log = "\ufeff" + "\n".join(f"line {i}" for i in range(30)) + f"\n\nkubeconfig token: {TOKEN}\r\n"
    tail = nj.log_tail(log, 3)
    assert tail == ["line 28", "line 29", "kubeconfig token: <redacted>"]
    assert nj.log_tail(None) == []
    with pytest.raises(ValueError, match="positive integer"):
        nj.log_tail("x", 0)


def test_not_ready_message_has_condition_and_log_tail() -> None:
    log = "\n".join(f"I1201 log line {i}" for i in range(40)) + '\nE1201 run.go:72] "command failed" err="boom"\n'
    msg = nj.node_not_ready_message(
        "win1",
        status_node("Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
        log_text=log,
        log_path=r"C:\var\log\kubelet\kubelet.log",
        timeout=120,
    )
    lines = msg.splitlines()
    assert lines[0] == "Node win1 did not become Ready within 120 s."
    assert (
        lines[1]
        == "Ready condition: status=Unknown, reason=NodeStatusUnknown, message=Kubelet stopped posting node status."
    )
    assert lines[2] == r"Last 20 lines of the kubelet log (C:\var\log\kubelet\kubelet.log):"
    assert len(lines) == 23 and lines[-1] == '  E1201 run.go:72] "command failed" err="boom"'


@pytest.mark.parametrize(
    ("node_obj", "log", "expected"),
    [
        (None, None, ["the kubelet never registered it", "could not be read"]),
        ({"metadata": {"name": "win1"}, "status": {}}, "", ["no Ready condition yet", "is empty"]),
    ],
)
def test_not_ready_message_without_node_or_log(node_obj: Any, log: Any, expected: List[str]) -> None:
    msg = nj.node_not_ready_message("win1", node_obj, log_text=log)
    for part in expected:
        assert part in msg
