"""A real, local, single-node Apache Kafka broker (KRaft), run from Kafka's own jars.

The Kafka version is pinned once, in ``deploy/kafka/pom.xml``. Its jars are
resolved from Maven Central by ``mvn dependency:copy-dependencies`` into a
per-user cache folder (once per machine and version), or taken from
``$KAFKA_HOME/libs`` when that is set. A broker started here writes
``<data_dir>/broker.json`` (format in :mod:`local.kafka.state`) so that other
processes (the CLI, the tests, the services) find it again; ``KAFKA_BOOTSTRAP``
always wins over it.

The broker runs with authentication and authorization on: one SASL/SCRAM-SHA-512 listener for clients and
inter-broker traffic, a SASL PLAIN controller listener only the node itself can log in to, StandardAuthorizer
with no access where no ACL allows it. Each principal's credentials are written, owner-only, to
``<data_dir>/credentials/<principal>.json`` and bootstrapped into the metadata log when the storage is
formatted; ``ensure_topics`` grants the ACLs of the topic prefix it creates (``security`` says who may do what).
A log dir formatted before the broker had credentials is moved aside and formatted afresh.

The rooms: ``jars`` (version pin, Maven download), ``config`` (server and logging
properties, data dir), ``ports``, ``state`` (the files other processes read),
``process`` (the JVM as a pid), ``storage`` (formatting the log dir), ``broker``
(the LocalKafka lifecycle), ``clients`` (admin client, readiness), ``topics``,
``describe``, ``security`` (principals, credentials, ACLs). What other code needs is re-exported here.

No domain knowledge lives here: only topic names come from ``contracts``.
"""

from local.kafka.broker import LocalKafka, resolve_bootstrap
from local.kafka.clients import wait_ready
from local.kafka.config import default_data_dir, read_properties, server_properties, write_properties
from local.kafka.describe import BrokerDescription, describe, describe_sync
from local.kafka.errors import KafkaRuntimeError
from local.kafka.jars import POM_PATH, ensure_jars, jars_dir, kafka_version, runtime_version
from local.kafka.ports import free_port, port_is_free
from local.kafka.security import acl_plan, grant, principals
from local.kafka.topics import create_topics, ensure_topics, ensure_topics_sync, topic_plan

__all__ = [
    "POM_PATH",
    "BrokerDescription",
    "KafkaRuntimeError",
    "LocalKafka",
    "acl_plan",
    "create_topics",
    "default_data_dir",
    "describe",
    "describe_sync",
    "ensure_jars",
    "ensure_topics",
    "ensure_topics_sync",
    "free_port",
    "grant",
    "jars_dir",
    "kafka_version",
    "port_is_free",
    "principals",
    "read_properties",
    "resolve_bootstrap",
    "runtime_version",
    "server_properties",
    "topic_plan",
    "wait_ready",
    "write_properties",
]
