#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/windows_facts.py.

DOCUMENTATION = r"""
---
module: windows_facts
short_description: Read the Windows Server build of a node and classify it
version_added: 0.1.0
description:
  - Reads, in one round trip, the Windows version values of the host (C(CurrentBuildNumber), C(UBR),
    C(DisplayVersion), C(EditionID), C(InstallationType), C(ProductName)) and whether a reboot is pending,
    through a read-only probe run by M(ansible.windows.win_powershell).
  - Classifies the build on the controller with the collection's knowledge base (release, container image tag,
    channel, lifecycle, whether the Kubernetes version supports it) and returns the result as the
    C(windows_node) fact.
  - In the same round trip, reads the roles' state files in C(C:\ProgramData\winkube\state) and the live value of
    every fact they record, returned as the C(winkube_node_state) fact that M(winkube.node.converged) compares
    (docs/converged-runs.md). A problem with the state files never fails this module; it is reported in
    C(winkube_node_state.error) and makes every role run.
  - Changes nothing on the host. Fails when the host reports a build the knowledge base does not know, naming the
    build and the known ones, instead of guessing.
options:
  kubernetes_version:
    description:
      - The Kubernetes version the C(supported) and C(kubernetes_supported) results are computed for, as C(X.Y) or
        C(X.Y.Z) with an optional leading C(v).
      - Defaults to the newest Kubernetes minor the knowledge base knows.
    type: str
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  facts:
    support: full
  platform:
    support: full
    platforms: windows
notes:
  - Runs on the controller as an action plugin; the Windows side only runs M(ansible.windows.win_powershell).
seealso:
  - module: ansible.windows.setup
"""

EXAMPLES = r"""
- name: Read and classify the Windows build
  winkube.node.windows_facts:
    kubernetes_version: "1.36"

- name: Stop when the build is not supported
  ansible.builtin.assert:
    that: windows_node.supported
    fail_msg: >-
      {{ windows_node.name }} ({{ windows_node.os_version }}) is not supported
      by Kubernetes {{ windows_node.kubernetes_version }}
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: success
  type: dict
  contains:
    winkube_node_state:
      description: What the probe read of the roles' state files, for M(winkube.node.converged).
      returned: success
      type: dict
      contains:
        current_user:
          description: The SID of the account the probe ran as.
          type: str
          returned: success
          sample: S-1-5-21-3623811015-3361044348-30300820-500
        error:
          description: Why the state folder could not be read (then no role is converged), or null.
          type: str
          returned: success
        roles:
          description:
            - Per state file, by role name - C(owner) (the file owner's SID), C(text) (its content), C(live) (the
              live value of each fact it records, in its order) and C(error) (why it could not be read, or null).
          type: dict
          returned: success
          sample: {"host_prep": {"owner": "S-1-5-32-544", "text": "{...}", "live": [], "error": null}}
    windows_node:
      description: The classified Windows version of the node.
      returned: success
      type: dict
      contains:
        build:
          description: The build number.
          type: int
          returned: success
          sample: 20348
        display_version:
          description: C(DisplayVersion) (or C(ReleaseId) on older builds) as the host reports it.
          type: str
          returned: success
          sample: 21H2
        edition:
          description: C(EditionID) of the host.
          type: str
          returned: success
          sample: ServerDatacenter
        channel:
          description: Servicing channel, C(ltsc), C(sac) or C(annual).
          type: str
          returned: success
          sample: ltsc
        id:
          description: The knowledge base's id of the release.
          type: str
          returned: success
          sample: ws2022
        image_tags:
          description: Container base image tags per C(mcr.microsoft.com/windows/*) repository for this build.
          type: dict
          returned: success
          sample: {"servercore": ["ltsc2022"], "nanoserver": ["ltsc2022"]}
        installation_type:
          description: C(InstallationType), C(Server) or C(Server Core).
          type: str
          returned: success
          sample: Server Core
        kubernetes_supported:
          description: Whether the Kubernetes version supports this release as a node OS.
          type: bool
          returned: success
          sample: true
        kubernetes_version:
          description: The Kubernetes minor the support result is for.
          type: str
          returned: success
          sample: "1.36"
        name:
          description: The product name from the knowledge base.
          type: str
          returned: success
          sample: Windows Server 2022
        os_version:
          description: C(10.0.<build>.<revision>), the form container images declare in C(os.version).
          type: str
          returned: success
          sample: 10.0.20348.2527
        product_name:
          description: C(ProductName) as the host reports it.
          type: str
          returned: success
          sample: Windows Server 2022 Datacenter
        reboot_pending:
          description: Whether Windows has a reboot outstanding (servicing, Windows Update or pending file renames).
          type: bool
          returned: success
          sample: false
        revision:
          description: The update build revision (C(UBR)).
          type: int
          returned: success
          sample: 2527
        server_core:
          description: Whether the host is a Server Core installation.
          type: bool
          returned: success
          sample: true
        supported:
          description: Same as C(kubernetes_supported).
          type: bool
          returned: success
          sample: true
        version_tag:
          description: The base image tag this host runs natively with process isolation.
          type: str
          returned: success
          sample: ltsc2022
        windows_build_label:
          description: The value kubelet gives the C(node.kubernetes.io/windows-build) label.
          type: str
          returned: success
          sample: 10.0.20348
"""
