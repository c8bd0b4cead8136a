# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about a Windows node, built from what the host reports (pure: no I/O).

``release_info`` is the one description of a Windows Server release that both the
``windows_release`` filter and the ``windows_facts`` module return; ``windows_node_facts`` adds
what only the live host knows (revision, edition, installation type, pending reboot).
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ansible_collections.winkube.node.plugins.module_utils import kubernetes as _kubernetes
from ansible_collections.winkube.node.plugins.module_utils import windows as _windows
from ansible_collections.winkube.node.plugins.module_utils.versions import Version

# The registry values the windows_facts probe reads from
# HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion, plus its RebootPending flag.
PROBE_KEYS = (
    "CurrentBuildNumber",
    "UBR",
    "DisplayVersion",
    "ReleaseId",
    "EditionID",
    "InstallationType",
    "ProductName",
    "RebootPending",
)


def release_info(
    version: _windows.WindowsVersion, channel: Optional[str] = None, kubernetes: Optional[Version] = None
) -> Dict[str, Any]:
    """Describe the release of ``version`` and whether ``kubernetes`` (default: current) supports it."""
    release = _windows.release_for_build(version.build, channel)
    target = kubernetes or _kubernetes.CURRENT_KUBERNETES
    return {
        "build": version.build,
        "revision": version.revision,
        "os_version": version.os_version,
        "windows_build_label": version.node_label,
        "id": release.id,
        "name": release.name,
        "channel": release.channel,
        "release": release.release,
        "version_tag": release.version_tag,
        "host_only": release.host_only,
        "image_build": release.image_build,
        "image_tags": {repo: list(tags) for repo, tags in release.image_tags},
        "lifecycle": {
            "availability": release.availability,
            "mainstream_end": release.mainstream_end,
            "extended_end": release.extended_end,
        },
        "status": release.status,
        "source": release.source,
        "shares_build_with": list(_windows.shares_build_with(release)),
        "kubernetes_supported": _kubernetes.windows_supported(release, target),
        "kubernetes_version": target.minor_text,
        "supported_kubernetes_minors": [
            f"1.{minor}"
            for row in _kubernetes.WINDOWS_SUPPORT
            if release.id in row.releases
            for minor in range(row.first_minor, row.last_minor + 1)
        ],
    }


def _int_value(raw: Mapping[str, Any], key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"the host reported no {key} (got {value!r})")
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"the host reported {key} {value!r}, which is not a number") from None


def _text_value(raw: Mapping[str, Any], key: str) -> Optional[str]:
    value = raw.get(key)
    return None if value in (None, "") else str(value)


def windows_node_facts(raw: Mapping[str, Any], kubernetes: Optional[Version] = None) -> Dict[str, Any]:
    """Build the ``windows_node`` facts from the probe's object.

    Raises ValueError with what was wrong when the host's values are missing or the build is one
    the knowledge base does not know (never guesses a release).
    """
    build = _int_value(raw, "CurrentBuildNumber")
    revision = _int_value(raw, "UBR") if raw.get("UBR") not in (None, "") else None
    version = _windows.parse_windows_version(
        f"10.0.{build}" if revision is None else f"10.0.{build}.{revision}", "the host's Windows version"
    )
    installation_type = _text_value(raw, "InstallationType")
    if installation_type == "Client":
        # 26100 is both Windows 11 24H2 and Windows Server 2025: only InstallationType tells them apart.
        raise ValueError(
            f"build {build} is a Windows client (InstallationType Client, {raw.get('ProductName')!r}); "
            "Kubernetes Windows nodes must run Windows Server"
        )
    facts = release_info(version, None, kubernetes)
    facts.update(
        {
            "display_version": _text_value(raw, "DisplayVersion") or _text_value(raw, "ReleaseId"),
            "edition": _text_value(raw, "EditionID"),
            "product_name": _text_value(raw, "ProductName"),
            "installation_type": installation_type,
            "server_core": installation_type == "Server Core",
            "reboot_pending": bool(raw.get("RebootPending")),
            "supported": facts["kubernetes_supported"],
        }
    )
    return facts
