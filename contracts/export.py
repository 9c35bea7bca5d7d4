"""Export the contracts as committed files (JSON Schema per event, AsyncAPI) and check them against the code.

v1 only grows: a change may add an event type, an optional property or an enum value; it may not remove or
narrow anything a v1 producer could send. `breaking_changes` decides that between two JSON Schemas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from contracts import topics
from contracts.envelope import SCHEMA_VERSION, Envelope, schema_uri
from contracts.events import EVENT_CLASSES, TOPIC_TYPES

CONTRACTS_DIR = Path(__file__).resolve().parent
SCHEMAS = "schemas"
ASYNCAPI = "asyncapi.json"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"


class BreakingChangeError(Exception):
    """Export refused: the code breaks the committed v1 contracts."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# --------------------------------------------------------------------------- rendering


def render(document: dict[str, Any]) -> str:
    """The committed form of a JSON document: sorted keys, two-space indent, UTF-8, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_filename(short_type: str) -> str:
    return f"{short_type}.v{SCHEMA_VERSION}.json"


def event_schema(cls: type[Envelope]) -> dict[str, Any]:
    """The JSON Schema of one event type (the whole envelope, `data` included)."""
    schema = cls.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_uri(cls.short_type)
    return schema


def _message_name(short_type: str) -> str:
    return short_type


def _operation_id(actor: str, verb: str, channel: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", f"{actor}_{verb}_{channel}")


def _channel_id(topic: str) -> str:
    return topic.removeprefix("ariane.").removesuffix(".v1")


DEADLETTER_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "description": "A record no service could process: why, where it came from, and its original bytes. "
    "May hold a partner's raw event, identity included: operators only.",
    "properties": {
        "letter_id": {"type": "string", "description": "dlq:<service>:<topic>:<partition>:<offset>"},
        "service": {"type": "string", "description": "The service that gave up on the record."},
        "reason": {"type": "string", "description": "Why it was dead-lettered."},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "Field-level errors, if any."},
        "source": {
            "type": "object",
            "properties": {
                "topic": {"type": "string"},
                "partition": {"type": "integer"},
                "offset": {"type": "integer"},
                "key": {"type": ["string", "null"]},
            },
        },
        "original_base64": {"type": "string", "description": "The original record value, base64."},
        "original_text": {"type": "string", "description": "The original value as text, when it is UTF-8."},
    },
    "required": ["letter_id", "service", "reason", "source", "original_base64"],
}


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 description of Ariane's topics, who writes and reads them, and their messages."""
    messages: dict[str, Any] = {}
    for cls in EVENT_CLASSES:
        is_clock = cls.short_type.startswith("clock.")
        messages[_message_name(cls.short_type)] = {
            "name": cls.model_fields["type"].default,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "description": (cls.model_fields["data"].annotation.__doc__ or "").strip(),
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"./{SCHEMAS}/{schema_filename(cls.short_type)}"},
            "correlationId": {"location": "$message.payload#/correlationid"},
            "bindings": {
                "kafka": {
                    "bindingVersion": KAFKA_BINDING_VERSION,
                    "key": (
                        {"type": "string", "const": topics.CLOCK_KEY, "description": "Always \"clock\"."}
                        if is_clock
                        else {"type": "string", "description": "The person_id (the event's subject)."}
                    ),
                }
            },
        }
    messages["deadletter"] = {
        "name": "deadletter",
        "title": "DeadLetter",
        "summary": "A poison record, with the reason and its original bytes.",
        "contentType": "application/json",
        "payload": DEADLETTER_PAYLOAD,
        "bindings": {
            "kafka": {
                "bindingVersion": KAFKA_BINDING_VERSION,
                "key": {"type": "string", "description": "The original record's key."},
            }
        },
    }

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics.ALL_TOPICS:
        cid = _channel_id(topic)
        names = sorted(t.removeprefix("fr.ariane.") for t in TOPIC_TYPES[topic]) or ["deadletter"]
        writer, readers = topics.WRITERS[topic], topics.READERS[topic]
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": f"Written by {writer}; read by {', '.join(readers)}."
            + (" One partition: a totally ordered sequence of days." if topic in topics.SINGLE_PARTITION_TOPICS
               else " Keyed by person_id: one person's events stay in order."),
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {
                "kafka": {
                    "bindingVersion": KAFKA_BINDING_VERSION,
                    "topic": topic,
                    **({"partitions": 1} if topic in topics.SINGLE_PARTITION_TOPICS else {}),
                }
            },
        }
        refs = [{"$ref": f"#/channels/{cid}/messages/{n}"} for n in names]
        operations[_operation_id(writer, "sends", cid)] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"{writer} writes {topic}.",
            "messages": refs,
        }
        for reader in readers:
            operations[_operation_id(reader, "receives", cid)] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": f"{reader} reads {topic}.",
                "messages": refs,
            }

    return {
        "asyncapi": "3.0.0",
        "id": "urn:fr:ariane:events",
        "info": {
            "title": "Ariane events",
            "version": f"{SCHEMA_VERSION}.0.0",
            "description": "CloudEvents 1.0 (structured JSON mode) on Kafka: no jobseeker lost between "
            "structures. One writer per topic; every topic keyed by person_id. Partners send to intake over "
            "HTTP (POST /v1/events) or on ariane.inbound.v1.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "local": {"host": "localhost:9092", "protocol": "kafka", "description": "The local broker."},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def expected_files() -> dict[str, str]:
    """Every committed contract file (path relative to contracts/) and its content as the code says."""
    files = {f"{SCHEMAS}/{schema_filename(cls.short_type)}": render(event_schema(cls)) for cls in EVENT_CLASSES}
    files[ASYNCAPI] = render(asyncapi_document())
    return files


# --------------------------------------------------------------------------- compatibility


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


class _Compare:
    def __init__(self, old_root: dict[str, Any], new_root: dict[str, Any]):
        self.old_root, self.new_root = old_root, new_root

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
            if not ("enum" in old and old["enum"] == [new["const"]]):
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
    required properties. Empty when the change is compatible (additions only). Paths read "data.birth_year"."""
    out: list[str] = []
    _Compare(old_schema, new_schema).node(old_schema, new_schema, "", out, frozenset())
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------- export / check


def _display(directory: Path, rel: str) -> str:
    return f"{directory.name}/{rel}"


def _compat_problems(directory: Path, expected: dict[str, str]) -> list[str]:
    problems: list[str] = []
    schema_dir = directory / SCHEMAS
    committed = sorted(schema_dir.glob("*.json")) if schema_dir.is_dir() else []
    for path in committed:
        rel = f"{SCHEMAS}/{path.name}"
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            problems.append(f"{_display(directory, rel)}: not valid JSON")
            continue
        if rel not in expected:
            problems.append(f"{_display(directory, rel)}: event type removed (breaking)")
            continue
        new = json.loads(expected[rel])
        problems.extend(f"{_display(directory, rel)}: {p} (breaking)" for p in breaking_changes(old, new))
    return problems


def export(check: bool = False, *, directory: Path | None = None, allow_breaking: bool = False) -> list[str]:
    """Write the contract files from the code, or with check=True compare them and write nothing.

    Returns the files written (write mode; unchanged files are not rewritten), or the problems found (check
    mode): files out of date, missing or extra, and v1 compatibility breaks against the committed schemas.
    In write mode a compatibility break raises BreakingChangeError unless allow_breaking."""
    directory = directory or CONTRACTS_DIR
    expected = expected_files()
    compat = _compat_problems(directory, expected)
    schema_dir = directory / SCHEMAS
    extra = sorted(
        f"{SCHEMAS}/{p.name}" for p in (schema_dir.glob("*.json") if schema_dir.is_dir() else [])
        if f"{SCHEMAS}/{p.name}" not in expected
    )

    if check:
        problems: list[str] = []
        for rel, content in expected.items():
            path = directory / rel
            if not path.exists():
                problems.append(f"{_display(directory, rel)}: missing (run `ariane contracts export`)")
            elif path.read_text(encoding="utf-8") != content:
                problems.append(f"{_display(directory, rel)}: differs from the code (run `ariane contracts export`)")
        problems.extend(f"{_display(directory, rel)}: extra file, no event type has it" for rel in extra)
        problems.extend(p for p in compat if p not in problems)
        return problems

    if compat and not allow_breaking:
        raise BreakingChangeError(compat)
    written: list[str] = []
    for rel, content in expected.items():
        path = directory / rel
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(_display(directory, rel))
    for rel in extra:
        (directory / rel).unlink()
        written.append(f"{_display(directory, rel)} (removed)")
    return written
