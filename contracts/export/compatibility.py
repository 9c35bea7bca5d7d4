"""v1 only grows: a change may add an event type, an optional property or an enum value; it may not remove or
narrow anything a v1 producer could send. `breaking_changes` decides that between two JSON Schemas.
"""

from __future__ import annotations

from typing import Any


class BreakingChangeError(Exception):
    """Export refused: the code breaks the committed v1 contracts."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# The one listed exception to "nothing becomes required": the attributes CloudEvents 1.0 requires of every
# event (id, source, specversion, type). Every v1 producer always sent them (the models fill them in) and every
# consumer relies on them; the first v1 schemas failed to say so. Only at the envelope's top level.
CLOUDEVENTS_REQUIRED = frozenset({"id", "source", "specversion", "type"})

# The second listed exception: `datacontenttype` pinned to the one value its description always promised
# ("Always application/json"). Every v1 producer sent that value (the models' default) and no consumer reads
# another, but the attribute had no bound at all, so one partner event with a 1 MiB value was stored whole
# and could never be published. Only at the envelope's top level, only to the old default.
PINNED_TO_DEFAULT = frozenset({"datacontenttype"})

# The third listed exception: upper bounds added to the lists of `identity.review_opened`, a type only intake
# emits (no partner sends it, intake refuses it from partners). Every event ever emitted holds at most the five
# matched identity fields and the one missing field ("nir"), far inside the bounds, so no past event is refused;
# a reader (followup stores both lists) gets a size it can rely on. Only these paths of that type.
EMITTED_ONLY_BOUNDED = {"fr.ariane.identity.review_opened": frozenset({"data.matched", "data.missing",
                                                                     "data.missing[]"})}

_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")


def _resolve(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    """Follow local $refs (#/$defs/X, #/definitions/X); sibling keywords of a $ref are kept."""
    seen: set[str] = set()
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            break
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **siblings} if isinstance(target, dict) else siblings
    if isinstance(node, bool):
        return {} if node else {"not": {}}
    return node if isinstance(node, dict) else {}


def _variants(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("anyOf", "oneOf"):
        if key in node:
            out: list[dict[str, Any]] = []
            for sub in node[key]:
                out.extend(_variants(_resolve(sub, root), root))
            return out
    return [node]


def _types(node: dict[str, Any]) -> set[str] | None:
    t = node.get("type")
    if t is None:
        return None
    types = {t} if isinstance(t, str) else set(t)
    if "number" in types:
        types.add("integer")
    return types


def _describe(node: dict[str, Any]) -> str:
    if "const" in node:
        return f"const {node['const']!r}"
    if "enum" in node:
        return f"enum {node['enum']!r}"
    t = node.get("type")
    return str(t) if t is not None else "any"


def _where(path: str) -> str:
    return path or "(root)"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _emitted_only_bounded(schema: dict[str, Any]) -> frozenset[str]:
    """The paths of EMITTED_ONLY_BOUNDED for this schema's event type (the `type` attribute's const)."""
    event_type = schema.get("properties", {}).get("type", {}).get("const")
    return EMITTED_ONLY_BOUNDED.get(event_type, frozenset()) if isinstance(event_type, str) else frozenset()


class _Compare:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]):
        self.old_root, self.new_root = old_root, new_root
        self.bounded = _emitted_only_bounded(new_root)

    def node(self, old: Any, new: Any, path: str, out: list[str], stack: frozenset[tuple[int, int]]) -> None:
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        key = (id(old), id(new))
        if key in stack:
            return
        stack = stack | {key}
        old_vs, new_vs = _variants(old, self.old_root), _variants(new, self.new_root)
        if len(old_vs) == 1 and len(new_vs) == 1:
            self.single(old_vs[0], new_vs[0], path, out, stack)
            return
        for ov in old_vs:
            attempts = []
            for nv in new_vs:
                found: list[str] = []
                self.single(ov, nv, path, found, stack)
                if not found:
                    break
                attempts.append((nv, found))
            else:
                same_type = [f for nv, f in attempts if _types(nv) and _types(ov) and _types(ov) <= _types(nv)]
                if len(same_type) == 1:
                    out.extend(same_type[0])
                else:
                    out.append(f"{_where(path)}: no longer accepts {_describe(ov)} (type narrowed)")

    def single(self, old: dict[str, Any], new: dict[str, Any], path: str, out: list[str],
               stack: frozenset[tuple[int, int]]) -> None:
        where = _where(path)
        if "not" in new and new["not"] == {} and old.get("not") != {}:
            out.append(f"{where}: no longer accepts anything")
            return
        old_t, new_t = _types(old), _types(new)
        if new_t is not None and (old_t is None or not old_t <= new_t):
            out.append(f"{where}: type changed from {old.get('type', 'any')} to {new.get('type')}")
        if "const" in new and old.get("const", object()) != new["const"]:
            pinned = path in PINNED_TO_DEFAULT and old.get("default", object()) == new["const"]
            if not ("enum" in old and old["enum"] == [new["const"]]) and not pinned:
                out.append(f"{where}: value narrowed to const {new['const']!r}")
        if "enum" in new:
            old_values = old["enum"] if "enum" in old else [old["const"]] if "const" in old else None
            if old_values is None:
                out.append(f"{where}: enum added (values now limited to {new['enum']!r})")
            else:
                removed = [v for v in old_values if v not in new["enum"]]
                if removed:
                    out.append(f"{where}: enum values removed: {removed!r}")
        for keyword in ("pattern", "format", "multipleOf"):
            if keyword in new and old.get(keyword) != new[keyword]:
                verb = "added" if keyword not in old else "changed"
                out.append(f"{where}: {keyword} {verb} ({new[keyword]!r})")
        for keyword in _UPPER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
                if keyword not in old and path in self.bounded:
                    continue  # listed exception, see EMITTED_ONLY_BOUNDED
                verb = "added" if keyword not in old else f"lowered from {old[keyword]!r}"
                out.append(f"{where}: {keyword} {verb} ({new[keyword]!r})")
        for keyword in _LOWER_BOUNDS:
            if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
                verb = "added" if keyword not in old else f"raised from {old[keyword]!r}"
                out.append(f"{where}: {keyword} {verb} ({new[keyword]!r})")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            out.append(f"{where}: uniqueItems added")

        old_props: dict[str, Any] = old.get("properties", {})
        new_props: dict[str, Any] = new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                out.append(f"{_join(path, name)}: property removed")
            else:
                self.node(old_prop, new_props[name], _join(path, name), out, stack)
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(new_req - old_req):
            if not path and name in CLOUDEVENTS_REQUIRED and name in old_props:
                continue  # listed exception, see CLOUDEVENTS_REQUIRED
            if name in old_props:
                out.append(f"{_join(path, name)}: optional property made required")
            else:
                out.append(f"{_join(path, name)}: new required property")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            out.append(f"{where}: additional properties now forbidden")
        elif isinstance(new_extra, dict) and old_extra is not False:
            self.node(old_extra if isinstance(old_extra, dict) else {}, new_extra, _join(path, "*"), out, stack)
        if "items" in old or "items" in new:
            self.node(old.get("items", {}), new.get("items", {}), f"{path}[]", out, stack)


def breaking_changes(old_schema: dict[str, Any], new_schema: dict[str, Any]) -> list[str]:
    """What `new_schema` refuses that `old_schema` accepted: removed properties, narrowed types (type changed,
    enum values removed, pattern/format/bounds added or tightened), optional properties made required, new
    required properties (except the CloudEvents-required attributes, CLOUDEVENTS_REQUIRED, and the bounds of
    EMITTED_ONLY_BOUNDED). Empty when the change is compatible (additions only). Paths read "data.birth_year"."""
    out: list[str] = []
    _Compare(old_schema, new_schema).node(old_schema, new_schema, "", out, frozenset())
    return list(dict.fromkeys(out))
