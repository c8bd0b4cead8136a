"""The simulated Windows host: state and the behaviour that belongs to the state itself.

This is the "models" layer of the simulator (as moto keeps backends apart from its protocol
handling). The WinRM transport (``server.py``/``wsman.py``) and the payload decoder never touch
state directly; module emulations (``modules/``) and executables (``executables/``) do, through
this class. Everything is in memory, one ``WindowsHost`` per simulated machine, guarded by
``host.lock`` (the transport takes it around one module run).

Paths are case-insensitive and accept ``\\`` or ``/``; ``%VAR%`` is expanded from the machine
environment. Nothing here opens a socket or touches the real disk.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "DiskFullError",
    "FileEntry",
    "Service",
    "SimulatorError",
    "WindowsHost",
    "normpath",
]


class SimulatorError(Exception):
    """Something the simulator does not emulate or a request it cannot honour. Fails loudly."""


class DiskFullError(OSError):
    """Raised by writes when the host's ``disk_full`` fault is set (Windows error 112)."""

    def __init__(self, path: str) -> None:
        super().__init__(112, "There is not enough space on the disk.", path)


# --------------------------------------------------------------------------------------------
# paths


_DRIVE = re.compile(r"^[A-Za-z]:$")


def normpath(path: str, env: dict[str, str] | None = None) -> str:
    r"""Return the canonical form of a Windows path: ``C:\Dir\file`` (drive upper-case, no trailing
    separator, ``.``/``..`` resolved, ``%VAR%`` expanded from ``env``). Keys used for lookups are
    ``normpath(p).lower()`` (NTFS is case-insensitive but case-preserving)."""
    if not path:
        raise SimulatorError("empty path")
    if env:
        path = expand_env(path, env)
    p = path.replace("/", "\\")
    if p.startswith("\\\\?\\"):
        p = p[4:]
    parts = [x for x in p.split("\\") if x not in ("",)]
    if not parts or not _DRIVE.match(parts[0]):
        raise SimulatorError(f"not an absolute path: {path!r}")
    out = [parts[0].upper()]
    for part in parts[1:]:
        if part == ".":
            continue
        if part == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(part)
    return "\\".join(out) if len(out) > 1 else out[0] + "\\"


def expand_env(value: str, env: dict[str, str]) -> str:
    """Expand ``%NAME%`` like cmd.exe: unknown names are left as they are."""
    lowered = {k.lower(): v for k, v in env.items()}

    def repl(m: re.Match[str]) -> str:
        return lowered.get(m.group(1).lower(), m.group(0))

    return re.sub(r"%([^%]+)%", repl, value)


def parent_of(path: str) -> str | None:
    if path.endswith(":\\"):
        return None
    head = path.rsplit("\\", 1)[0]
    return head + "\\" if _DRIVE.match(head) else head


# --------------------------------------------------------------------------------------------
# state records


@dataclasses.dataclass
class FileEntry:
    """A file or directory. ``path`` keeps the case it was created with."""

    path: str
    is_dir: bool = False
    data: bytes = b""
    mtime: float = dataclasses.field(default_factory=time.time)
    attributes: list[str] = dataclasses.field(default_factory=list)

    @property
    def size(self) -> int:
        return 0 if self.is_dir else len(self.data)

    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def sha1(self) -> str:
        return hashlib.sha1(self.data).hexdigest()  # noqa: S324 - what win_stat/win_copy report


@dataclasses.dataclass
class Service:
    """A Windows service as the SCM knows it (names as ``sc.exe``/``Get-Service`` show them)."""

    name: str
    display_name: str = ""
    path: str = ""  # binary path name, with its arguments, as registered
    start_mode: str = "manual"  # auto | delayed | manual | disabled
    state: str = "stopped"  # running | stopped | paused | start_pending | stop_pending
    username: str = "LocalSystem"
    description: str = ""
    dependencies: list[str] = dataclasses.field(default_factory=list)
    # [{"type": "none" | "reboot" | "restart" | "run_command", "delay_ms": 15000}, ...] in SCM order
    failure_actions: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    failure_reset_period: int = 0
    # More SCM configuration (QueryServiceConfig/QueryServiceConfig2), as win_service/win_service_info
    # report and set it; the defaults are what a service created by New-Service/sc.exe gets.
    failure_command: str | None = None
    failure_reboot_msg: str | None = None
    failure_actions_on_non_crash_failure: bool = False
    error_control: str = "normal"  # critical | ignore | normal | severe
    load_order_group: str = ""
    desktop_interact: bool = False
    sid_info: str = "none"  # none | restricted | unrestricted
    required_privileges: list[str] = dataclasses.field(default_factory=list)
    pre_shutdown_timeout_ms: int = 10000  # the default since Windows 10 1703 / Server 2019
    # The REG_MULTI_SZ ``Environment`` value of HKLM:\SYSTEM\CurrentControlSet\Services\<name> as stored
    # ("NAME=value" strings; None: no value). This field *is* that registry value: the registry methods
    # of WindowsHost read and write it here, so there is one source of truth.
    environment: list[str] | None = None
    # The environment block of the running process (None while stopped): fixed when the service
    # starts, so a changed Environment value only reaches the process after a restart, as on Windows.
    process_environment: dict[str, str] | None = None
    service_type: str = "win32_own_process"
    exit_code: int = 0
    pid: int = 0


@dataclasses.dataclass
class Feature:
    name: str
    display_name: str
    installed: bool = False
    install_pending: bool = False  # installed, needs a reboot to complete
    restart_needed: bool = False  # installing it asks for a reboot


# Features a fresh Windows Server knows about. Containers needs a reboot to finish installing.
DEFAULT_FEATURES: tuple[tuple[str, str, bool], ...] = (
    ("Containers", "Containers", True),
    ("Hyper-V", "Hyper-V", True),
    ("Hyper-V-PowerShell", "Hyper-V Module for Windows PowerShell", False),
    ("RSAT-Hyper-V-Tools", "Hyper-V Management Tools", False),
    ("NET-Framework-45-Core", ".NET Framework 4.8", False),
    ("Windows-Defender", "Microsoft Defender Antivirus", True),
    ("PowerShellRoot", "Windows PowerShell", False),
    ("WoW64-Support", "WoW64 Support", True),
)


# The services' keys. Each service's ``Environment`` value is kept in ``Service.environment`` (see the
# registry methods); the values below belong to the SCM configuration the simulator keeps in other
# Service fields, so reading or writing them through the registry would meet a second, stale truth:
# that fails loudly instead (change them with win_service or sc.exe).
SERVICES_KEY = r"HKLM:\SYSTEM\CurrentControlSet\Services"
SCM_VALUES = frozenset(
    {
        "imagepath",
        "start",
        "type",
        "objectname",
        "displayname",
        "description",
        "dependonservice",
        "errorcontrol",
        "failureactions",
        "failurecommand",
        "delayedautostart",
        "group",
        "requiredprivileges",
        "servicesidtype",
        "preshutdowntimeout",
    }
)

# Microsoft Defender's Group Policy exclusion lists. The Policy CSP maps ExcludedPaths,
# ExcludedProcesses and ExcludedExtensions to the WindowsDefender.admx policies Exclusions_Paths,
# Exclusions_Processes and Exclusions_Extensions, registry key Software\Policies\Microsoft\Windows
# Defender\Exclusions (MicrosoftDocs windows-itpro-docs policy-csp-defender.md). Enabling one writes its
# DWORD toggle (Exclusions_Paths = 1) and one value per entry in the list key (Paths, Processes,
# Extensions), named after the entry; "the value is not used" (the ADMX text; Group Policy writes
# REG_SZ "0"). [RECONSTRUCTED] A list whose toggle is absent or not 1 is treated as a policy that is not
# enabled, as a policy engine would: the simulator does not apply it.
DEFENDER_POLICY_KEY = r"HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender"
DEFENDER_POLICY_LISTS: tuple[tuple[str, str, str], ...] = (
    ("path", "Paths", "Exclusions_Paths"),
    ("process", "Processes", "Exclusions_Processes"),
    ("extension", "Extensions", "Exclusions_Extensions"),
)


# (name, display name, start mode, state) of the services of a fresh host; windows-ground-truth §3.
DEFAULT_SERVICES: tuple[tuple[str, str, str, str], ...] = (
    ("WinRM", "Windows Remote Management (WS-Management)", "auto", "running"),
    ("W32Time", "Windows Time", "manual", "running"),
    ("EventLog", "Windows Event Log", "auto", "running"),
    ("Dhcp", "DHCP Client", "auto", "running"),
    ("Dnscache", "DNS Client", "auto", "running"),
    ("LanmanServer", "Server", "auto", "running"),
    ("LanmanWorkstation", "Workstation", "auto", "running"),
    ("mpssvc", "Windows Defender Firewall", "auto", "running"),
    ("WinDefend", "Microsoft Defender Antivirus Service", "auto", "running"),
    ("wuauserv", "Windows Update", "manual", "stopped"),
    ("TrustedInstaller", "Windows Modules Installer", "manual", "stopped"),
    ("Schedule", "Task Scheduler", "auto", "running"),
    ("RpcSs", "Remote Procedure Call (RPC)", "auto", "running"),
    ("Spooler", "Print Spooler", "auto", "running"),
)


# What CurrentVersion says per build: (product words after "Windows Server", DisplayVersion,
# ReleaseId); windows-ground-truth §1.4. DisplayVersion is absent on 2019; ReleaseId is frozen at
# 2009 from 20H2 on. Annual Channel and SAC products carry no year in ProductName.
BUILD_VERSION_VALUES: dict[int, tuple[str, str | None, str]] = {
    14393: ("2016", None, "1607"),
    17763: ("2019", None, "1809"),
    18362: ("", None, "1903"),
    18363: ("", None, "1909"),
    19041: ("", None, "2004"),
    19042: ("", "20H2", "2009"),
    20348: ("2022", "21H2", "2009"),
    25398: ("", "23H2", "2009"),
    26100: ("2025", "24H2", "2009"),
}
# EditionID → the edition words of ProductName / Win32_OperatingSystem.Caption.
EDITION_WORDS = {
    "ServerStandard": "Standard",
    "ServerDatacenter": "Datacenter",
    "ServerStandardEval": "Standard Evaluation",
    "ServerDatacenterEval": "Datacenter Evaluation",
    "ServerTurbine": "Datacenter: Azure Edition",
}


def product_name(build: int, edition: str) -> str | None:
    """``ProductName`` of a known Windows Server build and edition; None where the simulator does not
    know what the product calls itself (insider builds, unknown editions): it never guesses."""
    if build not in BUILD_VERSION_VALUES or edition not in EDITION_WORDS:
        return None
    return " ".join(filter(None, ("Windows Server", BUILD_VERSION_VALUES[build][0], EDITION_WORDS[edition])))


# --------------------------------------------------------------------------------------------
# the host


ServiceStarter = Callable[["WindowsHost", Service], "str | None"]


class WindowsHost:
    """One simulated Windows Server.

    ``faults`` holds injected faults (see ``faults.py``); state mutators honour the ones that
    concern them (``disk_full`` for writes, ``service_start_failures`` and ``service_crash_loop``
    for services).

    Extension points used by other layers:

    * ``service_starters``: executable base name (lower-case, e.g. ``containerd.exe``) → a
      callable ``(host, service) -> None | error text``; ``start_service`` calls it so a service
      runs (or fails) as its binary would with its configuration. Registered by ``executables``.
    * ``boot_hooks``: callables run by ``reboot()`` after pending changes are applied.
    """

    def __init__(
        self,
        name: str,
        os_version: str = "10.0.20348.2527",
        edition: str = "ServerStandard",
        installation_type: str = "Server",
        seed: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.lock = threading.RLock()
        self.os_version = os_version
        fields = os_version.split(".")
        if len(fields) not in (3, 4) or not all(f.isdigit() for f in fields):
            raise SimulatorError(f"os_version must look like 10.0.20348.2527, got {os_version!r}")
        self.build = int(fields[2])
        self.revision = int(fields[3]) if len(fields) == 4 else 0
        self.edition = edition
        self.installation_type = installation_type
        self.hostname = name.upper()[:15]
        self.boot_count = 1
        self.boot_time = time.time() - 3600
        self.reboot_pending = False
        self.files: dict[str, FileEntry] = {}
        self.registry: dict[str, dict[str, tuple[str, Any]]] = {}  # key path lower → {value name lower: (type, data)}
        self.registry_case: dict[str, str] = {}  # key path lower → key path as created
        self.registry_value_case: dict[str, dict[str, str]] = {}  # key path lower → {value lower: as created}
        self.services: dict[str, Service] = {}
        self.features: dict[str, Feature] = {}
        self.env_machine: dict[str, str] = {}
        self.env_user: dict[str, str] = {}
        self.firewall_rules: dict[str, dict[str, Any]] = {}
        # The local Defender preferences (what Add-MpPreference adds). What Defender applies also
        # includes the Group Policy lists in the registry: see effective_defender_exclusions().
        self.defender_exclusions: dict[str, list[str]] = {"path": [], "process": [], "extension": []}
        self.images: dict[str, dict[str, Any]] = {}  # runtime image ref → {digest, os_version, size, namespace}
        self.faults: dict[str, Any] = {}
        self.stats: dict[str, Any] = {}
        self.service_starters: dict[str, ServiceStarter] = {}
        self.boot_hooks: list[Callable[[WindowsHost], None]] = []
        self.extra: dict[str, Any] = {}  # room for emulations (cluster membership, kubelet state, ...)
        # Set by the server from its configuration: URL -> content map (``downloads.py``) and the
        # simulated Kubernetes cluster the host can join (``cluster.py``); shared by all hosts.
        self.downloads: Any = None
        self.cluster: Any = None
        self.async_jobs: dict[str, dict[str, Any]] = {}  # jid -> async_status result
        # The Windows Update catalog as this host sees it (HOSTS.yml ``seed.updates``, normalised by
        # config.py; each entry's ``status`` moves as ``modules/win_updates.py`` installs it).
        self.updates: list[dict[str, Any]] = []
        self._seed_fresh()
        if seed:
            self.apply_seed(seed)
        self.reset_stats()

    # ---------------------------------------------------------------- fresh machine

    def _seed_fresh(self) -> None:
        self.env_machine.update(
            {
                "ComSpec": r"C:\Windows\system32\cmd.exe",
                "NUMBER_OF_PROCESSORS": "2",
                "OS": "Windows_NT",
                "Path": r"C:\Windows\system32;C:\Windows;C:\Windows\System32\Wbem;"
                r"C:\Windows\System32\WindowsPowerShell\v1.0\;C:\Windows\System32\OpenSSH\;"
                r"C:\Users\Administrator\AppData\Local\Microsoft\WindowsApps",
                "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
                "PROCESSOR_ARCHITECTURE": "AMD64",
                "PSModulePath": r"%ProgramFiles%\WindowsPowerShell\Modules;"
                r"C:\Windows\system32\WindowsPowerShell\v1.0\Modules",
                "TEMP": r"C:\Windows\TEMP",
                "TMP": r"C:\Windows\TEMP",
                "windir": r"C:\Windows",
                "SystemRoot": r"C:\Windows",
                "SystemDrive": "C:",
                "ProgramFiles": r"C:\Program Files",
                "ProgramFiles(x86)": r"C:\Program Files (x86)",
                "ProgramData": r"C:\ProgramData",
                "ALLUSERSPROFILE": r"C:\ProgramData",
                "PUBLIC": r"C:\Users\Public",
            }
        )
        self.env_user.update(
            {
                "TEMP": r"C:\Users\Administrator\AppData\Local\Temp",
                "TMP": r"C:\Users\Administrator\AppData\Local\Temp",
                "USERPROFILE": r"C:\Users\Administrator",
                "USERNAME": "Administrator",
                "APPDATA": r"C:\Users\Administrator\AppData\Roaming",
                "LOCALAPPDATA": r"C:\Users\Administrator\AppData\Local",
                "HOMEDRIVE": "C:",
                "HOMEPATH": r"\Users\Administrator",
            }
        )
        for d in (
            "C:\\",
            r"C:\Windows",
            r"C:\Windows\System32",
            r"C:\Windows\TEMP",
            r"C:\Program Files",
            r"C:\Program Files (x86)",
            r"C:\ProgramData",
            r"C:\Users",
            r"C:\Users\Administrator",
            r"C:\Users\Administrator\AppData\Local\Temp",
            r"C:\Users\Public",
        ):
            self.mkdir(d)
        for exe in ("cmd.exe", "tar.exe", "sc.exe", "shutdown.exe", "wevtutil.exe", "netsh.exe", "hnsdiag.exe"):
            self.write_file(rf"C:\Windows\System32\{exe}", b"MZ simulated " + exe.encode())
        for name, display, restart in DEFAULT_FEATURES:
            installed = name in ("Windows-Defender", "PowerShellRoot", "WoW64-Support", "NET-Framework-45-Core")
            self.features[name.lower()] = Feature(name, display, installed=installed, restart_needed=restart)
        for name, display, mode, state in DEFAULT_SERVICES:
            self.services[name.lower()] = Service(
                name=name,
                display_name=display,
                start_mode=mode,
                state=state,
                path=rf"C:\Windows\system32\svchost.exe -k {name}",
                service_type="win32_share_process",
            )
        self.create_reg_key(SERVICES_KEY)
        cv = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
        self.set_reg(cv, "CurrentBuildNumber", "String", str(self.build))
        self.set_reg(cv, "CurrentBuild", "String", str(self.build))
        self.set_reg(cv, "UBR", "DWord", self.revision)
        self.set_reg(cv, "EditionID", "String", self.edition)
        self.set_reg(cv, "InstallationType", "String", self.installation_type)
        self.set_reg(cv, "CurrentMajorVersionNumber", "DWord", 10)
        self.set_reg(cv, "CurrentMinorVersionNumber", "DWord", 0)
        self.set_reg(cv, "CurrentVersion", "String", "6.3")
        product = product_name(self.build, self.edition)
        if product:
            self.set_reg(cv, "ProductName", "String", product)
        _, display_version, release_id = BUILD_VERSION_VALUES.get(self.build, ("", None, ""))
        if display_version:
            self.set_reg(cv, "DisplayVersion", "String", display_version)
        if release_id:
            self.set_reg(cv, "ReleaseId", "String", release_id)

    def apply_seed(self, seed: dict[str, Any]) -> None:
        """Seed state from a HOSTS.yml ``seed:`` mapping: features, services, files, registry, environment,
        updates, HNS networks and endpoints."""
        for name in seed.get("features", []) or []:
            feat = self.features.setdefault(name.lower(), Feature(name, name))
            feat.installed = True
        for spec in seed.get("services", []) or []:
            self.services[spec["name"].lower()] = Service(**spec)
        for f in seed.get("files", []) or []:
            if f.get("directory"):
                self.mkdir(f["path"])
            else:
                content = f.get("content", "")
                self.write_file(f["path"], content.encode() if isinstance(content, str) else content)
        for r in seed.get("registry", []) or []:
            self.set_reg(r["path"], r["name"], r.get("type", "String"), r.get("data"))
        for k, v in (seed.get("environment", {}) or {}).items():
            self.env_machine[k] = v
        self.updates.extend(copy.deepcopy(u) for u in seed.get("updates", []) or [])
        if seed.get("hns"):
            # The HNS objects a runtime or CNI made (config.validate_hns): what the HNS probes list.
            self.extra["hns"] = copy.deepcopy(seed["hns"])

    # ---------------------------------------------------------------- environment

    def environment(self, user: bool = True) -> dict[str, str]:
        """The environment a new process sees: machine variables, then the user's (Path is joined)."""
        env = dict(self.env_machine)
        if user:
            for k, v in self.env_user.items():
                if k.lower() == "path":
                    env["Path"] = env.get("Path", "") + ";" + v
                else:
                    env[k] = v
        return env

    def norm(self, path: str) -> str:
        return normpath(path, self.environment())

    # ---------------------------------------------------------------- file system

    def _write_guard(self, path: str) -> None:
        if self.faults.get("disk_full"):
            raise DiskFullError(path)

    def exists(self, path: str) -> bool:
        return self.norm(path).lower() in self.files

    def get(self, path: str) -> FileEntry | None:
        return self.files.get(self.norm(path).lower())

    def isdir(self, path: str) -> bool:
        e = self.get(path)
        return bool(e and e.is_dir)

    def mkdir(self, path: str) -> bool:
        """Create a directory and its parents; return whether anything was created."""
        p = self.norm(path)
        created = False
        chain: list[str] = []
        cur: str | None = p
        while cur is not None and cur.lower() not in self.files:
            chain.append(cur)
            cur = parent_of(cur)
        if cur is not None and not self.files[cur.lower()].is_dir:
            raise SimulatorError(f"{cur} is a file")
        for d in reversed(chain):
            self._write_guard(d)
            self.files[d.lower()] = FileEntry(d, is_dir=True)
            created = True
        return created

    def write_file(self, path: str, data: bytes, *, make_parents: bool = True) -> bool:
        """Write a file; return whether its content changed."""
        p = self.norm(path)
        parent = parent_of(p)
        if parent is not None and parent.lower() not in self.files:
            if not make_parents:
                raise FileNotFoundError(3, "The system cannot find the path specified.", p)
            self.mkdir(parent)
        old = self.files.get(p.lower())
        if old is not None and old.is_dir:
            raise IsADirectoryError(5, "Access is denied.", p)
        if old is not None and old.data == data:
            return False
        self._write_guard(p)
        self.files[p.lower()] = FileEntry(old.path if old else p, data=data)
        return True

    def read_file(self, path: str) -> bytes:
        e = self.get(path)
        if e is None:
            raise FileNotFoundError(2, "The system cannot find the file specified.", path)
        if e.is_dir:
            raise IsADirectoryError(5, "Access is denied.", path)
        return e.data

    def remove(self, path: str) -> bool:
        """Remove a file or a directory tree; return whether anything was removed."""
        key = self.norm(path).lower()
        if key not in self.files:
            return False
        prefix = key.rstrip("\\") + "\\"
        for k in [k for k in self.files if k == key or k.startswith(prefix)]:
            del self.files[k]
        return True

    def listdir(self, path: str) -> list[FileEntry]:
        key = self.norm(path).lower().rstrip("\\") + "\\"
        depth = key.count("\\")
        return sorted(
            (e for k, e in self.files.items() if k.startswith(key) and k.count("\\") == depth and k != key),
            key=lambda e: e.path.lower(),
        )

    def walk(self, path: str) -> Iterator[FileEntry]:
        key = self.norm(path).lower().rstrip("\\") + "\\"
        for k in sorted(self.files):
            if k.startswith(key):
                yield self.files[k]

    # ---------------------------------------------------------------- registry

    @staticmethod
    def _reg_key(path: str) -> str:
        p = path.replace("/", "\\").rstrip("\\")
        for long, short in (
            ("HKEY_LOCAL_MACHINE", "HKLM:"),
            ("HKEY_CURRENT_USER", "HKCU:"),
            ("Registry::HKEY_LOCAL_MACHINE", "HKLM:"),
        ):
            if p.upper().startswith(long.upper()):
                p = short + p[len(long) :]
        if re.match(r"^HK(LM|CU|CR|U|CC)\\", p, re.I):
            p = p[: p.index("\\")] + ":" + p[p.index("\\") :]
        return p

    def _service_of_key(self, key: str) -> Service | None:
        """The existing service whose key (exactly HKLM:\\SYSTEM\\CurrentControlSet\\Services\\<name>) this is."""
        prefix = SERVICES_KEY.lower() + "\\"
        lowered = self._reg_key(key).lower()
        if not lowered.startswith(prefix) or "\\" in lowered[len(prefix) :]:
            return None
        return self.services.get(lowered[len(prefix) :])

    def _service_value(self, key: str, name: str) -> Service | None:
        """The service when ``name`` is its ``Environment`` value (kept in Service.environment), None
        for a plain registry value; SCM-owned values fail loudly (see SCM_VALUES)."""
        svc = self._service_of_key(key)
        if svc is None:
            return None
        if name.lower() in SCM_VALUES:
            raise SimulatorError(
                f"simulator: the {name} value of service {svc.name} belongs to the SCM configuration, which the "
                "simulator does not map to the registry; change it with win_service or sc.exe"
            )
        return svc if name.lower() == "environment" else None

    def set_reg(self, path: str, name: str, vtype: str, data: Any) -> bool:
        key = self._reg_key(path)
        svc = self._service_value(key, name)
        if svc is not None:
            if str(vtype).lower() not in ("multistring", "reg_multi_sz"):
                raise SimulatorError(
                    f"simulator: the Environment value of service {svc.name} as {vtype} is not emulated "
                    "(the SCM reads a REG_MULTI_SZ)"
                )
            entries = [str(v) for v in data or []]
            changed = svc.environment != entries
            svc.environment = entries
            return changed
        self.create_reg_key(key)
        values = self.registry[key.lower()]
        new = (vtype, data)
        self.registry_value_case.setdefault(key.lower(), {}).setdefault(name.lower(), name)
        if values.get(name.lower()) == new:
            return False
        values[name.lower()] = new
        return True

    def reg_values(self, path: str) -> dict[str, tuple[str, Any]]:
        """The values of a key under the names they were created with ({} for a missing key)."""
        if self._service_of_key(path) is not None:
            raise SimulatorError(
                f"simulator: listing the values of service key {path} is not emulated (its SCM values live in the "
                "service model); read a value by name"
            )
        key = self._reg_key(path).lower()
        case = self.registry_value_case.get(key, {})
        return {case.get(n, n): v for n, v in self.registry.get(key, {}).items()}

    def reg_subkeys(self, path: str) -> list[str]:
        """Names of the direct sub keys of a key, as created."""
        prefix = self._reg_key(path).lower().rstrip("\\") + "\\"
        depth = prefix.count("\\")
        names = {
            k.rsplit("\\", 1)[-1]: self.registry_case.get(k, k).rsplit("\\", 1)[-1]
            for k in self.registry
            if k.startswith(prefix) and k.count("\\") == depth
        }
        if prefix == SERVICES_KEY.lower() + "\\":
            for svc in self.services.values():  # every service has its key
                names.setdefault(svc.name.lower(), svc.name)
        return sorted(names.values(), key=str.lower)

    def create_reg_key(self, path: str) -> bool:
        key = self._reg_key(path)
        if key.lower() in self.registry or self._service_of_key(key) is not None:
            return False
        parts = key.split("\\")
        for i in range(1, len(parts) + 1):
            sub = "\\".join(parts[:i])
            if sub.lower() not in self.registry:
                self.registry[sub.lower()] = {}
                self.registry_case[sub.lower()] = sub
        return True

    def get_reg(self, path: str, name: str) -> tuple[str, Any] | None:
        svc = self._service_value(path, name)
        if svc is not None:
            return None if svc.environment is None else ("MultiString", list(svc.environment))
        return self.registry.get(self._reg_key(path).lower(), {}).get(name.lower())

    def reg_key_exists(self, path: str) -> bool:
        return self._reg_key(path).lower() in self.registry or self._service_of_key(path) is not None

    def delete_reg(self, path: str, name: str | None = None) -> bool:
        key = self._reg_key(path).lower()
        if name is None and (
            self._service_of_key(key) is not None or (SERVICES_KEY.lower() + "\\").startswith(key + "\\")
        ):
            raise SimulatorError(
                f"simulator: deleting {path} is not emulated: it holds services (remove a service with sc.exe "
                "delete or win_service state=absent)"
            )
        svc = None if name is None else self._service_value(key, name)
        if svc is not None:
            had = svc.environment is not None
            svc.environment = None
            return had
        if key not in self.registry:
            return False
        if name is None:
            for k in [k for k in self.registry if k == key or k.startswith(key + "\\")]:
                del self.registry[k]
                self.registry_case.pop(k, None)
                self.registry_value_case.pop(k, None)
            return True
        self.registry_value_case.get(key, {}).pop(name.lower(), None)
        return self.registry[key].pop(name.lower(), None) is not None

    # ---------------------------------------------------------------- services

    def service(self, name: str) -> Service | None:
        svc = self.services.get(name.lower())
        if svc is None:
            for s in self.services.values():
                if s.display_name.lower() == name.lower():
                    return s
        return svc

    def binary_of(self, svc: Service) -> str:
        """The executable path of a service's ``path`` (quoted or not, arguments dropped)."""
        p = svc.path.strip()
        if p.startswith('"'):
            return p[1 : p.index('"', 1)]
        m = re.match(r"^(.*?\.exe)(\s|$)", p, re.I)
        return m.group(1) if m else p.split(" ")[0]

    def start_service(self, name: str) -> str | None:
        """Start a service and the services it depends on. Return None, or the error text that
        ``Start-Service`` would give. Injected ``service_start_failures`` win over everything."""
        svc = self.service(name)
        if svc is None:
            return f"Cannot find any service with service name '{name}'."
        if svc.state == "running":
            return None
        if svc.start_mode == "disabled":
            return (
                f"Service '{svc.display_name or svc.name} ({svc.name})' cannot be started due to the "
                "following error: Cannot start service "
                f"{svc.name} on computer '.'."
            )
        injected = (self.faults.get("service_start_failures") or {}).get(svc.name.lower())
        if injected:
            svc.state = "stopped"
            return str(injected)
        for dep in svc.dependencies:
            err = self.start_service(dep)
            if err:
                return f"Service '{svc.name}' depends on '{dep}', which failed to start: {err}"
        binary = self.binary_of(svc)
        # The process gets its environment block when it is created, before its code runs: starters
        # read svc.process_environment as the daemon would read its environment.
        svc.process_environment = self.service_process_environment(svc)
        if binary.lower().endswith("svchost.exe"):
            svc.state = "running"
            return None
        if not self.exists(binary):
            svc.state = "stopped"
            svc.process_environment = None
            return (
                f"Service '{svc.display_name or svc.name} ({svc.name})' cannot be started due to the "
                f"following error: Cannot start service {svc.name} on computer '.'."
            )
        starter = self.service_starters.get(binary.replace("/", "\\").rsplit("\\", 1)[-1].lower())
        err = starter(self, svc) if starter else None
        if err:
            svc.state = "stopped"
            svc.process_environment = None
            return err
        svc.state = "running"
        svc.pid = 1000 + len(self.services) * 4
        crash = (self.faults.get("service_crash_loop") or {}).get(svc.name.lower())
        if crash:
            self._crash_after_start(svc, str(crash))
        return None

    def _crash_after_start(self, svc: Service, message: str) -> None:
        """The ``service_crash_loop`` fault: the process did its start-up and exited with ``message``.
        With restart failure actions the SCM starts it again at once, so the service stays
        ``running``, but the daemon its starter recorded serves nothing any more: no pipes, no Node
        status (``node``). The message goes to the daemon's log file, as its last words."""
        daemon = (self.extra.get("daemons") or {}).get(svc.name.lower())
        self.extra.setdefault("crash_loops", {})[svc.name.lower()] = {
            "message": message,
            "crashes": (self.extra.get("crash_loops") or {}).get(svc.name.lower(), {}).get("crashes", 0) + 1,
        }
        if daemon is None:
            return
        daemon["pipes"] = []
        if "node" in daemon:
            daemon["node"] = None
        log_file = daemon.get("log_file")
        if log_file:
            try:
                old = self.read_file(log_file) if self.exists(log_file) else b""
                self.write_file(log_file, old + message.rstrip("\n").encode() + b"\n")
            except (DiskFullError, SimulatorError, IsADirectoryError):
                pass  # a full disk loses the log line only, as on Windows

    def stop_service(self, name: str) -> str | None:
        svc = self.service(name)
        if svc is None:
            return f"Cannot find any service with service name '{name}'."
        for other in self.services.values():
            if other.state == "running" and any(d.lower() == svc.name.lower() for d in other.dependencies):
                other.state = "stopped"
                other.process_environment = None
        svc.state = "stopped"
        svc.pid = 0
        svc.process_environment = None
        return None

    def service_process_environment(self, svc: Service) -> dict[str, str]:
        """The environment block the SCM gives a service's process: the system (machine) environment,
        then the service's ``Environment`` entries on top. [RECONSTRUCTED] An entry replaces a variable of
        the same name (case-insensitive, as Windows environment names are); one without ``NAME=`` is
        ignored. LocalSystem services get no user variables."""
        env = dict(self.env_machine)
        for entry in svc.environment or []:
            name, sep, value = entry.partition("=")
            if not sep or not name:
                continue
            for existing in [k for k in env if k.lower() == name.lower()]:
                del env[existing]
            env[name] = value
        return env

    # ---------------------------------------------------------------- reboot

    def reboot(self) -> None:
        """Apply what a reboot applies: pending features finish installing, running services
        stop, automatic services start again, boot count and boot time move on."""
        for feat in self.features.values():
            if feat.install_pending:
                feat.install_pending = False
                feat.installed = True
        for svc in self.services.values():
            svc.state = "stopped"
            svc.pid = 0
            svc.process_environment = None
        self.reboot_pending = False
        self.boot_count += 1
        self.boot_time = max(time.time(), self.boot_time + 1)
        for hook in list(self.boot_hooks):
            hook(self)
        for svc in sorted(self.services.values(), key=lambda s: len(s.dependencies)):
            if svc.start_mode in ("auto", "delayed") and svc.state != "running":
                self.start_service(svc.name)

    # ---------------------------------------------------------------- Defender

    def _dword_is(self, path: str, name: str, expected: int) -> bool:
        value = self.get_reg(path, name)
        return value is not None and str(value[0]).lower() in ("dword", "reg_dword") and int(value[1]) == expected

    def effective_defender_exclusions(self) -> dict[str, list[str]]:
        """The exclusions Defender applies (what Get-MpPreference lists): each enabled Group Policy list
        (see DEFENDER_POLICY_LISTS), then the local preferences, which Defender merges with the managed
        lists unless the policy DisableLocalAdminMerge is 1 (Microsoft Defender docs, "Configure how
        locally and globally defined exclusions lists are merged"). Entries compare without case."""
        merge_local = not self._dword_is(DEFENDER_POLICY_KEY, "DisableLocalAdminMerge", 1)
        exclusions_key = DEFENDER_POLICY_KEY + r"\Exclusions"
        out: dict[str, list[str]] = {}
        for kind, list_key, toggle in DEFENDER_POLICY_LISTS:
            policy = (
                list(self.reg_values(exclusions_key + "\\" + list_key))
                if self._dword_is(exclusions_key, toggle, 1)
                else []
            )
            local = list(self.defender_exclusions.get(kind, [])) if merge_local else []
            merged: dict[str, str] = {}
            for entry in policy + local:
                merged.setdefault(entry.lower(), entry)
            out[kind] = list(merged.values())
        return out

    # ---------------------------------------------------------------- inspection

    def reset_stats(self) -> None:
        self.stats = {
            "winrm_requests": 0,
            "commands": 0,
            "module_runs_total": 0,
            "module_runs": {},
            "scripts": {},
            "bytes_in": 0,
            "bytes_out": 0,
        }

    def count_module(self, name: str) -> None:
        self.stats["module_runs_total"] += 1
        self.stats["module_runs"][name] = self.stats["module_runs"].get(name, 0) + 1

    def _registry_dump(self) -> dict[str, dict[str, list[Any]]]:
        """Every key with values, as created; a service's Environment appears under its key."""
        dump = {
            self.registry_case.get(k, k): {
                self.registry_value_case.get(k, {}).get(n, n): list(v) for n, v in vals.items()
            }
            for k, vals in sorted(self.registry.items())
            if vals
        }
        for svc in self.services.values():
            if svc.environment is not None:
                dump.setdefault(rf"{SERVICES_KEY}\{svc.name}", {})["Environment"] = [
                    "MultiString",
                    list(svc.environment),
                ]
        return dump

    def state(self) -> dict[str, Any]:
        """A JSON-serialisable dump of the whole host (the control API's ``/hosts/NAME/state``)."""
        with self.lock:
            return {
                "name": self.name,
                "hostname": self.hostname,
                "os_version": f"10.0.{self.build}.{self.revision}",
                "edition": self.edition,
                "installation_type": self.installation_type,
                "boot_count": self.boot_count,
                "reboot_pending": self.reboot_pending,
                "services": {s.name: dataclasses.asdict(s) for s in self.services.values()},
                "features": {f.name: dataclasses.asdict(f) for f in self.features.values()},
                "files": [
                    {
                        "path": e.path,
                        "directory": e.is_dir,
                        "size": e.size,
                        "sha256": None if e.is_dir else e.sha256(),
                    }
                    for _, e in sorted(self.files.items())
                ],
                "registry": self._registry_dump(),
                "path": self.env_machine.get("Path", "").split(";"),
                "environment": {"machine": dict(self.env_machine), "user": dict(self.env_user)},
                "firewall_rules": copy.deepcopy(self.firewall_rules),
                "defender_exclusions": self.effective_defender_exclusions(),
                "images": copy.deepcopy(self.images),
                "updates": copy.deepcopy(self.updates),
                "extra": copy.deepcopy(_jsonable(self.extra)),
            }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    return repr(value)
