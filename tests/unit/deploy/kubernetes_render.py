"""The part of kustomize that deploy/kubernetes uses, in Python, so the manifests can be checked with no cluster
and no kustomize binary.

It reads a kustomization.yaml and returns the documents `kustomize build --load-restrictor
LoadRestrictionsNone` would print: resources (files and folders with their own kustomization), the namespace,
images, configMapGenerator (files) and inline JSON 6902 patches. Any other key is refused by name rather than
ignored, so a kustomization that grows a feature this reader does not know fails the tests instead of being
checked half. Where the kubectl binary is installed, a test compares this rendering with its own.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]

KNOWN_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "generatorOptions", "configMapGenerator",
              "patches"}

# Kinds without a namespace among those Ariane's manifests use (kustomize leaves them as they are).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass",
                  "PriorityClass", "ClusterTriggerAuthentication"}


class KustomizeError(ValueError):
    pass


def load_documents(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def build(folder: Path) -> list[Doc]:
    """The documents of the kustomization in ``folder``, transformed as kustomize does."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8")) or {}
    unknown = set(kustomization) - KNOWN_KEYS
    if unknown:
        raise KustomizeError(f"{folder / 'kustomization.yaml'}: keys this reader does not implement: {sorted(unknown)}")
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        target = (folder / entry).resolve()
        if target.is_dir():
            docs += build(target)
        elif target.is_file():
            docs += load_documents(target)
        else:
            raise KustomizeError(f"{folder}: resource {entry!r} does not exist")
    docs += _generated_config_maps(folder, kustomization)
    for patch in kustomization.get("patches", []):
        _apply_patch(folder, docs, patch)
    namespace = kustomization.get("namespace")
    if namespace:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc.setdefault("metadata", {})["namespace"] = namespace
    for image in kustomization.get("images", []):
        _set_image(docs, image)
    _check_unique(folder, docs)
    return docs


def _generated_config_maps(folder: Path, kustomization: Doc) -> list[Doc]:
    generators = kustomization.get("configMapGenerator", [])
    if generators and not (kustomization.get("generatorOptions") or {}).get("disableNameSuffixHash"):
        raise KustomizeError(f"{folder}: name suffix hashes are not implemented; set disableNameSuffixHash")
    maps = []
    for generator in generators:
        unknown = set(generator) - {"name", "files", "options"}
        if unknown:
            raise KustomizeError(f"{folder}: configMapGenerator keys not implemented: {sorted(unknown)}")
        options = generator.get("options") or {}
        metadata: Doc = {"name": generator["name"]}
        if options.get("annotations"):
            metadata["annotations"] = dict(options["annotations"])
        if options.get("labels"):
            metadata["labels"] = dict(options["labels"])
        data = {}
        for entry in generator.get("files", []):
            key, _, relative = entry.rpartition("=") if "=" in entry else ("", "", entry)
            path = (folder / relative).resolve()
            if not path.is_file():
                raise KustomizeError(f"{folder}: configMapGenerator file {relative!r} does not exist")
            data[key or path.name] = path.read_text(encoding="utf-8")
        maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    return maps


def _matches(doc: Doc, target: Doc) -> bool:
    group, _, version = doc["apiVersion"].rpartition("/")
    return (target.get("kind", doc["kind"]) == doc["kind"]
            and target.get("name", doc["metadata"]["name"]) == doc["metadata"]["name"]
            and target.get("group", group) == group and target.get("version", version) == version)


def _apply_patch(folder: Path, docs: list[Doc], patch: Doc) -> None:
    if set(patch) != {"target", "patch"}:
        raise KustomizeError(f"{folder}: only inline JSON 6902 patches with a target are implemented: {patch}")
    operations = yaml.safe_load(patch["patch"])
    if not isinstance(operations, list):
        raise KustomizeError(f"{folder}: strategic merge patches are not implemented: {patch['target']}")
    matched = [doc for doc in docs if _matches(doc, patch["target"])]
    if not matched:
        raise KustomizeError(f"{folder}: patch target {patch['target']} matches no resource")
    for doc in matched:
        for op in operations:
            _json_patch(doc, op)


def _json_patch(doc: Doc, op: Doc) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
    parent: Any = doc
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    kind = op["op"]
    if kind == "add":
        if isinstance(parent, list):
            parent.insert(len(parent) if last == "-" else int(last), copy.deepcopy(op["value"]))
        else:
            parent[last] = copy.deepcopy(op["value"])
    elif kind == "replace":
        if isinstance(parent, list):
            parent[int(last)] = copy.deepcopy(op["value"])
        elif last not in parent:
            raise KustomizeError(f"replace of a missing path {op['path']}")
        else:
            parent[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    else:
        raise KustomizeError(f"JSON patch operation {kind!r} is not implemented")


def pod_containers(doc: Doc) -> list[Doc]:
    spec = (doc.get("spec") or {}).get("template", {}).get("spec") or {}
    if doc["kind"] == "CronJob":
        spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _set_image(docs: list[Doc], image: Doc) -> None:
    for doc in docs:
        for container in pod_containers(doc):
            name, _, _tag = container["image"].partition(":")
            if name == image["name"]:
                new = image.get("newName", name)
                tag = image.get("newTag")
                container["image"] = f"{new}:{tag}" if tag else new


def _check_unique(folder: Path, docs: list[Doc]) -> None:
    seen = set()
    for doc in docs:
        key = (doc["apiVersion"].rpartition("/")[0], doc["kind"], doc["metadata"].get("namespace"),
               doc["metadata"]["name"])
        if key in seen:
            raise KustomizeError(f"{folder}: {key} is declared twice")
        seen.add(key)
