#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/check_mode.py.

DOCUMENTATION = r"""
---
module: check_mode
short_description: Tell whether the task runs in check mode
version_added: 0.1.0
description:
  - Returns whether the task runs in check mode and in diff mode, as the modules of the task see it.
  - The magic variable C(ansible_check_mode) only reflects the command line's C(--check); a role or block run
    with the C(check_mode) keyword sees it false. This module reports the task's resolved C(check_mode) instead,
    so a role can decide, for example, not to fail on something an earlier step of the same check run did not
    really create.
  - Takes no options. Runs on the controller and never contacts the host.
options: {}
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
"""

EXAMPLES = r"""
- name: Find out whether this is a check run
  winkube.node.check_mode:
  register: run_mode

- name: Refuse a service that is not registered, except in a check run
  ansible.builtin.fail:
    msg: the service is missing
  when: not service_info.exists and not run_mode.check_mode
"""

RETURN = r"""
check_mode:
  description: Whether the task runs in check mode.
  returned: always
  type: bool
  sample: true
diff_mode:
  description: Whether the task runs in diff mode.
  returned: always
  type: bool
  sample: false
"""
