# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes every module of this collection shares: each is an action plugin on the controller
that supports check mode and neither async, diff nor bypassing the host loop. Used together with
ansible.builtin.action_common_attributes (and its flow part), which gives the descriptions."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
"""
