#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/node_state.py.

DOCUMENTATION = r"""
---
module: node_state
short_description: Read what a role produced on the node, as the text of its state file
version_added: 0.1.0
description:
  - The last step of a role that records its converged state (docs/converged-runs.md). In one round trip the
    read-only probe of M(winkube.node.windows_facts), run by M(ansible.windows.win_powershell), reads the live value
    of every fact in O(facts); the result's C(content) is the state file to write with M(ansible.windows.win_copy)
    to C(path).
  - Fails when a fact is not what the role declares it must be (its C(expect)) or could not be read; then nothing
    must be recorded, and the role runs fully next time.
  - Changes nothing on the host. Do not run it in a check run, where the role's changes did not really happen.
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
- name: Read what containerd left on the node
  winkube.node.node_state:
    role: containerd
    inputs_sha256: "{{ __containerd_converged.inputs_sha256 }}"
    facts: "{{ ['containerd'] | winkube.node.state_facts('service', expect={'state': 'Running'}) }}"
  register: __containerd_state

- name: Create the folder of the state files
  ansible.windows.win_file:
    path: "{{ __containerd_state.folder }}"
    state: directory
  when: not __containerd_state.folder_exists

- name: Record it for the next run
  ansible.windows.win_copy:
    content: "{{ __containerd_state.content }}"
    dest: "{{ __containerd_state.path }}"
"""

RETURN = r"""
content:
  description: The state file's text (JSON, sorted keys, so an unchanged node rewrites nothing).
  returned: success
  type: str
path:
  description: The role's state file on the node.
  returned: success
  type: str
  sample: C:\ProgramData\winkube\state\containerd.json
folder:
  description: The folder of the state files.
  returned: success
  type: str
  sample: C:\ProgramData\winkube\state
folder_exists:
  description: Whether that folder exists (win_copy does not create it).
  returned: success
  type: bool
  sample: true
facts:
  description: How many facts were recorded.
  returned: success
  type: int
  sample: 17
"""
