"""Tests of the Windows host simulator (real pywinrm and real ansible-playbook against it)."""
