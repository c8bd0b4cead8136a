#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/image_signature.py.

DOCUMENTATION = r"""
---
module: image_signature
short_description: Verify the Authenticode signature of a Windows image's executable and pin the image by digest
version_added: 0.1.0
description:
  - Reads an image from its OCI registry on the controller, selects the manifest a Windows host of
    O(windows_build) pulls (by the rules of containerd's platform matcher, the knowledge base's
    C(select_manifest)), fetches that manifest's layers with digest verification, finds O(executable) in them
    (Windows layers keep the file system under C(Files/); whiteouts are honoured, the top layer wins) and verifies
    its Authenticode signature.
  - The signature is checked with C(lief) (the PE digest and the signer's signature) and the chain with
    C(pyhanko-certvalidator) (to the trusted roots, with the code-signing extended key usage). A timestamp
    countersignature (RFC 3161 or PKCS#9) whose own chain leads to a trusted root with the time-stamping usage sets
    the validation time, so a binary signed with a since-expired certificate stays valid; otherwise the current time
    is used. Revocation is not checked.
  - Returns the digests and O(image) pinned by digest (C(pinned_image)), for the runtime roles to configure, so that
    every node pulls exactly the content that was checked.
  - Fails with the reason when the registry is unreachable, refuses access, the reference does not exist, a
    document or layer does not match its digest, no manifest fits the build (listing the C(os.version)s the index
    has), or the executable is not in the image; and, with O(fail_on_unsigned), when the status is not C(valid).
options:
  containerd_version:
    description:
      - The containerd release of the node, C(X.Y.Z); its platform matcher selects the manifest.
      - Without it (Mirantis Container Runtime, whose engine's matcher is not modelled) Microsoft's process
        isolation rule selects, and more than one fitting manifest fails instead of being guessed.
    type: raw
  executable:
    description:
      - The file to verify, as a path inside the container (C(/pause.exe), C(C:\pause.exe) and C(pause.exe) are the
        same file; case does not matter, as on Windows).
      - The default is where the Kubernetes pause image for Windows, which Microsoft's signed image is built from,
        puts its entry point.
    type: str
    default: /pause.exe
  fail_on_unsigned:
    description:
      - Whether a status other than C(valid) (C(unsigned), C(invalid), C(untrusted)) fails the task. The results
        are returned either way.
    type: bool
    default: true
  image:
    description:
      - The image reference, C([registry[:port]/]repository[:tag][@sha256:digest]). A tag or a digest is required.
      - A name without a registry is on C(docker.io).
    type: str
    required: true
  proxy:
    description:
      - An HTTP(S) proxy URL for every request to the registry, its mirrors and its token service.
      - Without it the controller's environment applies (C(HTTPS_PROXY), C(HTTP_PROXY), C(NO_PROXY)).
    type: str
  registry_ca_bundle:
    description:
      - A PEM file on the controller with the CA certificates that sign the registry's (and its mirrors' and token
        service's) TLS certificates. Without it the controller's default trust store is used.
    type: path
  registry_insecure:
    description:
      - Talk plain HTTP to the registry, and allow C(http://) mirrors and token services. Only for a registry of
        your own, such as a local one in tests.
    type: bool
    default: false
  registry_mirrors:
    description:
      - Registry mirrors, the C(winkube_registry_mirrors) mapping of registry host to a list of endpoint URLs (the
        plan's C(registry_mirrors)). The mirrors of the image's registry are tried in order, then the registry itself,
        as containerd does with the C(hosts.toml) the containerd role writes from the same mapping.
    type: dict
    default: {}
  registry_password:
    description:
      - The password or token for O(registry_username).
    type: str
  registry_username:
    description:
      - A user name for the registry, sent as basic authentication to the registry or to the token service its
        C(WWW-Authenticate) challenge names. Never sent to a mirror.
    type: str
  timeout:
    description:
      - Seconds to wait for each connection and read.
    type: int
    default: 60
  trusted_ca_bundle:
    description:
      - A PEM file on the controller with the root certificates an Authenticode signature must chain to, for
        enterprise signing or tests. It replaces the default roots.
      - The default roots are Microsoft's code-signing roots, Microsoft Root Certificate Authority 2011 and 2010,
        shipped with the collection as public certificates whose fingerprints are pinned (module_utils
        C(authenticode_roots.py) names their source).
    type: path
  windows_build:
    description:
      - The Windows build of the host the image is for, C(10.0.B[.R]), C(B) or the integer B, such as the
        C(os_version) of the C(windows_node) fact.
    type: raw
    required: true
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  platform:
    support: full
    platforms: windows
notes:
  - Runs on the controller only; it contacts the registry (and mirrors, token service, proxy) but never the host, so
    it is usually run once per distinct build with C(run_once) or a loop.
  - O(registry_username) and O(registry_password) are never logged.
seealso:
  - module: winkube.node.node_plan
"""

EXAMPLES = r"""
- name: Verify Microsoft's signed pause image for a Windows Server 2022 node with containerd 2.1.5
  winkube.node.image_signature:
    image: mcr.microsoft.com/oss/kubernetes/pause:3.6
    windows_build: 10.0.20348
    containerd_version: "2.1.5"
  register: pause_signature

- name: Enterprise-signed image in a private registry, through a proxy, reported but not enforced
  winkube.node.image_signature:
    image: registry.corp.example/base/pause:3.9
    windows_build: "{{ windows_node.os_version }}"
    trusted_ca_bundle: /etc/pki/corp-codesign-roots.pem
    registry_ca_bundle: /etc/pki/corp-tls-roots.pem
    registry_username: "{{ registry_user }}"
    registry_password: "{{ registry_token }}"
    proxy: http://proxy.corp.example:3128
    fail_on_unsigned: false
"""

RETURN = r"""
index_digest:
  description: The digest of the image index the reference names; null when it names a single manifest.
  returned: success
  type: str
  sample: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
manifest_digest:
  description: The digest of the manifest the host build pulls, whose layers were read.
  returned: success
  type: str
  sample: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
os_version:
  description: The C(os.version) of that manifest (empty when the index declares none).
  returned: success
  type: str
  sample: 10.0.20348.169
pinned_image:
  description:
    - The image pinned by digest, C(repo:tag@sha256:...), with the index digest when the reference names an index
      (nodes of every build then pull the same index and select the manifest verified for their build), else with
      the manifest digest.
  returned: success
  type: str
  sample: >-
    mcr.microsoft.com/oss/kubernetes/pause:3.6@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
signed:
  description: Whether the executable carries an Authenticode signature (true for C(valid), C(invalid), C(untrusted)).
  returned: success
  type: bool
  sample: true
status:
  description:
    - C(valid) (the signature fits the file and chains to a trusted root with the code-signing usage at the
      validation time), C(unsigned) (no signature), C(invalid) (not a PE, or the file or a timestamp does not fit
      the signature, e.g. changed after signing) or C(untrusted) (the signature fits but its chain does not lead to a
      trusted root, lacks the code-signing usage, or was not valid at the validation time).
  returned: success
  type: str
  sample: valid
signer:
  description: The signer certificate's subject (RFC 4514), null when unsigned.
  returned: success
  type: str
  sample: CN=Microsoft Corporation,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US
msg:
  description:
    - What was checked and the verdict with its reason (the executable's sha256 and layer, the signer, the validation
      time), or why the image could not be checked.
  returned: always
  type: str
  sample: >-
    mcr.microsoft.com/oss/kubernetes/pause:3.6 for Windows build 20348: /pause.exe (sha256:..., layer sha256:...) is
    valid: signed by CN=Microsoft Corporation,...; validated at the time of its timestamp countersignature (...)
"""
