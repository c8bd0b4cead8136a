# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winkube.node.plugins.module_utils.join import parse_join_command

TOKEN = "abcdef.0123456789abcdef"
HASH1 = "sha256:" + "0123456789abcdef" * 4
HASH2 = "sha256:" + "fedcba9876543210" * 4
CERT_KEY = "f" * 64


def cmd(*parts: str) -> str:
    return " ".join(("kubeadm", "join", *parts))


def test_print_join_command_output() -> None:
    parsed = parse_join_command(
        f"kubeadm join 192.0.2.10:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH1} \n"
    )
    assert parsed.api_server_endpoint == "192.0.2.10:6443"
    assert parsed.token == TOKEN
    assert parsed.ca_cert_hashes == (HASH1,)
    assert parsed.control_plane is False


def test_token_is_not_in_repr() -> None:
    assert TOKEN not in repr(
        parse_join_command(cmd("cp.example.com:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1))
    )


def test_control_plane_with_certificate_key_and_multiple_hashes() -> None:
    parsed = parse_join_command(
        cmd(
            "[fd00::10]:6443",
            f"--token={TOKEN}",
            "--discovery-token-ca-cert-hash",
            HASH1,
            f"--discovery-token-ca-cert-hash={HASH2.upper().replace('SHA256', 'sha256')}",
            "--control-plane",
            "--certificate-key",
            CERT_KEY,
        )
    )
    assert parsed.api_server_endpoint == "[fd00::10]:6443"
    assert parsed.ca_cert_hashes == (HASH1, HASH2)  # normalised to lowercase
    assert parsed.control_plane is True


def test_kubeadm_init_style_continuations_and_surrounding_lines() -> None:
    text = (
        "Then you can join any number of worker nodes by running the following on each as root:\n\n"
        f"kubeadm join cp.example.com:6443 --token {TOKEN} \\\n"
        f"\t--discovery-token-ca-cert-hash {HASH1} \n"
    )
    parsed = parse_join_command(text)
    assert parsed.api_server_endpoint == "cp.example.com:6443"
    assert parsed.ca_cert_hashes == (HASH1,)


BAD_TOKENS = [
    "abcdef0123456789abcdef",  # no dot
    "ABCDEF.0123456789abcdef",  # upper case id
    "abcde.0123456789abcdef",  # id too short
    "abcdef.0123456789abcdeX",  # bad secret char
    "abcdef.0123456789abcde",  # secret too short
    "abcdef.0123456789abcdef0",  # secret too long
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_bad_token_is_named_but_never_echoed(token: str) -> None:
    with pytest.raises(ValueError, match=r"the --token value is not a bootstrap token") as info:
        parse_join_command(cmd("192.0.2.10:6443", "--token", token, "--discovery-token-ca-cert-hash", HASH1))
    message = str(info.value)
    secret = token.partition(".")[2]
    assert token not in message
    assert secret == "" or secret not in message
    assert token.partition(".")[0] not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "join command is empty"),
        ("kubeadm init", "no line starting with 'kubeadm join'"),
        (cmd("192.0.2.10:6443", "--discovery-token-ca-cert-hash", HASH1), "the --token option is missing"),
        (cmd("192.0.2.10:6443", "--token", TOKEN), "no --discovery-token-ca-cert-hash given"),
        (
            cmd("192.0.2.10:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", "sha256:abc"),
            "#1 is not 'sha256:'",
        ),
        (
            cmd(
                "192.0.2.10:6443",
                "--token",
                TOKEN,
                "--discovery-token-ca-cert-hash",
                HASH1,
                "--discovery-token-ca-cert-hash",
                "md5:" + "0" * 64,
            ),
            "#2 is not 'sha256:'",
        ),
        (cmd("--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "API server endpoint (host:port after"),
        (cmd("192.0.2.10", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "must be host:port"),
        (cmd("192.0.2.10:0", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "must be host:port"),
        (cmd("192.0.2.10:70000", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "must be host:port"),
        (cmd("300.1.1.1:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "endpoint host is not"),
        (cmd("fd00::1:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "endpoint host is not"),
        (cmd("bad_host:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "endpoint host is not"),
        (cmd("a:6443", "b:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "found 2"),
        (cmd("a:6443", "--token"), "option --token has no value"),
        (cmd("a:6443", "--token", TOKEN, "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1), "more than once"),
        (
            cmd("a:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1, "--cri-socket", "x"),
            "unsupported option --cri-socket",
        ),
        (
            cmd("a:6443", "--token", TOKEN, "--discovery-token-unsafe-skip-ca-verification"),
            "--discovery-token-unsafe-skip-ca-verification is not accepted",
        ),
        (
            cmd("a:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1, "--certificate-key", CERT_KEY),
            "only valid together",
        ),
        (
            cmd(
                "a:6443",
                "--token",
                TOKEN,
                "--discovery-token-ca-cert-hash",
                HASH1,
                "--control-plane",
                "--certificate-key",
                "xyz",
            ),
            "--certificate-key is not 64 hex digits",
        ),
        (
            cmd("a:6443", "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1) + "\n" + cmd("b:6443"),
            "found 2 'kubeadm join' lines",
        ),
    ],
)
def test_malformed_commands(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_join_command(text)
    message = str(info.value)
    assert fragment in message
    assert TOKEN not in message
    assert TOKEN.partition(".")[2] not in message
    assert CERT_KEY not in message


@pytest.mark.parametrize("value", [None, 42, ["kubeadm", "join"]])
def test_non_string_input(value: object) -> None:
    with pytest.raises(ValueError, match="join command is empty"):
        parse_join_command(value)


def test_misplaced_token_values_are_not_echoed() -> None:
    # A token given as a positional or behind an unknown option must not leak through those errors either.
    for text in (
        cmd(TOKEN, "a:6443", "--discovery-token-ca-cert-hash", HASH1),
        cmd("a:6443", f"--tokn={TOKEN}", "--discovery-token-ca-cert-hash", HASH1),
        cmd("a:6443", f"--{TOKEN}", "--discovery-token-ca-cert-hash", HASH1),
        cmd(TOKEN, "--token", TOKEN, "--discovery-token-ca-cert-hash", HASH1),
    ):
        with pytest.raises(ValueError) as info:
            parse_join_command(text)
        assert TOKEN not in str(info.value)
        assert TOKEN.partition(".")[2] not in str(info.value)
