#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/node_state.py.

DOCUMENTATION = r"""
---
module: node_state
short_description: Record what a role produced on the node in its state file
version_added: 0.1.0
description:
  - The last step of a role that records its converged state (docs/converged-runs.md). In one round trip the
    read-only probe of M(winkube.node.windows_facts), run by M(ansible.windows.win_powershell), reads the live value
    of every fact in O(facts) and the state file already there; when the new text differs, it is written to C(path)
    the way M(ansible.windows.win_copy) writes one file (the folder is created when missing).
  - Fails when a fact is not what the role declares it must be (its C(expect)) or could not be read; then nothing
    must be recorded, and the role runs fully next time.
  - Changes only the role's state file. Do not run it in a check run, where the role's changes did not really happen;
    there it writes nothing and reports whether it would.
options:
  role:
    description: The role's name without the collection, for example C(containerd).
    type: str
    required: true
  inputs_sha256:
    description: The C(inputs_sha256) that M(winkube.node.converged) returned at the start of the role.
    type: str
    required: true
  facts:
    description:
      - What the role produced, fact specifications as the winkube.node.state_facts filter builds them, each with
        C(kind) (C(file), C(directory), C(service), C(registry), C(feature), C(firewall_rule), C(path_element)), the
        kind's identity keys and optionally C(expect).
    type: list
    elements: raw
    required: true
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  platform:
    support: full
    platforms: windows
notes:
  - Runs on the controller as an action plugin; the Windows side only runs M(ansible.windows.win_powershell).
seealso:
  - module: winkube.node.converged
"""

EXAMPLES = r"""
- name: Record what containerd left on the node for the next run
  winkube.node.node_state:
    role: containerd
    inputs_sha256: "{{ __containerd_converged.inputs_sha256 }}"
    facts: "{{ ['containerd'] | winkube.node.state_facts('service', expect={'state': 'Running'}) }}"
  register: __containerd_state
"""

RETURN = r"""
changed:
  description: Whether the state file was written (its text differed from the one on the node, or there was none).
  returned: always
  type: bool
  sample: true
facts:
  description: How many facts were recorded.
  returned: success
  type: int
  sample: 17
path:
  description: The role's state file on the node.
  returned: success
  type: str
  sample: C:\ProgramData\winkube\state\containerd.json
"""
