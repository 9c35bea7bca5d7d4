"""The AsyncAPI 3.0 document: Ariane's topics, who writes and who reads each, and the messages they carry."""

from __future__ import annotations

import re
from typing import Any

from contracts import topics
from contracts.envelope import SCHEMA_VERSION
from contracts.events import EVENT_CLASSES, TOPIC_TYPES
from contracts.export.json_schema import SCHEMAS, schema_filename

ASYNCAPI = "asyncapi.json"
KAFKA_BINDING_VERSION = "0.5.0"


def _message_name(short_type: str) -> str:
    return short_type


def _operation_id(actor: str, verb: str, channel: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", f"{actor}_{verb}_{channel}")


def _channel_id(topic: str) -> str:
    return "inbound" if topic == topics.INBOUND_CHANNEL else topic.removeprefix("ariane.").removesuffix(".v1")


# The partners' topics are one channel with the structure in its address (AsyncAPI 3 channel parameters).
INBOUND_PARAMETERS: dict[str, Any] = {
    "structure_id": {
        "description": "The sending structure's id in the territory file: its Kafka principal "
        "(partner-<structure id>) alone may write this topic, so the topic says who sent each record. An "
        "event's source, and every structure its data names as acting, must be that structure (or one it "
        "acts for in the territory file); otherwise the record is dead-lettered with the reason.",
    }
}


DEADLETTER_PAYLOAD: dict[str, Any] = {
    "type": "object",
    "description": "A record no service could process: why, where it came from, and its original bytes. "
    "May hold a partner's raw event, identity included: operators only.",
    "properties": {
        "letter_id": {"type": "string", "description": "dlq:<service>:<topic>:<partition>:<offset>"},
        "service": {"type": "string", "description": "The service that gave up on the record."},
        "reason": {"type": "string", "description": "Why it was dead-lettered."},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "Field-level errors, if any: at "
                   "most 50, then one saying how many more there were."},
        "source": {
            "type": "object",
            "properties": {
                "topic": {"type": "string"},
                "partition": {"type": "integer"},
                "offset": {"type": "integer"},
                "key": {"type": ["string", "null"]},
            },
        },
        "original_base64": {"type": "string", "description": "The original record value, base64: its first "
                            "16 KiB only when it is longer (see original_truncated)."},
        "original_text": {"type": "string", "description": "The same bytes as text, when they are UTF-8."},
        "original_bytes": {"type": "integer", "description": "Length of the whole original value, in bytes."},
        "original_sha256": {"type": "string", "description": "SHA-256 of the whole original value (hex)."},
        "original_truncated": {"type": "boolean", "description": "True when only the beginning of the original "
                               "is kept: a letter always fits in one Kafka record."},
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
    for topic in topics.CHANNELS:
        cid = _channel_id(topic)
        names = sorted(t.removeprefix("fr.ariane.") for t in TOPIC_TYPES[topic]) or ["deadletter"]
        writer, readers = topics.WRITERS[topic], topics.READERS[topic]
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": f"Written by {writer}; read by {', '.join(readers)}."
            + (" One partition: a totally ordered sequence of days." if topic in topics.SINGLE_PARTITION_TOPICS
               else " One topic per partner, keyed by the partner's reference of the person: one person's events "
               "from one partner stay in order." if topic == topics.INBOUND_CHANNEL
               else " Keyed by person_id: one person's events stay in order."),
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            **({"parameters": INBOUND_PARAMETERS} if topic == topics.INBOUND_CHANNEL else {}),
            "bindings": {
                "kafka": {
                    "bindingVersion": KAFKA_BINDING_VERSION,
                    **({} if topic == topics.INBOUND_CHANNEL else {"topic": topic}),
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
            "HTTP (POST /v1/events) or on their own topic, ariane.inbound.v1.<structure id>.",
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": {
            "local": {"host": "localhost:9092", "protocol": "kafka", "description": "The local broker."},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
