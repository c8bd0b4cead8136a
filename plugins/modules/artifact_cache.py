#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# This is a documentation stub: the module is the action plugin plugins/action/artifact_cache.py.

DOCUMENTATION = r"""
---
module: artifact_cache
short_description: Download each file once into the controller's artifact cache, verified by its SHA-256
version_added: 0.1.0
description:
  - Makes sure every file of O(files) is in the controller folder O(cache) as C(<cache>/<sha256>/<name>), complete
    and with its SHA-256, so the nodes can receive it with M(ansible.windows.win_copy) instead of each downloading it.
    This is what C(winkube_artifact_cache) does in the winkube.node.containerd and winkube.node.kubernetes roles.
  - A file already there with its digest is reused. It is hashed again unless it is unchanged since it was last
    hashed (a C(.<name>.verified) stamp beside it records the digest with the file's device, inode, size,
    modification and status-change times; every node's task asks for the same files, so they are hashed once per
    change, not once per node). A damaged file is never passed on; it is removed and downloaded again.
  - Otherwise it is downloaded into a temporary file in the same folder, verified, and only then renamed into place;
    a digest mismatch or a failed download leaves nothing of the download behind (the digest folder keeps only its
    lock file) and fails with the file, its URL, the expected digest and what was received.
  - Every host of a play may run the task at the same time (one fork each). The download runs under an exclusive
    lock on C(<cache>/<sha256>/.lock), so each file is downloaded once per cache, and the other forks find it
    verified when they get the lock.
  - The folder is named after the digest, so files of the same content share one download, and a new published
    digest is a new folder, never an old file reused.
  - Runs on the controller only and never contacts the host. It also downloads in check mode, since the cache is
    the controller's own and no node changes; a check run can then compare the nodes against the cached files.
options:
  cache:
    description:
      - An absolute folder on the controller, created when missing. The controller's user must be able to write it.
    type: path
    required: true
  delay:
    description:
      - Seconds to wait before trying a failed download (or checksum file) again.
    type: float
    default: 2.0
  files:
    description:
      - The files to cache. A failing file does not stop the others; the task fails after trying them all.
    type: list
    elements: dict
    required: true
    suboptions:
      checksum_url:
        description:
          - Where the SHA-256 of the file is published, read on the controller when O(files[].sha256) is not
            given, either a C(.sha256) file holding only the digest (dl.k8s.io) or a C(.sha256sum) line
            C(<digest>  <name>) whose name must be the last segment of O(files[].url) (GitHub releases).
          - With O(files[].sha256) too (a digest read from here before), it is not read again and only names the
            source of the digest in messages. One of the two is required.
        type: str
      name:
        description:
          - The file name in the cache, a plain name (letters, digits, C(.), C(_), C(+), C(-); no folder, no leading
            dot).
        type: str
        required: true
      sha256:
        description:
          - The expected SHA-256 of the file, 64 hex digits (case does not matter).
          - When given, O(files[].checksum_url) is not read. One of the two is required.
        type: str
      url:
        description:
          - The http(s) URL of the file. Redirects are followed.
        type: str
        required: true
      validate_certs:
        description:
          - Whether the TLS certificates of O(files[].url) and O(files[].checksum_url) are verified.
        type: bool
        default: true
  retries:
    description:
      - How many more times a failed download (a digest mismatch included) or checksum file is tried.
    type: int
    default: 2
  timeout:
    description:
      - Seconds to wait for the connection and for each read.
    type: int
    default: 60
author:
  - winkube.node maintainers (@winkube)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - winkube.node.controller_action
attributes:
  platform:
    support: full
    platforms: all
notes:
  - The requests are made with ansible's C(open_url), like M(ansible.builtin.get_url) on the controller, so the
    controller's proxy environment (C(HTTPS_PROXY), C(HTTP_PROXY), C(NO_PROXY)) applies.
  - The cache is never pruned; remove folders of digests no longer used yourself. Folders of the layout before
    this module (C(<cache>/kubernetes/<sha256>/<name>)) are no longer read and can be removed.
  - The controller needs C(flock) locks on the cache folder (a local file system; NFS only with working locks).
seealso:
  - module: ansible.windows.win_copy
  - module: ansible.builtin.get_url
"""

EXAMPLES = r"""
- name: Cache the containerd release archive once for every node, verified against the published checksum
  winkube.node.artifact_cache:
    cache: /var/cache/winkube
    files:
      - name: containerd-2.1.5-windows-amd64.tar.gz
        url: https://github.com/containerd/containerd/releases/download/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz
        checksum_url: >-
          https://github.com/containerd/containerd/releases/download/v2.1.5/containerd-2.1.5-windows-amd64.tar.gz.sha256sum
  register: cached

- name: Copy the verified archive to the node
  ansible.windows.win_copy:
    src: "{{ cached.files[0].path }}"
    dest: C:\Program Files\containerd\staging\2.1.5\{{ cached.files[0].name }}

- name: Cache files whose digests were read before
  winkube.node.artifact_cache:
    cache: /var/cache/winkube
    files:
      - name: kubelet.exe
        url: https://dl.k8s.io/v1.34.1/bin/windows/amd64/kubelet.exe
        sha256: "{{ kubelet_sha256 }}"
    retries: 4
"""

RETURN = r"""
files:
  description:
    - The verified files in the order of O(files) (on failure, those that were cached).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file name.
      type: str
      sample: kubelet.exe
    url:
      description: Where it comes from.
      type: str
      sample: https://dl.k8s.io/v1.34.1/bin/windows/amd64/kubelet.exe
    sha256:
      description: Its SHA-256, pinned or as published.
      type: str
      sample: 0f2d1c0e4b9a8f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e
    path:
      description: The verified file on the controller, C(<cache>/<sha256>/<name>).
      type: str
      sample: /var/cache/winkube/0f2d1c0e4b9a8f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e/kubelet.exe
    downloaded:
      description: Whether this task downloaded it (false when it was in the cache already).
      type: bool
      sample: true
changed:
  description: Whether any file was downloaded.
  returned: always
  type: bool
  sample: true
msg:
  description: What was downloaded and reused, or for each failed file why (URL, expected and received digest).
  returned: always
  type: str
  sample: downloaded and verified kubelet.exe; 2 reused from the cache
"""
