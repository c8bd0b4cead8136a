"""Pure helpers of the simulated Kubernetes API server (``apiserver.py``): Status objects, the
patch formats (JSON merge patch, JSON patch, strategic merge patch), server-side apply field
ownership, label and field selectors, and the OpenAPI schema those patch semantics come from.

Patch semantics are not guessed per field: they come from the real OpenAPI schema of the
cluster's minor, as shipped by ``kubernetes-validate`` (``x-kubernetes-patch-merge-key``,
``x-kubernetes-patch-strategy``, ``x-kubernetes-list-type``/``-list-map-keys``,
``x-kubernetes-map-type``). So ``spec.taints`` of a Node is an atomic list (a strategic merge
patch replaces it whole, as on a real cluster) while ``spec.template.spec.containers`` merges by
``name``.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "ApiError",
    "FieldPath",
    "Schema",
    "field_paths",
    "json_merge_patch",
    "json_patch",
    "match_fields",
    "match_labels",
    "parse_selector",
    "render_fields_v1",
    "rfc3339",
    "status",
    "strategic_merge_patch",
]

MISSING = object()
# One element of a field path: ("f", name) a map field, ("k", json of the key fields) an item of a
# list-map, ("v", json of the value) an item of a set. A path is a tuple of them.
PathElement = tuple[str, str]
FieldPath = tuple[PathElement, ...]


class ApiError(Exception):
    """An API error answered as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def to_status(self) -> dict[str, Any]:
        return status(self.code, self.reason, self.message, self.details)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``meta/v1 Status`` as the API server writes it (``status: Failure`` for errors)."""
    doc: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
    }
    if message:
        doc["message"] = message
    if reason:
        doc["reason"] = reason
    if details:
        doc["details"] = details
    doc["code"] = code
    return doc


def rfc3339(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ schema


SCHEMA_ROOT_MODULE = "kubernetes_validate"


@functools.lru_cache(maxsize=4)
def _definitions(minor: int) -> dict[str, Any]:
    import kubernetes_validate  # the Kubernetes OpenAPI schemas, per minor

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    available = sorted(int(m.group(1)) for p in root.iterdir() if (m := re.fullmatch(r"v1\.(\d+)\.0-local", p.name)))
    if not available:
        raise RuntimeError(f"no Kubernetes schemas under {root}")
    # The newest schema not newer than the cluster (or the oldest one for an older cluster).
    chosen = max([m for m in available if m <= minor] or [available[0]])
    path = root / f"v1.{chosen}.0-local" / "_definitions.json"
    return json.loads(path.read_text(encoding="utf-8"))["$defs"]


@dataclasses.dataclass(frozen=True)
class Schema:
    """A node of the OpenAPI schema: ``child(key)`` walks properties, map values and list items."""

    defs: dict[str, Any] = dataclasses.field(repr=False, hash=False, compare=False)
    node: dict[str, Any] = dataclasses.field(repr=False, hash=False, compare=False)

    @classmethod
    def for_kind(cls, minor: int, group: str, version: str, kind: str) -> Schema:
        defs = _definitions(minor)
        for node in defs.values():
            for gvk in node.get("x-kubernetes-group-version-kind", []):
                if (gvk.get("group"), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                    return cls(defs, node)
        raise KeyError(f"no schema for {group or 'core'}/{version} {kind}")

    @classmethod
    def empty(cls) -> Schema:
        return cls({}, {})

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = {
                **self.defs.get(node["$ref"].rsplit("/", 1)[-1], {}),
                **{k: v for k, v in node.items() if k != "$ref"},
            }
        for sub in node.get("allOf", []):
            node = {**self._resolve(sub), **node}
        return node

    @property
    def resolved(self) -> dict[str, Any]:
        return self._resolve(self.node)

    def child(self, key: str) -> Schema:
        node = self.resolved
        props = node.get("properties") or {}
        if key in props:
            return Schema(self.defs, props[key])
        extra = node.get("additionalProperties")
        return Schema(self.defs, extra if isinstance(extra, dict) else {})

    def items(self) -> Schema:
        items = self.resolved.get("items")
        return Schema(self.defs, items if isinstance(items, dict) else {})

    @property
    def list_type(self) -> str:
        """``map`` (merge by keys), ``set`` or ``atomic``; a patch merge key alone means ``map``."""
        node = self.resolved
        if node.get("x-kubernetes-list-type"):
            return str(node["x-kubernetes-list-type"])
        return "map" if node.get("x-kubernetes-patch-merge-key") else "atomic"

    @property
    def map_keys(self) -> list[str]:
        node = self.resolved
        keys = node.get("x-kubernetes-list-map-keys")
        if keys:
            return list(keys)
        key = node.get("x-kubernetes-patch-merge-key")
        return [key] if key else []

    @property
    def patch_merge_key(self) -> str | None:
        node = self.resolved
        if "merge" in str(node.get("x-kubernetes-patch-strategy", "")).split(","):
            return node.get("x-kubernetes-patch-merge-key")
        return None

    @property
    def merges_primitives(self) -> bool:
        """A list of scalars with patch strategy ``merge`` (e.g. ``finalizers``)."""
        node = self.resolved
        return "merge" in str(node.get("x-kubernetes-patch-strategy", "")).split(",")

    @property
    def atomic_map(self) -> bool:
        return self.resolved.get("x-kubernetes-map-type") == "atomic"


# ------------------------------------------------------------------ patches


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f'the JSON patch path "{path}" does not start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for part in parts:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise ApiError(422, "Invalid", f'doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 (add, remove, replace, move, copy, test) as the API server's json-patch."""
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise ApiError(422, "Invalid", f"the JSON patch operation {op!r} has no op or path")
        kind, path = op["op"], op["path"]
        parts = _pointer(path)
        if kind == "test":
            if _walk(doc, parts, path) != op.get("value"):
                raise ApiError(
                    422,
                    "Invalid",
                    f"the server rejected our request due to an error in our request: testing value {path} failed",
                )
            continue
        if kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = copy.deepcopy(_walk(doc, src, op.get("from", "")))
            if kind == "move":
                doc = _remove(doc, src, op["from"])
            doc = _add(doc, parts, value, path)
            continue
        if kind == "remove":
            doc = _remove(doc, parts, path)
        elif kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        elif kind == "replace":
            _walk(doc, parts, path)
            doc = _remove(doc, parts, path)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")), path)
        else:
            raise ApiError(422, "Invalid", f"Unexpected kind: {kind}")
    return doc


def _add(doc: Any, parts: list[str], value: Any, path: str) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and (last == "-" or (last.isdigit() and int(last) <= len(parent))):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        raise ApiError(422, "Invalid", f'doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, parts: list[str], path: str) -> Any:
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1] if parts else ""
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise ApiError(422, "Invalid", f'doc is missing path: "{path}": missing value')
    return doc


def strategic_merge_patch(target: Any, patch: Any, schema: Schema) -> Any:
    """Kubernetes' strategic merge patch: maps merge (``null`` deletes), lists with a patch merge
    key merge by it (``$patch: delete`` removes an item), other lists are replaced;
    ``$setElementOrder/…`` and ``$retainKeys`` directives are accepted."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$"):  # directives: $patch, $retainKeys, $setElementOrder/…, $deleteFromPrimitiveList/…
            continue
        if value is None:
            result.pop(key, None)
            continue
        sub = schema.child(key)
        current = result.get(key)
        if isinstance(value, list):
            result[key] = _merge_list(current if isinstance(current, list) else [], value, sub)
        elif isinstance(value, dict) and not sub.atomic_map:
            result[key] = strategic_merge_patch(current, value, sub)
        else:
            result[key] = copy.deepcopy(value)
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name, []) if v not in value]
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: list[Any], patch: list[Any], schema: Schema) -> list[Any]:
    key = schema.patch_merge_key
    if key is None:
        if schema.merges_primitives and all(not isinstance(v, (dict, list)) for v in patch):
            return current + [v for v in patch if v not in current]
        return [v for v in copy.deepcopy(patch) if not (isinstance(v, dict) and v.get("$patch"))]
    result = copy.deepcopy(current)
    items = schema.items()
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise ApiError(422, "Invalid", f"map: {item!r} does not contain declared merge key: {key}")
        index = next((i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in copy.deepcopy(item).items() if not k.startswith("$")})
        else:
            result[index] = strategic_merge_patch(result[index], item, items)
    return result


# ------------------------------------------------------------------ server-side apply

IGNORED_TOP = {"apiVersion", "kind", "status"}
IGNORED_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
}


def _key_of(item: dict[str, Any], keys: list[str]) -> str:
    return json.dumps({k: item.get(k) for k in keys}, sort_keys=True, separators=(",", ":"))


def field_paths(obj: Any, schema: Schema, prefix: FieldPath = ()) -> dict[FieldPath, Any]:
    """Leaf field paths of an object and their values, as server-side apply owns them."""
    out: dict[FieldPath, Any] = {}
    if isinstance(obj, dict) and obj and not schema.atomic_map:
        for key, value in obj.items():
            if not prefix and key in IGNORED_TOP:
                continue
            if prefix == (("f", "metadata"),) and key in IGNORED_META:
                continue
            out.update(field_paths(value, schema.child(key), (*prefix, ("f", key))))
        return out
    if isinstance(obj, list) and obj and schema.list_type == "map" and schema.map_keys:
        keys = schema.map_keys
        for item in obj:
            if isinstance(item, dict):
                out.update(field_paths(item, schema.items(), (*prefix, ("k", _key_of(item, keys)))))
        return out
    if isinstance(obj, list) and obj and schema.list_type == "set":
        for item in obj:
            out[(*prefix, ("v", json.dumps(item, sort_keys=True)))] = item
        return out
    if prefix:
        out[prefix] = obj
    return out


def path_text(path: FieldPath) -> str:
    """``.spec.template.spec.containers[name="x"].image`` as the API server prints a conflict."""
    out = ""
    for kind, value in path:
        if kind == "f":
            out += "." + value
        elif kind == "k":
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(value).items()) + "]"
        else:
            out += f"[={value}]"
    return out


def set_path(obj: dict[str, Any], path: FieldPath, value: Any) -> None:
    cur: Any = obj
    for i, (kind, name) in enumerate(path):
        last = i == len(path) - 1
        nxt_kind = path[i + 1][0] if not last else None
        if kind == "f":
            if last:
                cur[name] = copy.deepcopy(value)
                return
            if not isinstance(cur.get(name), (dict, list)):
                cur[name] = [] if nxt_kind in ("k", "v") else {}
            cur = cur[name]
        elif kind == "k":
            key = json.loads(name)
            item = next((x for x in cur if isinstance(x, dict) and all(x.get(k) == v for k, v in key.items())), None)
            if item is None:
                item = dict(key)
                cur.append(item)
            if last:
                item.clear()
                item.update(copy.deepcopy(value))
                return
            cur = item
        else:  # "v": a set item
            if value not in cur:
                cur.append(copy.deepcopy(value))
            return


def delete_path(obj: dict[str, Any], path: FieldPath) -> None:
    parents: list[tuple[Any, PathElement]] = []
    cur: Any = obj
    for kind, name in path:
        parents.append((cur, (kind, name)))
        if kind == "f":
            if not isinstance(cur, dict) or name not in cur:
                return
            cur = cur[name]
        elif kind == "k":
            key = json.loads(name)
            cur = (
                next((x for x in cur if isinstance(x, dict) and all(x.get(k) == v for k, v in key.items())), MISSING)
                if isinstance(cur, list)
                else MISSING
            )
            if cur is MISSING:
                return
        else:
            break
    # remove the leaf, then prune the containers its removal left empty (list items: only keys)
    leaf = True
    for container, (kind, name) in reversed(parents):
        if kind == "f":
            if not leaf and not _emptied(container.get(name)):
                return
            container.pop(name, None)
        elif kind == "k":
            key = json.loads(name)
            for i, x in enumerate(container):
                if isinstance(x, dict) and all(x.get(k) == v for k, v in key.items()):
                    if not leaf and not set(x) <= set(key):
                        return
                    del container[i]
                    break
        else:
            value = json.loads(name)
            if value in container:
                container.remove(value)
        leaf = False


def _emptied(value: Any) -> bool:
    return value in ({}, [])


def render_fields_v1(paths: Iterable[FieldPath]) -> dict[str, Any]:
    """managedFields ``fieldsV1``: ``{"f:spec": {"f:unschedulable": {}}}``, list-map items as
    ``k:{"key":"x"}``, set items as ``v:"x"``."""
    root: dict[str, Any] = {}
    for path in paths:
        cur = root
        for kind, name in path:
            cur = cur.setdefault(f"{kind}:{name}", {})
        if path and path[-1][0] == "k":
            cur.setdefault(".", {})
    return root


# ------------------------------------------------------------------ selectors

_SELECTOR_RE = re.compile(
    r"""\s*(?P<not>!)?(?P<key>[A-Za-z0-9./_-]+)\s*
        (?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)
          |\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*""",
    re.VERBOSE,
)


def _split_selector(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def parse_selector(text: str) -> list[tuple[str, str, list[str]]]:
    """A label selector as ``(key, op, values)`` requirements; op is one of ``=``, ``!=``, ``in``,
    ``notin``, ``exists``, ``!``. A malformed selector is a 400, as on the API server."""
    reqs: list[tuple[str, str, list[str]]] = []
    for part in _split_selector(text or ""):
        m = _SELECTOR_RE.fullmatch(part)
        if not m or (m.group("not") and (m.group("op") or m.group("setop"))):
            raise ApiError(400, "BadRequest", f"unable to parse requirement: invalid label selector: {part.strip()!r}")
        key = m.group("key")
        if m.group("not"):
            reqs.append((key, "!", []))
        elif m.group("op"):
            reqs.append((key, "!=" if m.group("op") == "!=" else "=", [m.group("value")]))
        elif m.group("setop"):
            values = [v.strip() for v in m.group("values").split(",") if v.strip()]
            reqs.append((key, m.group("setop"), values))
        else:
            reqs.append((key, "exists", []))
    return reqs


def match_labels(labels: dict[str, str], reqs: list[tuple[str, str, list[str]]]) -> bool:
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        ok = {
            "=": present and value == values[0],
            "!=": not present or value != values[0],
            "in": present and value in values,
            "notin": not present or value not in values,
            "exists": present,
            "!": not present,
        }[op]
        if not ok:
            return False
    return True


def match_fields(obj: dict[str, Any], text: str, supported: dict[str, Any]) -> bool:
    """A field selector (``spec.nodeName=x,metadata.name!=y``) over the fields the resource supports
    (``supported``: field → getter). An unsupported field is a 400, as on the API server."""
    for part in _split_selector(text or ""):
        m = re.fullmatch(r"\s*([A-Za-z0-9.]+)\s*(==|=|!=)\s*([^,]*)\s*", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = m.groups()
        if field not in supported:
            raise ApiError(400, "BadRequest", f"field label not supported: {field}")
        actual = supported[field](obj)
        if (actual == value) != (op != "!="):
            return False
    return True
