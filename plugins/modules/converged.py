#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/converged.py.

DOCUMENTATION = r"""
---
module: converged
short_description: Tell whether a role may skip its work because the node is already as the role leaves it
version_added: 0.1.0
description:
  - Compares what winkube.node.preflight's read-only probe read on the node (the C(winkube_node_state) fact that
    M(winkube.node.windows_facts) sets) with the state file the role recorded at the end of its last run,
    C(C:\ProgramData\winkube\state\<role>.json), and with the digest of the role's effective inputs and of the
    role's own files now.
  - Says converged only when everything matches - a state file owned by SYSTEM, the Administrators group or the
    connecting account, of this schema and role, with the same inputs digest, every recorded fact read without an
    error and each live value equal to what was recorded and to what the role expects. Anything else (no file, bad
    JSON, a probe error, a single differing value, other inputs) is not converged, with the reasons.
  - Runs on the controller and never contacts the host. Must run inside the role it speaks for. See
    docs/converged-runs.md for how a role adopts it.
options:
  role:
    description: The role's name without the collection, for example C(host_prep). The task must belong to it.
    type: str
    required: true
  inputs:
    description:
      - Everything the role's result depends on, for example the plan, the role's options and what the role renders
        from them on the controller. Only its digest is kept. Values must have a JSON form (no sets, no objects).
      - Pass a digest (C(hash('sha256'))) instead of a secret.
    type: raw
    required: true
  node_state:
    description: The probe's result. Defaults to the C(winkube_node_state) fact.
    type: raw
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  platform:
    support: full
    platforms: all
seealso:
  - module: winkube.node.node_state
  - module: winkube.node.windows_facts
"""

EXAMPLES = r"""
- name: Check whether the node is still as host_prep left it
  winkube.node.converged:
    role: host_prep
    inputs:
      plan: "{{ winkube_plan }}"
      hyperv: "{{ host_prep_hyperv }}"
  register: __host_prep_converged

- name: Install the Windows features the node needs
  ansible.builtin.import_tasks: features.yml
  when: not __host_prep_converged.converged
"""

RETURN = r"""
converged:
  description: Whether the node is proven to be as the role left it for these inputs.
  returned: always
  type: bool
  sample: false
reasons:
  description: Why it is not converged (empty when it is).
  returned: always
  type: list
  elements: str
  sample: ["firewall rule winkube-kubelet: count is 0, was 1 when recorded"]
inputs_sha256:
  description: The digest of the inputs and the role's code, for M(winkube.node.node_state).
  returned: always
  type: str
  sample: 3f0c5e1d2b4a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
state_path:
  description: The role's state file on the node.
  returned: always
  type: str
  sample: C:\ProgramData\winkube\state\host_prep.json
check_mode:
  description: Whether the task runs in check mode (then the role must not record its state).
  returned: always
  type: bool
  sample: false
"""
