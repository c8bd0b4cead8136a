r"""``kubeadm.exe upgrade node`` on a worker: what the Windows node upgrade procedure runs after the
drain (kubernetes/website ``content/en/docs/tasks/administer-cluster/kubeadm/upgrading-windows-nodes.md``,
"Upgrade the kubelet configuration").

On a worker the command reads the cluster's configuration with the node's own credentials
(``C:\etc\kubernetes\kubelet.conf``), skips every control-plane phase, backs the kubelet
configuration up under ``C:\etc\kubernetes\tmp``, writes the cluster's ``kubelet-config`` to
``C:\var\lib\kubelet\config.yaml``, and from 1.35 also backs up and rewrites ``kubeadm-flags.env``
(1.35 stops writing ``--pod-infra-container-image``, kubernetes PR #133778). It neither stops nor
restarts kubelet: that is the next step of the procedure.

Texts: a worker's ``kubeadm upgrade node`` transcript of kubeadm 1.34 and 1.35 (the public
killercoda-style capture in the anchors' search; Linux paths there, Windows paths printed as
kubeadm.py prints them, GT §5.2). Before 1.31 kubeadm printed the older ``[upgrade] Reading
configuration from the cluster...`` form, which is not emulated here. The ``[patches]`` line of the
capture comes from a patches directory and is not printed. Whatever has no known real text (no
``kubelet.conf``, a kubeadm newer than the control plane, flags) fails loudly as not emulated.
"""

from __future__ import annotations

import datetime
import re

from tests.simulator.contract import ExecResult
from tests.simulator.executables.common import Invocation, go_quote, klog_line, not_emulated, ok, utcnow
from tests.simulator.executables.stamp import version_tuple

ETC = r"C:\etc\kubernetes"
KUBELET_DIR = r"C:\var\lib\kubelet"
KUBELET_CONF = ETC + r"\kubelet.conf"
CONFIG_YAML = KUBELET_DIR + r"\config.yaml"
FLAGS_ENV = KUBELET_DIR + r"\kubeadm-flags.env"
_FLAGS_LINE = re.compile(r'^KUBELET_KUBEADM_ARGS="(?P<args>[^"]*)"\s*$')
_SKIPPED = [
    "[upgrade/preflight] Skipping prepull. Not a control plane node.",
    "[upgrade/control-plane] Skipping phase. Not a control plane node.",
    "[upgrade/kubeconfig] Skipping phase. Not a control plane node.",
]


def _win(path: str) -> str:
    r"""kubeadm prints its Linux-style constants on Windows without the drive: ``\var\lib\kubelet``."""
    return path[2:]


def _temp_dir(kind: str, now: datetime.datetime) -> str:
    # postupgrade.go names the backup folder after the time (1.35 capture:
    # kubeadm-kubelet-config-2026-06-08-15-04-52).
    return ETC + rf"\tmp\kubeadm-{kind}-{now:%Y-%m-%d-%H-%M-%S}"


def _rewritten_flags(text: str, minor: int) -> str | None:
    """kubeadm-flags.env as the 1.35+ upgrade rewrites it; None when the file is not kubeadm's."""
    lines = [line for line in text.splitlines() if line.strip()]
    match = _FLAGS_LINE.match(lines[0]) if len(lines) == 1 else None
    if match is None:
        return None
    args = [a for a in match.group("args").split() if a]
    if minor >= 35:
        args = [a for a in args if not a.startswith("--pod-infra-container-image=")]
    return f"KUBELET_KUBEADM_ARGS={go_quote(' '.join(sorted(args)))}\n"


def run_upgrade(inv: Invocation, args: list[str]) -> ExecResult:
    host, kubeadm = inv.host, inv.stamp
    assert kubeadm is not None
    if args != ["node"]:
        return not_emulated(inv)
    cluster = host.cluster
    if kubeadm.minor < 31 or cluster is None or not cluster.reachable or not host.exists(KUBELET_CONF):
        what = f"kubeadm {kubeadm.version} upgrade node (without a reachable cluster or kubelet.conf)"
        return not_emulated(inv, what)
    if version_tuple(cluster.version)[:2] < (kubeadm.major, kubeadm.minor):
        return not_emulated(inv, f"kubeadm {kubeadm.version} upgrade node against control plane {cluster.git_version}")
    now = utcnow()
    out = [
        '[upgrade] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...',
        "[upgrade] Use 'kubeadm init phase upload-config kubeadm --config your-config-file' to re-upload it.",
        "[upgrade/preflight] Running pre-flight checks",
        *_SKIPPED,
    ]
    err = []
    config_tmp = _temp_dir("kubelet-config", now)
    err.append(
        klog_line(
            "W",
            "postupgrade.go:105",
            f"Using temporary directory {_win(config_tmp)} for kubelet config. "
            "To override it set the environment variable KUBEADM_UPGRADE_DRYRUN_DIR",
            now=now,
        )
    )
    old_config = host.read_file(CONFIG_YAML) if host.exists(CONFIG_YAML) else None
    if old_config is not None:
        host.write_file(config_tmp + r"\config.yaml", old_config)
        out.append(f"[upgrade] Backing up kubelet config file to {_win(config_tmp)}\\config.yaml")
    host.write_file(CONFIG_YAML, cluster.kubelet_config_yaml().encode())
    out += [
        f"[kubelet-start] Writing kubelet configuration to file {go_quote(_win(CONFIG_YAML))}",
        "[upgrade/kubelet-config] The kubelet configuration for this node was successfully upgraded!",
        "[upgrade/addon] Skipping the addon/coredns phase. Not a control plane node.",
        "[upgrade/addon] Skipping the addon/kube-proxy phase. Not a control plane node.",
    ]
    if kubeadm.minor >= 35 and host.exists(FLAGS_ENV):
        old_flags = host.read_file(FLAGS_ENV)
        new_flags = _rewritten_flags(old_flags.decode("utf-8", "replace"), kubeadm.minor)
        if new_flags is None:
            return not_emulated(inv, f"kubeadm upgrade node with a {FLAGS_ENV} kubeadm did not write")
        env_tmp = _temp_dir("kubelet-env", now)
        err.append(
            klog_line(
                "W",
                "postupgrade.go:203",
                f"Using temporary directory {_win(env_tmp)} for kubelet env file. "
                "To override it set the environment variable KUBEADM_UPGRADE_DRYRUN_DIR",
                now=now,
            )
        )
        host.write_file(env_tmp + r"\kubeadm-flags.env", old_flags)
        host.write_file(FLAGS_ENV, new_flags.encode())
        out += [
            f"[upgrade] Backing up kubelet env file to {_win(env_tmp)}\\kubeadm-flags.env",
            f"[kubelet-start] Writing kubelet environment file with flags to file {go_quote(_win(FLAGS_ENV))}",
        ]
    host.extra.setdefault("kubeadm", {})["upgraded_node"] = kubeadm.version
    return ok("\n".join(out) + "\n", "".join(err))
