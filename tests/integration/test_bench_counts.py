"""What the benchmark counts as the things a run changed on a node (demo/common.py)."""

from __future__ import annotations

from demo.common import changed_on_nodes

OUTPUT = """\
TASK [winkube.node.host_prep : Install the Containers feature] *****************
changed: [win2022]
ok: [win2019]

TASK [winkube.node.host_prep : Exclude the runtime's and the kubelet's data directories from Defender scans] ***
changed: [win2022] => (item=C:\\ProgramData\\containerd\\root)
ok: [win2022] => (item=C:\\ProgramData\\containerd\\state)
changed: [win2022] => (item=C:\\var\\lib\\kubelet)
changed: [win2019] => (item=C:\\var\\lib\\kubelet)

TASK [winkube.node.kubernetes : Download each distinct file once on the controller] ***
changed: [win2022 -> localhost] => (item=kubelet.exe c414fdd2b813)

TASK [winkube.node.join : Report the join a real run would do] *****************
changed: [win2019] => {
    "msg": "win2019 would join the cluster with kubeadm"
}

PLAY RECAP *********************************************************************
win2019                    : ok=3    changed=3    unreachable=0    failed=0
win2022                    : ok=3    changed=2    unreachable=0    failed=0
"""


def test_every_changed_task_and_loop_item_on_the_node_counts_and_the_controller_does_not() -> None:
    assert changed_on_nodes(OUTPUT) == {"win2022": 3, "win2019": 2}


def test_a_run_without_changes_counts_nothing() -> None:
    assert changed_on_nodes("ok: [win2022]\nskipping: [win2019]\nchanged=0\n") == {}
