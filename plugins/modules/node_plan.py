#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/node_plan.py.

DOCUMENTATION = r"""
---
module: node_plan
short_description: Resolve and check the plan of a Windows node before anything changes
version_added: 0.1.0
description:
  - Resolves, on the controller, what a Windows node will get (Kubernetes version, container runtime and its
    version, pause image, config schema, download URLs with checksums, paths, registry mirrors, proxy environment)
    and returns it as the C(winkube_plan) fact that later roles act on.
  - Checks every version rule of the collection's knowledge base first and fails with one message naming the host,
    with one line per broken rule saying what is wrong and what would work. The rules are that the Windows build is
    supported by the Kubernetes version and still serviced by Microsoft, that the containerd version is accepted by
    that Kubernetes version (containerd older than 1.4 never is), that the pause image and every declared workload
    image run on the host build with process isolation, that kubelet, kube-proxy and kubeadm keep the version skew
    policy against O(winkube_apiserver_version) when it is given, and that every download has a checksum.
  - Makes no connection to the host and changes nothing; it only reads the options and the O(windows_node) fact.
options:
  windows_node:
    description:
      - The C(windows_node) fact that M(winkube.node.windows_facts) returns for this host. Its C(os_version) (or
        C(build)) and C(id) are used; the support it reports is recomputed for the planned Kubernetes version.
    type: dict
    required: true
  hostname:
    description:
      - The host name used in the failure message.
      - Defaults to C(inventory_hostname).
    type: str
  winkube_kubernetes_version:
    description:
      - The Kubernetes version of kubelet, kubeadm and kube-proxy on the node, as C(X.Y.Z) with an optional leading
        C(v). Only versions the knowledge base covers for Windows nodes are accepted (1.24 to 1.36).
      - Quote it in YAML; an unquoted C(1.30) is the number 1.3 and is refused.
    type: raw
    default: 1.36.4
  winkube_container_runtime:
    description:
      - The container runtime, C(containerd) or C(mcr) (Mirantis Container Runtime with cri-dockerd).
    type: str
    default: containerd
  winkube_pause_image_profile:
    description:
      - Which pause image the node uses. C(production) is the Microsoft-signed
        C(mcr.microsoft.com/oss/kubernetes/pause:3.6), C(upstream) is C(registry.k8s.io/pause:3.6).
    type: str
    default: production
  winkube_pause_image:
    description:
      - An explicit pause image reference that replaces the profile's image (C(pause_image_source=override)).
      - Its Windows variants are checked when the knowledge base knows them (C(registry.k8s.io/pause) tags and the
        C(mcr.microsoft.com/oss/kubernetes/pause) tags C(3.6) and C(3.9)); otherwise the plan records
        C(pause_image_checked=false) with the reason and the runtime's pull is the check.
    type: str
  winkube_apiserver_version:
    description:
      - The version of the cluster's kube-apiserver, C(X.Y) or C(X.Y.Z). When given, kubelet, kube-proxy and kubeadm
        at O(winkube_kubernetes_version) must keep the upstream version skew policy against it. The join role checks
        the live API server too.
    type: raw
  winkube_kubernetes_download_base_url:
    description:
      - Base URL of the Kubernetes release binaries (the C(dl.k8s.io) layout,
        C(<base>/v<X.Y.Z>/bin/windows/amd64/<component>.exe) with a C(.sha256) file beside each).
      - Defaults to C(https://dl.k8s.io).
    type: str
  winkube_registry_mirrors:
    description:
      - A mapping of registry host (with an optional C(:port)) to a non-empty list of C(https://) or C(http://)
        mirror endpoints, for example C(docker.io) to C([https://mirror.example]).
    type: raw
  winkube_proxy:
    description:
      - A mapping with the optional keys C(http_proxy), C(https_proxy) (URLs with scheme C(http), C(https) or
        C(socks5)) and C(no_proxy) (a comma-separated string or a list).
      - With a proxy, the plan's C(service_environment) carries C(HTTP_PROXY), C(HTTPS_PROXY) and C(NO_PROXY); the
        cluster-internal destinations C(localhost), C(127.0.0.1), O(winkube_service_cidr), O(winkube_pod_cidr),
        C(.svc) and C(.cluster.local) are added to C(NO_PROXY).
      - Credentials in proxy URLs never appear in failure messages (C(user:pass@) is shown as C(***@)).
    type: raw
  winkube_service_cidr:
    description:
      - The cluster's service CIDR (dual-stack as a comma-separated string or a list), added to C(NO_PROXY).
    type: raw
  winkube_pod_cidr:
    description:
      - The cluster's pod CIDR (dual-stack as a comma-separated string or a list), added to C(NO_PROXY).
    type: raw
  containerd_version:
    description:
      - The containerd release, C(X.Y.Z). It must be accepted by O(winkube_kubernetes_version).
      - Defaults to the newest release the knowledge base knows and accepts for that Kubernetes version.
      - Used with O(winkube_container_runtime=containerd) only.
    type: raw
  containerd_download_base_url:
    description:
      - Base URL of the containerd releases (the GitHub layout,
        C(<base>/v<X.Y.Z>/containerd-<X.Y.Z>-windows-amd64.tar.gz) with a C(.sha256sum) file beside it).
      - Defaults to C(https://github.com/containerd/containerd/releases/download).
    type: str
  mcr_channel:
    description:
      - The MCR channel, C(stable), C(test), C(stable-<major.minor>), C(stable-<major.minor.patch>), C(stable/fips) or
        C(stable-<version>/fips).
      - Defaults to C(stable). Used with O(winkube_container_runtime=mcr) only.
    type: str
  mcr_version:
    description:
      - The MCR release, C(X.Y.Z). When not given, the installer installs the newest release of the channel.
    type: raw
  mcr_installer_sha256:
    description:
      - The SHA-256 of the MCR installer script C(https://get.mirantis.com/install.ps1), 64 hex digits.
      - Required with O(winkube_container_runtime=mcr); Mirantis publishes no checksum for the script and every
        download needs one.
    type: str
  cri_dockerd_version:
    description:
      - The cri-dockerd release, C(X.Y.Z); MCR always needs cri-dockerd (dockershim left kubelet in Kubernetes 1.24).
      - Defaults to C(0.4.3), the newest tag the knowledge base knows.
    type: raw
  cri_dockerd_sha256:
    description:
      - The SHA-256 of the cri-dockerd Windows release zip, 64 hex digits.
      - Required with O(winkube_container_runtime=mcr); cri-dockerd releases publish no checksum files.
    type: str
  preflight_workload_images:
    description:
      - Workload images that must run on this node, each a mapping with C(image) (a reference, for the message) and
        C(os_version) (the image's C(os.version) such as C(10.0.20348.2527), or a base image tag such as
        C(ltsc2022)). Each must run on the host build with process isolation.
    type: raw
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  facts:
    support: full
  platform:
    support: full
    platforms: windows
notes:
  - Runs on the controller only and makes no remote call, so it works in check mode and before the host is
    reachable over anything but the facts already gathered.
  - The plan's C(service_environment) has proxy credentials masked (C(***@)), so the plan can be shown.
    The real entries come from the filter C(winkube.node.service_environment), which the preflight role
    keeps in the C(preflight_service_environment) fact under C(no_log).
  - C(registry_mirrors) contains mirror URLs as given; do not put credentials in mirror URLs (use the runtime's
    registry authentication instead).
seealso:
  - module: winkube.node.windows_facts
"""

EXAMPLES = r"""
- name: Read the Windows build
  winkube.node.windows_facts:

- name: Resolve and check the plan
  winkube.node.node_plan:
    windows_node: "{{ windows_node }}"
    winkube_kubernetes_version: "1.36.4"
    winkube_apiserver_version: "1.36"
    preflight_workload_images:
      - image: registry.example/shop/web:2.1
        os_version: 10.0.20348.2527

- name: Mirantis Container Runtime behind a proxy
  winkube.node.node_plan:
    windows_node: "{{ windows_node }}"
    winkube_container_runtime: mcr
    mcr_installer_sha256: "{{ mcr_installer_sha256 }}"
    cri_dockerd_version: "0.4.3"
    cri_dockerd_sha256: "{{ cri_dockerd_sha256 }}"
    winkube_proxy:
      https_proxy: http://proxy.example:3128
      no_proxy: [".corp.example"]
    winkube_service_cidr: 10.96.0.0/12
"""

RETURN = r"""
msg:
  description:
    - On failure, the one preflight message, C(winkube.node preflight failed for <host>:) followed by one line
      C(- [<rule>] <what is wrong>; <what would work>) per violation.
  returned: failure
  type: str
  sample: |-
    winkube.node preflight failed for win-node-1:
    - [containerd.kubernetes_support] containerd 1.7.20 is older than 1.7.28: ...; set containerd_version to ...
violations:
  description: On failure, every violation found.
  returned: failure
  type: list
  elements: dict
  contains:
    rule:
      description:
        - The rule broken, for example C(build.kubernetes_support), C(build.end_of_life), C(kubernetes.version),
          C(containerd.windows_minimum), C(containerd.kubernetes_support), C(pause.image), C(workload.image),
          C(skew.kubelet), C(skew.kube-proxy), C(skew.kubeadm), C(checksum.<input>), C(host.windows_node),
          C(input.<input>) for a bad value and C(input.unknown).
      type: str
      sample: skew.kubelet
    problem:
      description: What is wrong.
      type: str
      sample: kubelet 1.36 is newer than kube-apiserver 1.32; kubelet must not be newer than kube-apiserver
    fix:
      description: What would work.
      type: str
      sample: set winkube_kubernetes_version to 1.32.z, which kubelet, kube-proxy and kubeadm all accept
    message:
      description: C(<problem>; <fix>).
      type: str
      sample: kubelet 1.36 is newer than kube-apiserver 1.32; set winkube_kubernetes_version to 1.32.z
ansible_facts:
  description: Facts added to the host.
  returned: success
  type: dict
  contains:
    winkube_plan:
      description: The resolved plan of the node; later roles read only this.
      returned: success
      type: dict
      contains:
        kubernetes_version:
          description: The Kubernetes version of kubelet, kubeadm and kube-proxy, C(X.Y.Z).
          type: str
          returned: success
          sample: 1.36.4
        kubernetes_minor:
          description: Its minor, C(X.Y).
          type: str
          returned: success
          sample: "1.36"
        apiserver_version:
          description: O(winkube_apiserver_version) as checked, or null when it was not given.
          type: str
          returned: success
          sample: "1.36"
        runtime:
          description: C(containerd) or C(mcr).
          type: str
          returned: success
          sample: containerd
        runtime_version:
          description:
            - The containerd version, or with C(mcr) the MCR version (null when the installer picks the channel's
              newest).
          type: str
          returned: success
          sample: 2.3.5
        containerd:
          description: The containerd plan; null with C(mcr).
          type: dict
          returned: success
          contains:
            version:
              description: The containerd release.
              type: str
              sample: 2.3.5
            config_schema:
              description:
                - The C(version) of config.toml to write (C(write)) and the newest the release knows (C(latest)).
              type: dict
              sample: {"write": 3, "latest": 4}
            install_dir:
              description: Where containerd is installed.
              type: str
              sample: C:\Program Files\containerd
            config_path:
              description: The config.toml path.
              type: str
              sample: C:\Program Files\containerd\config.toml
            root:
              description: containerd's root directory.
              type: str
              sample: C:\ProgramData\containerd\root
            state:
              description: containerd's state directory.
              type: str
              sample: C:\ProgramData\containerd\state
            cni_bin_dir:
              description: The CNI plugin directory.
              type: str
              sample: C:\Program Files\containerd\cni\bin
            cni_conf_dir:
              description: The CNI configuration directory.
              type: str
              sample: C:\Program Files\containerd\cni\conf
            pipe:
              description: containerd's gRPC named pipe.
              type: str
              sample: \\.\pipe\containerd-containerd
            service_name:
              description: The Windows service name.
              type: str
              sample: containerd
            release:
              description:
                - The release tarball C(url), its C(checksum_url) and C(checksum_format) (C(sha256sum), a
                  C(hash  filename) line).
              type: dict
              sample:
                url: https://github.com/containerd/containerd/releases/download/v2.3.5/containerd-2.3.5-windows-amd64.tar.gz
                checksum_url: https://github.com/containerd/containerd/releases/download/v2.3.5/containerd-2.3.5-windows-amd64.tar.gz.sha256sum
                checksum_format: sha256sum
        mcr:
          description: The Mirantis Container Runtime plan; null with C(containerd).
          type: dict
          returned: success
          contains:
            channel:
              description: The MCR channel.
              type: str
              sample: stable
            version:
              description: The MCR version, or null for the channel's newest.
              type: str
              sample: 25.0.14
            installer_url:
              description: The installer script.
              type: str
              sample: https://get.mirantis.com/install.ps1
            installer_sha256:
              description: Its SHA-256, from O(mcr_installer_sha256).
              type: str
            download_url:
              description: The package repository the installer reads (its C(DOWNLOAD_URL)).
              type: str
              sample: https://repos.mirantis.com
            reboot_exit_code:
              description: The installer's exit code for "installed, reboot required".
              type: int
              sample: 3010
            service_name:
              description: The engine's Windows service.
              type: str
              sample: com.docker.service
            data_root:
              description: The engine's data root.
              type: str
              sample: C:\ProgramData\Docker
            cri_dockerd:
              description:
                - cri-dockerd, C(version), release zip C(url), C(sha256) (from O(cri_dockerd_sha256)), C(exe_in_zip),
                  the CRI C(endpoint) and its default C(cni_bin_dir) and C(cni_conf_dir).
              type: dict
        cri_endpoint:
          description: The CRI endpoint kubelet uses.
          type: str
          returned: success
          sample: npipe:////./pipe/containerd-containerd
        pause_image:
          description: The pause (sandbox) image.
          type: str
          returned: success
          sample: mcr.microsoft.com/oss/kubernetes/pause:3.6
        pause_image_profile:
          description: The profile, C(production) or C(upstream).
          type: str
          returned: success
          sample: production
        pause_image_source:
          description: C(profile) when the image comes from the profile, C(override) when O(winkube_pause_image) set it.
          type: str
          returned: success
          sample: profile
        pause_image_checked:
          description:
            - Whether a Windows variant of the image was found that runs on the host with process isolation under
              both Microsoft's rule and the planned containerd's manifest matcher.
            - False with the reason in C(pause_image_check) when that could not be decided (unknown image, a
              containerd release whose matcher is not modelled, MCR); the runtime's pull is then the check.
          type: bool
          returned: success
          sample: true
        pause_image_check:
          description: What was checked, or why not.
          type: str
          returned: success
        pause_image_variants:
          description: The image's Windows variants that run on the host (empty when not checked).
          type: list
          elements: str
          returned: success
          sample: ["ltsc2022"]
        workload_images:
          description:
            - The O(preflight_workload_images) as checked, each with C(image), C(os_version), C(checked) (false when
              only Microsoft's rule could be evaluated) and the C(reason).
          type: list
          elements: dict
          returned: success
        kubernetes_binaries:
          description:
            - Every Windows binary of the release the roles may download - C(kubelet), C(kubeadm), C(kube-proxy),
              C(kubectl) and C(kube-log-runner) - each with C(url), C(checksum_url) and C(checksum_format)
              (C(sha256), a file holding only the hex digest). kubectl comes from the C(/release/) path.
          type: dict
          returned: success
          sample:
            kubelet:
              url: https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe
              checksum_url: https://dl.k8s.io/v1.36.4/bin/windows/amd64/kubelet.exe.sha256
              checksum_format: sha256
        kubernetes_paths:
          description:
            - Where kubeadm and kubelet keep their files on Windows (their Linux-style paths resolved on C(C:)),
              C(bin_dir), C(kubernetes_dir), C(pki_dir), C(manifests_dir), C(ca_cert), C(kubelet_conf),
              C(bootstrap_kubelet_conf), C(kubelet_dir), C(kubelet_config), C(kubeadm_flags_env), C(kubelet_cert_dir),
              C(kubelet_pki_link) (a link to C(pki_dir)) and C(kubelet_log_dir).
          type: dict
          returned: success
          sample: {"kubernetes_dir": "C:\\etc\\kubernetes", "kubelet_dir": "C:\\var\\lib\\kubelet"}
        registry_mirrors:
          description: O(winkube_registry_mirrors), validated (empty when not given).
          type: dict
          returned: success
          sample: {"docker.io": ["https://mirror.example"]}
        service_environment:
          description:
            - C(NAME=value) entries for the runtime and kubelet services, empty without a proxy. Proxy credentials are
              masked as C(***@); the filter winkube.node.service_environment gives the real entries.
          type: list
          elements: str
          returned: success
          sample:
            - HTTPS_PROXY=http://proxy.example:3128
            - NO_PROXY=localhost,127.0.0.1,10.96.0.0/12,.svc,.cluster.local
        host:
          description:
            - The host as planned, C(build), C(revision), C(os_version), C(windows_build_label), C(id), C(name),
              C(release) (Microsoft's version label), C(channel) and C(version_tag).
          type: dict
          returned: success
          sample: {"build": 20348, "name": "Windows Server 2022", "release": "21H2", "version_tag": "ltsc2022"}
        warnings:
          description:
            - Things that do not stop the plan but need attention, such as a Windows release nearing the end of its
              Kubernetes support or a containerd line past or near its end of life. Also shown as task warnings.
          type: list
          elements: str
          returned: success
"""
