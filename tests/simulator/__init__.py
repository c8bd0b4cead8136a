"""A Windows host simulator behind a real WinRM endpoint, for tests, Molecule and the demo.

Layers (each only calls the one below it):

* ``server.py``/``wsman.py``/``auth.py`` — the WS-Management/WinRS transport (HTTP(S), Basic, NTLM).
* ``decoder.py`` — turns what ansible-core sends into a ``ModuleRequest`` or a plain script.
* ``dispatch.py`` — counts stats, applies injected faults (``faults.py``), runs wrappers and modules.
* ``config.py`` — HOSTS.yml (validated, with defaults) and the inventory it writes; ``control.py``
  the control HTTP API; ``__main__.py`` the ``serve``/``start``/``stop`` commands.
* ``scripts.py`` — executor helpers (mkdtemp, put_file, fetch_file, remove) and win_reboot snippets.
* ``modules/`` — one emulation per Ansible module family, over ``host.WindowsHost``.
* ``executables/`` — the Windows binaries ``win_command`` runs (tar.exe, containerd.exe, ...).
* ``host.py`` — the simulated machine's state. ``cluster.py`` — the simulated Kubernetes cluster.
  ``downloads.py`` — URL → content fixtures with real archive layouts and checksum files.
"""
