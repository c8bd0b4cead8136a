"""Give ansible-test a pip bootstrap script it can use without its CI file host.

ansible-test bootstraps pip in the virtual environments it makes by downloading ``get-pip-<v>.py``
from the Ansible CI file host, which these machines cannot reach; it reads a cached copy at
``~/.ansible/test/cache/get_pip_<v>.py`` first. This writes a stand-in there (never over a real
one) that installs pip from the machine's own index: ``ensurepip`` first, then ``pip install``
with the arguments get-pip.py was given, minus ``--no-setuptools``/``--no-wheel``, which only
get-pip.py knows.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import ansible_test

MARKER = "# winkube.node stand-in for get-pip.py"

STAND_IN = f"""{MARKER} (tools/ansible_test_pip_cache.py)
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at os.devnull, which would hide the machine's pip
# configuration (its index and CA bundle) from the install below.
os.environ.pop("PIP_CONFIG_FILE", None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
"""


def pip_version() -> str:
    """The pip version this ansible-test pins (``default_packages = dict(pip='24.2')``)."""
    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        raise SystemExit(f"cannot find ansible-test's pinned pip version in {source}")
    return match.group(1)


def main() -> int:
    cache = Path.home() / ".ansible" / "test" / "cache" / f"get_pip_{pip_version().replace('.', '_')}.py"
    if cache.exists():
        return 0
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(STAND_IN)
    print(f"wrote a pip bootstrap stand-in for ansible-test: {cache}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
