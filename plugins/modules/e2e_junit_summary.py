#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarize the JUnit reports of a Kubernetes E2E run (logic: module_utils/e2e.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: e2e_junit_summary
short_description: Summarize the JUnit reports of a Kubernetes end-to-end test run
version_added: 0.1.0
description:
  - Reads the JUnit reports that the Kubernetes E2E binary C(e2e.test) writes into its C(--report-dir), on the host
    that ran the tests, and returns the totals, every failed test with its message, and the duration.
  - Understands both layouts Ginkgo writes. Ginkgo v2 (Kubernetes 1.25 and later) writes one merged file,
    C(junit_<prefix>01.xml), with a C(<testsuites>) root. Ginkgo v1 writes one C(<testsuite>) file per parallel
    node, C(junit_<prefix>01.xml), C(junit_<prefix>02.xml) and so on.
  - A test case with a C(<failure>) element (types C(failed), C(timedout), C(aborted); v1 C(Failure), C(Timeout),
    C(Panic)) is failed, one with an C(<error>) element (C(panicked), C(interrupted)) is an error and counted as
    failed too, one with C(<skipped>) (skipped or pending) is skipped, and every other one passed. Suite nodes
    such as C([SynchronizedBeforeSuite]) count as test cases, as they do in Ginkgo's own C(tests) attribute.
  - The message of a failure is its C(message) attribute, or its text when the attribute is empty (Kubernetes
    writes it so).
  - With O(summary_path), writes a Markdown summary there (only when its content changes).
  - Does not fail because tests failed; the caller decides (the e2e role fails unless
    C(e2e_fail_on_test_failure=false)). It fails when there is no report, or a report is empty or malformed.
options:
  path:
    description:
      - A JUnit file, or a directory whose C(junit*.xml) files (not its subdirectories) are read, in name order.
    type: path
    required: true
  summary_path:
    description:
      - Where to write the Markdown summary. Its directory must exist.
    type: path
  title:
    description:
      - The heading of the Markdown summary.
    type: str
    default: sig-windows E2E results
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the reports; does not write the summary and reports whether it would change.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
notes:
  - Runs on the host that ran the tests (the controller with C(connection=local), or a Linux test runner).
seealso:
  - name: windows-testing
    description: How SIG Windows runs the Kubernetes E2E tests.
    link: https://github.com/kubernetes-sigs/windows-testing
"""

EXAMPLES = r"""
- name: Summarize the run and write the Markdown summary beside the reports
  winkube.node.e2e_junit_summary:
    path: /home/ci/artifacts
    summary_path: /home/ci/artifacts/e2e-summary.md
  register: e2e

- name: Fail when a test failed
  ansible.builtin.assert:
    that: e2e.summary.failed == 0
    fail_msg: "{{ e2e.summary.failed }} tests failed: {{ e2e.summary.failures | map(attribute='name') | join(', ') }}"
"""

RETURN = r"""
summary:
  description:
    - The totals of the run. They are under C(summary) because Ansible reads a top-level C(failed) as the task's
      own failure.
  returned: success
  type: dict
  contains:
    total:
      description: The number of test cases in the reports.
      type: int
      sample: 412
    passed:
      description: Test cases that passed.
      type: int
      sample: 38
    failed:
      description: Test cases that failed or had an error.
      type: int
      sample: 2
    errors:
      description: Of those failed, the ones that were errors (a panic or an interrupt).
      type: int
      sample: 0
    skipped:
      description: Test cases that were skipped or pending (including those the focus did not select).
      type: int
      sample: 372
    duration:
      description:
        - Seconds the run took, the longest report's C(time) (Ginkgo v1's per-node reports ran at the same time).
      type: float
      sample: 1834.512
    failures:
      description: Every failed test case, with C(name), C(message), C(type) (as the report gives it) and C(report).
      type: list
      elements: dict
      sample:
        - name: "[It] [sig-windows] [Feature:Windows] Memory Limits [Serial] [Slow] should fail deployments of pods"
          message: "[FAILED] Expected an error to have occurred.  Got:\n    <nil>: nil"
          type: failed
          report: /home/ci/artifacts/junit_01.xml
    reports:
      description: The report files read, each with C(path), C(format) (C(ginkgo-v2) or C(ginkgo-v1)) and C(tests).
      type: list
      elements: dict
      sample:
        - path: /home/ci/artifacts/junit_01.xml
          format: ginkgo-v2
          tests: 412
summary_path:
  description: Where the Markdown summary was written (null without O(summary_path)).
  returned: success
  type: str
  sample: /home/ci/artifacts/e2e-summary.md
markdown:
  description: The Markdown summary.
  returned: success
  type: str
"""

# ansible-test requires the imports below the documentation (validate-modules: import-before-documentation).
import glob  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.winkube.node.plugins.module_utils.e2e import (  # noqa: E402
    parse_junit,
    render_markdown,
    summarize_reports,
)


def report_files(path):
    """The JUnit files at ``path``: the file itself, or a directory's junit*.xml in name order."""
    if os.path.isdir(path):
        files = sorted(
            name for name in glob.glob(os.path.join(glob.escape(path), "junit*.xml")) if os.path.isfile(name)
        )
        if not files:
            raise ValueError("%s holds no JUnit report (junit*.xml): did the test binary run with --report-dir?" % path)
        return files
    if os.path.isfile(path):
        return [path]
    raise ValueError("%s does not exist" % path)


def write_if_changed(module, dest, text):
    """Write ``text`` to ``dest`` atomically when it differs; True when it did (or would, in check mode)."""
    try:
        with open(dest, encoding="utf-8") as handle:
            if handle.read() == text:
                return False
    except FileNotFoundError:
        pass
    if module.check_mode:
        return True
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".e2e-summary-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, dest)
    return True


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "summary_path": {"type": "path"},
            "title": {"type": "str", "default": "sig-windows E2E results"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        files = []
        for name in report_files(params["path"]):
            with open(name, encoding="utf-8") as handle:
                files.append(parse_junit(handle.read(), name))
        summary = summarize_reports(files)
        markdown = render_markdown(summary, params["title"])
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        module.fail_json(msg="winkube.node.e2e_junit_summary: %s" % exc)
    changed = False
    if params["summary_path"]:
        try:
            changed = write_if_changed(module, params["summary_path"], markdown)
        except OSError as exc:
            module.fail_json(msg="winkube.node.e2e_junit_summary: cannot write %s: %s" % (params["summary_path"], exc))
    module.exit_json(changed=changed, summary=summary, summary_path=params["summary_path"], markdown=markdown)


if __name__ == "__main__":
    main()
