"""ansible.windows.setup (setup.ps1): the ``ansible_*`` facts, subset by subset.

Each ``_subset_*`` function mirrors one ``$factMeta`` entry of setup.ps1 and is computed from the
host state: OS build, edition and installation type (registry ``CurrentVersion`` values), hostname,
environment, boot time, pending-reboot markers. What the host model does not hold (NICs, BIOS,
memory, CPU) comes from ``host.extra["network"]`` / ``host.extra["hardware"]`` when a hosts file
sets them, else from deterministic defaults that look like a Hyper-V guest, derived from the host
name so two simulated hosts never share an address.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from tests.simulator.host import SimulatorError, WindowsHost

from ._core import ModuleRun, emulates
from .argspec import SpecOverrides

_CURRENT_VERSION = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion"

# setup.ps1 $groupedSubsets
_GROUPS: dict[str, tuple[str, ...]] = {
    "min": ("date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"),
    "network": ("all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"),
    "hardware": ("bios", "memory", "processor", "uptime", "virtual"),
    "external": ("facter",),
}
_ALL = frozenset(s for group in _GROUPS.values() for s in group)


def _seed(host: WindowsHost, salt: str) -> bytes:
    return hashlib.sha256(f"{host.name}/{salt}".encode()).digest()


def _sim_time(host: WindowsHost) -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def caption(host: WindowsHost) -> str:
    """``Win32_OperatingSystem.Caption``: "Microsoft " + ProductName."""
    product = host.get_reg(_CURRENT_VERSION, "ProductName")
    if product is None:
        raise SimulatorError(
            f"cannot name the OS of build {host.build} edition {host.edition!r}: "
            f"set ProductName under {_CURRENT_VERSION}"
        )
    return f"Microsoft {product[1]}"


def interfaces(host: WindowsHost) -> list[dict[str, Any]]:
    """The host's NICs: ``host.extra["network"]["interfaces"]`` or one deterministic Hyper-V NIC."""
    configured = (host.extra.get("network") or {}).get("interfaces")
    if configured is not None:
        return list(configured)
    seed = _seed(host, "nic")
    octet = 10 + seed[0] % 200
    mac = "00:15:5D:" + ":".join(f"{b:02X}" for b in seed[1:4])
    link_local = "fe80::" + ":".join(f"{int.from_bytes(seed[i : i + 2], 'big'):x}" for i in (4, 6, 8, 10))
    return [
        {
            "connection_name": "Ethernet",
            "interface_name": "Microsoft Hyper-V Network Adapter",
            "interface_index": 6,
            "macaddress": mac,
            "mtu": 1500,
            "speed": 10000,
            "default_gateway": "10.0.2.1",
            "dns_domain": None,
            "ipv4": [{"address": f"10.0.2.{octet}", "prefix": "24"}],
            "ipv6": [{"address": f"{link_local}%6", "prefix": "64"}],
        }
    ]


def _hardware(host: WindowsHost) -> dict[str, Any]:
    seed = _seed(host, "bios")
    defaults: dict[str, Any] = {
        "bios_date": "06/10/2024",
        "bios_version": "Hyper-V UEFI Release v4.1",
        "product_name": "Virtual Machine",
        "system_vendor": "Microsoft Corporation",
        "product_serial": "-".join(f"{int.from_bytes(seed[i : i + 2], 'big'):04d}" for i in range(0, 12, 2)),
        "product_uuid": str(_uuid(seed)).upper(),
        "memtotal_mb": 8192,
        "memfree_mb": 5731,
        "pagefiletotal_mb": 1280,
        "pagefilefree_mb": 1229,
        "processor_name": "Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz",
        "processor_vendor": "GenuineIntel",
        "processor_count": 1,
        "processor_threads_per_core": 1,
    }
    return {**defaults, **(host.extra.get("hardware") or {})}


def _uuid(seed: bytes) -> str:
    h = seed[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def machine_sid(host: WindowsHost) -> str:
    seed = _seed(host, "sid")
    parts = [int.from_bytes(seed[i : i + 4], "big") for i in (0, 4, 8)]
    return "S-1-5-21-" + "-".join(str(p) for p in parts)


def reboot_pending(host: WindowsHost) -> bool:
    """setup.ps1 platform subset: PendingFileRenameOperations OR the CBS RebootPending key OR
    ServerManager RestartRequired; the host's own pending state (feature installs) counts as the latter."""
    renames = host.get_reg(r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager", "PendingFileRenameOperations")
    cbs = host.reg_key_exists(
        r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
    )
    server_manager = host.get_reg(
        r"HKLM:\SOFTWARE\Microsoft\ServerManager\ServicingStorage\ServerComponentCache", "RestartRequired"
    )
    features = any(f.install_pending for f in host.features.values())
    return bool(
        (renames and renames[1]) or cbs or (server_manager and server_manager[1]) or features or host.reboot_pending
    )


# --------------------------------------------------------------------------------------------
# subsets (setup.ps1 $factMeta, same order)


def _subset_ip_addresses(run: ModuleRun, facts: dict[str, Any]) -> None:
    ips: list[str] = []
    for nic in interfaces(run.host):
        for family in ("ipv6", "ipv4"):
            ips.extend(a["address"] for a in _as_list(nic.get(family)))
    facts["ansible_ip_addresses"] = ips


def _subset_bios(run: ModuleRun, facts: dict[str, Any]) -> None:
    hw = _hardware(run.host)
    facts["ansible_bios_date"] = hw["bios_date"]
    facts["ansible_bios_version"] = hw["bios_version"]
    facts["ansible_product_name"] = hw["product_name"]
    facts["ansible_product_serial"] = hw["product_serial"]
    facts["ansible_product_uuid"] = hw["product_uuid"]


def _epoch(moment: datetime.datetime) -> str:
    # Get-Date -UFormat '+%s' on PowerShell 5.1: seconds with the fraction, trailing zeros dropped.
    return f"{moment.timestamp():.7f}".rstrip("0").rstrip(".")


def _subset_date_time(run: ModuleRun, facts: dict[str, Any]) -> None:
    now = _sim_time(run.host)  # the simulated hosts run on UTC
    facts["ansible_date_time"] = {
        "date": now.strftime("%Y-%m-%d"),
        "day": now.strftime("%d"),
        "epoch_local": _epoch(now),
        "epoch": _epoch(now),
        "epoch_int": int(now.timestamp()),
        "hour": now.strftime("%H"),
        "iso8601": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso8601_basic": now.strftime("%Y%m%dT%H%M%S%f"),
        "iso8601_basic_short": now.strftime("%Y%m%dT%H%M%S"),
        "iso8601_micro": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "minute": now.strftime("%M"),
        "month": now.strftime("%m"),
        "second": now.strftime("%S"),
        "time": now.strftime("%H:%M:%S"),
        "tz": "UTC",
        "tz_offset": "+00:00",
        "weekday": now.strftime("%A"),
        "weekday_number": str(int(now.strftime("%w"))),
        "weeknumber": str(int(now.strftime("%W"))),
        "year": now.strftime("%Y"),
    }


def _subset_distribution(run: ModuleRun, facts: dict[str, Any]) -> None:
    host = run.host
    version = f"10.0.{host.build}.0"  # [Environment]::OSVersion.Version: the revision is always 0
    install_type = host.get_reg(_CURRENT_VERSION, "InstallationType")
    install_time = host.get_reg(_CURRENT_VERSION, "InstallTime")
    name = caption(host)
    facts["ansible_distribution"] = name
    facts["ansible_distribution_version"] = version
    facts["ansible_distribution_major_version"] = "10"
    facts["ansible_os_family"] = "Windows"
    facts["ansible_os_name"] = name
    facts["ansible_os_product_type"] = "server"
    facts["ansible_os_installation_type"] = install_type[1] if install_type else None
    facts["ansible_os_install_date"] = None
    if install_time:
        moment = datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
            microseconds=install_time[1] // 10
        )
        facts["ansible_os_install_date"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _process_env(host: WindowsHost) -> dict[str, str]:
    """The environment of the module's process: machine + user variables plus the per-process ones."""
    env = host.environment()
    env.setdefault("COMPUTERNAME", host.hostname)
    env.setdefault("USERDOMAIN", host.hostname)
    env.setdefault("PSExecutionPolicyPreference", "Unrestricted")
    return env


def _subset_env(run: ModuleRun, facts: dict[str, Any]) -> None:
    facts["ansible_env"] = {k: v.rstrip("\\") for k, v in _process_env(run.host).items()}


def _subset_facter(run: ModuleRun, facts: dict[str, Any]) -> None:
    for folder in _process_env(run.host).get("Path", "").split(";"):
        if folder.strip() and run.host.exists(folder.rstrip("\\") + "\\facter.exe"):
            raise SimulatorError(f"facter.exe found in {folder}: running facter is not emulated")


def _subset_interfaces(run: ModuleRun, facts: dict[str, Any]) -> None:
    out = []
    for nic in interfaces(run.host):
        entry = {k: nic.get(k) for k in ("connection_name", "default_gateway", "dns_domain", "interface_index")}
        entry["interface_name"] = nic.get("interface_name")
        # PowerShell pipeline unrolling: one address is a dict, several are a list.
        for family in ("ipv4", "ipv6"):
            addresses = _as_list(nic.get(family))
            entry[family] = addresses[0] if len(addresses) == 1 else (addresses or None)
        entry["macaddress"] = nic.get("macaddress")
        entry["mtu"] = nic.get("mtu")
        entry["speed"] = nic.get("speed")
        out.append(entry)
    facts["ansible_interfaces"] = out


def _subset_local(run: ModuleRun, facts: dict[str, Any]) -> None:
    fact_path = run.params.get("fact_path")
    if not fact_path:
        return
    host = run.host
    if not host.isdir(fact_path):
        run.warn(f"Non existing path was set for local facts - {fact_path}")
        return
    for entry in host.listdir(fact_path):
        if entry.is_dir:
            continue
        base, _, ext = entry.path.rsplit("\\", 1)[-1].rpartition(".")
        if ext == "json":  # -ccontains: the extension match is case-sensitive
            facts[f"ansible_{base}"] = json.loads(entry.data.decode("utf-8-sig"))
        elif ext == "ps1":
            raise SimulatorError(f"local fact script {entry.path} would have to run PowerShell: not emulated")


def _subset_memory(run: ModuleRun, facts: dict[str, Any]) -> None:
    hw = _hardware(run.host)
    facts["ansible_memtotal_mb"] = hw["memtotal_mb"]
    facts["ansible_memfree_mb"] = hw["memfree_mb"]
    facts["ansible_swaptotal_mb"] = 0
    facts["ansible_pagefiletotal_mb"] = hw["pagefiletotal_mb"]
    facts["ansible_pagefilefree_mb"] = hw["pagefilefree_mb"]


def _domain(host: WindowsHost) -> dict[str, Any]:
    return {"name": "WORKGROUP", "member": False, "dns_suffix": "", **(host.extra.get("domain") or {})}


def _subset_platform(run: ModuleRun, facts: dict[str, Any]) -> None:
    host = run.host
    domain = _domain(host)
    suffix = domain["dns_suffix"] if domain["member"] else ""
    fqdn = f"{host.hostname}.{suffix}" if suffix else host.hostname
    owner = host.get_reg(_CURRENT_VERSION, "RegisteredOwner")
    comment = host.get_reg(r"HKLM:\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters", "srvcomment")
    facts["ansible_domain"] = suffix
    facts["ansible_fqdn"] = fqdn
    facts["ansible_hostname"] = host.hostname
    facts["ansible_netbios_name"] = host.hostname.upper()
    facts["ansible_kernel"] = f"10.0.{host.build}.0"
    facts["ansible_nodename"] = fqdn
    facts["ansible_machine_id"] = machine_sid(host)
    facts["ansible_owner_name"] = str(owner[1]) if owner else ""
    facts["ansible_system"] = "Win32NT"
    facts["ansible_system_description"] = str(comment[1]) if comment else ""
    facts["ansible_system_vendor"] = _hardware(host)["system_vendor"]
    facts["ansible_architecture"] = "64-bit"
    facts["ansible_owner_contact"] = ""
    facts["ansible_reboot_pending"] = reboot_pending(host)
    facts["ansible_architecture2"] = "x86_64"


def _subset_powershell_version(run: ModuleRun, facts: dict[str, Any]) -> None:
    facts["ansible_powershell_version"] = 5


def _subset_processor(run: ModuleRun, facts: dict[str, Any]) -> None:
    hw = _hardware(run.host)
    vcpus = int(_process_env(run.host).get("NUMBER_OF_PROCESSORS", "1"))
    processors: list[str] = []
    for index in range(vcpus):
        processors += [str(index), hw["processor_vendor"], hw["processor_name"]]
    facts["ansible_processor"] = processors
    facts["ansible_processor_count"] = hw["processor_count"]
    facts["ansible_processor_vcpus"] = vcpus
    cores = max(1, vcpus // hw["processor_count"] // hw["processor_threads_per_core"])
    facts["ansible_processor_cores"] = cores
    facts["ansible_processor_threads_per_core"] = hw["processor_threads_per_core"]


def _subset_uptime(run: ModuleRun, facts: dict[str, Any]) -> None:
    now = _sim_time(run.host)
    boot = datetime.datetime.fromtimestamp(run.host.boot_time, datetime.UTC)
    facts["ansible_lastboot"] = boot.strftime("%Y-%m-%d %H:%M:%SZ")  # DateTime.ToString('u')
    facts["ansible_uptime_seconds"] = round((now - boot).total_seconds())


def _subset_user(run: ModuleRun, facts: dict[str, Any]) -> None:
    env = _process_env(run.host)
    facts["ansible_user_dir"] = env.get("USERPROFILE")
    facts["ansible_user_gecos"] = ""
    facts["ansible_user_id"] = env.get("USERNAME")
    facts["ansible_user_sid"] = machine_sid(run.host) + "-500"


def _subset_windows_domain(run: ModuleRun, facts: dict[str, Any]) -> None:
    domain = _domain(run.host)
    facts["ansible_windows_domain"] = domain["name"]
    facts["ansible_windows_domain_member"] = bool(domain["member"])
    facts["ansible_windows_domain_role"] = "Member server" if domain["member"] else "Stand-alone server"


def _subset_winrm(run: ModuleRun, facts: dict[str, Any]) -> None:
    cert = run.host.extra.get("winrm_certificate")  # set by the server when it listens on HTTPS
    if cert:
        facts["ansible_win_rm_certificate_expires"] = cert["not_after"]
        facts["ansible_win_rm_certificate_thumbprint"] = cert["thumbprint"]


def _subset_virtual(run: ModuleRun, facts: dict[str, Any]) -> None:
    model = _hardware(run.host)["product_name"]
    kinds = {"Virtual Machine": "Hyper-V", "VirtualBox": "VirtualBox", "KVM": "kvm"}
    kind = next((v for k, v in kinds.items() if model == k), None) or (
        "VMware" if model.lower().startswith("vmware") else None
    )
    facts["ansible_virtualization_role"] = "guest" if kind else "NA"
    facts["ansible_virtualization_type"] = kind or "NA"


def _as_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


_Subset = Callable[[ModuleRun, dict[str, Any]], None]
_FACT_META: tuple[tuple[tuple[str, ...], _Subset], ...] = (
    (("all_ipv4_addresses", "all_ipv6_addresses"), _subset_ip_addresses),
    (("bios",), _subset_bios),
    (("date_time",), _subset_date_time),
    (("distribution",), _subset_distribution),
    (("env",), _subset_env),
    (("facter",), _subset_facter),
    (("interfaces",), _subset_interfaces),
    (("local",), _subset_local),
    (("memory",), _subset_memory),
    (("platform",), _subset_platform),
    (("powershell_version",), _subset_powershell_version),
    (("processor",), _subset_processor),
    (("uptime",), _subset_uptime),
    (("user",), _subset_user),
    (("windows_domain",), _subset_windows_domain),
    (("winrm",), _subset_winrm),
    (("virtual",), _subset_virtual),
)


def selected_subsets(gather_subset: list[str], warn: Callable[[str], None]) -> set[str]:
    """setup.ps1's subset arithmetic: start from all, remove ``!x``, add explicit ones."""
    groups = {**_GROUPS, "all": tuple(sorted(_ALL))}
    actual, explicit, exclude = set(_ALL), set(), set()
    for item in gather_subset:
        if item.startswith("!"):
            name = item[1:]
            if name == "all":
                exclude |= _ALL - set(_GROUPS["min"])
            elif name in groups:
                exclude |= set(groups[name])
            elif name in _ALL:
                exclude.add(name)
        elif item in groups:
            explicit |= set(groups[item])
        elif item in _ALL:
            explicit.add(item)
        else:
            warn(f"invalid value {item} specified in gather_subset")
    return (actual - exclude) | explicit


@emulates(
    "ansible.windows.setup",
    # setup.ps1 lines 24-49: any option the gather_facts action passes that the spec does not know
    # is added as `type = 'raw'` instead of being refused.
    SpecOverrides(accept_unknown_as_raw=True),
)
def setup(run: ModuleRun) -> None:
    gather_subset = run.params["gather_subset"]
    subsets = selected_subsets(gather_subset, run.warn)
    facts: dict[str, Any] = {"gather_subset": gather_subset, "module_setup": True}
    if run.params["_measure_subset"]:
        facts["measure_info"] = {}
    for names, collect in _FACT_META:
        if subsets.intersection(names):
            collect(run, facts)
            if run.params["_measure_subset"]:
                facts["measure_info"][", ".join(names)] = 0.0  # nothing to measure: no real collection runs
    run.result["ansible_facts"] = facts
