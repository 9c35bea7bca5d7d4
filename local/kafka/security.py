"""Authentication and authorization of the local broker: its principals, their credentials, their ACLs.

Every client authenticates with SASL/SCRAM-SHA-512 on the broker's one client listener; the authorizer
(StandardAuthorizer, ``allow.everyone.if.no.acl.found=false``) then lets each principal do only what its ACLs
say. The principals:

- ``admin``: the one super user, for the tooling (topic creation, ACLs, drain checks) and the test fixtures;
  the broker's own inter-broker connections use it too;
- one per service (``intake``, ``referral``, ``followup``, ``reporting``, ``clock``): write its own topic
  (``contracts.topics.WRITERS``) and the dead-letter topic, read what its ``definition().consumes`` lists, use
  its own consumer group ``ariane-<name>`` and its relay's group and transactional id ``ariane-relay-<name>``.
  The relay commits its high-water mark as a group offset on partition 0 of the dead-letter topic inside its
  transaction, and Kafka authorizes that commit (TxnOffsetCommit) as READ on the topic: so every service may
  also read the dead-letter topic;
- one per structure of the territory file, ``partner-<structure id>``: write its own inbound topic
  (``ariane.inbound.v1.<structure id>``), nothing else.

Which partner wrote a record: the chosen design is one inbound topic per partner
(``ariane.inbound.v1.<structure id>``, the partner's principal alone may write it; intake reads them all
through one PREFIXED read ACL on ``<prefix>ariane.inbound.v1.`` and takes the sender from the topic name).
Kafka does not stamp a record with its producer's principal, and any header is the producer's own claim; a
gateway that writes a verified header would be one more trusted component to run, on the path of every
record. With a topic per partner the broker's ACL is the proof of origin, intake checks the event's
``source`` (and every structure named in its data) against it as it does the API key's structure over HTTP,
and one partner's flood or retention stays its own. The shared ``ariane.inbound.v1`` of earlier versions is
neither created nor granted to anyone: a record there could claim any structure, so nobody may write it.

A broker has no ACL for a topic prefix until ``grant(bootstrap, prefix)`` runs (``ensure_topics`` does it
when it creates that prefix's topics): resources are named exactly, ``<prefix><name>`` (LITERAL patterns),
so a run's principals reach their run's topics, groups and transactional ids and nothing that merely starts
the same way. The one exception is intake's read of the partners' topics, PREFIXED on
``<prefix>ariane.inbound.v1.``: only partners' topics start so, and each is written by its partner alone.

The controller listener takes SASL PLAIN with one static user, ``controller``, known only to the broker (its
password is in the owner-only ``server.properties``): KRaft cannot check SCRAM there, since SCRAM credentials
live in the metadata log the controller serves. A client reaching that port without that password is refused
at authentication.

Credentials are written at first start to ``<data_dir>/credentials/<principal>.json`` (owner-only files in an
owner-only directory) and given to the broker once, when its storage is formatted (``--add-scram``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from contracts import topics
from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from services.runtime.kafka_security import ADMIN, CREDENTIALS_DIR, SCRAM_SHA_512, Credentials, read_credentials, \
    write_credentials

CONTROLLER = "controller"  # the static PLAIN user of the controller listener (not a SCRAM principal)
PARTNER_PREFIX = "partner-"

# Kafka's ACL enums (org.apache.kafka.common.resource / acl)
TOPIC, GROUP, TRANSACTIONAL_ID = 2, 3, 5
ANY, LITERAL, PREFIXED = 1, 3, 4
READ, WRITE = 3, 4
ALLOW = 3
SECURITY_DISABLED = 54  # the broker has no authorizer


@dataclass(frozen=True, order=True)
class Acl:
    principal: str  # a principal name, without "User:"
    resource_type: int
    resource_name: str
    operation: int
    pattern: int = LITERAL  # LITERAL: this very name; PREFIXED: every name starting with it

    def creation(self) -> tuple[int, str, int, str, str, int, int]:
        return (self.resource_type, self.resource_name, self.pattern, f"User:{self.principal}", "*", self.operation,
                ALLOW)


def partner_principal(structure_id: str) -> str:
    return f"{PARTNER_PREFIX}{structure_id}"


def service_names() -> list[str]:
    from local import catalogue

    return [service.name for service in (*catalogue.pipeline(), catalogue.clock())]


def partner_principals(territory_file: Path = DEFAULT_TERRITORY_FILE) -> list[str]:
    return [partner_principal(s.id) for s in load_territory(territory_file).structures]


def principals() -> list[str]:
    """Every SCRAM principal of the local broker: admin, the services, the partners of the default territory."""
    return [ADMIN, *service_names(), *partner_principals()]


def ensure_credentials(directory: Path) -> dict[str, Credentials]:
    """Each principal's credentials, generated (random, owner-only files) the first time they are needed."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    out = {}
    for name in (*principals(), CONTROLLER):
        path = directory / f"{name}.json"
        credentials = read_credentials(path)
        if credentials is None:
            credentials = Credentials(name, secrets.token_urlsafe(24), "PLAIN" if name == CONTROLLER else SCRAM_SHA_512)
            write_credentials(path, credentials)
        out[name] = credentials
    return out


def credentials_dir(data_dir: Path) -> Path:
    return data_dir / CREDENTIALS_DIR


def scram_arguments(credentials: dict[str, Credentials]) -> list[str]:
    """``--add-scram`` arguments of Kafka's StorageTool for every SCRAM principal."""
    args = []
    for name, c in credentials.items():
        if c.mechanism == SCRAM_SHA_512:
            args += ["--add-scram", f"{SCRAM_SHA_512}=[name={c.username},password={c.password}]"]
    return args


def acl_plan(prefix: str = "", territory_file: Path = DEFAULT_TERRITORY_FILE) -> list[Acl]:
    """Every ACL of a topic prefix: what each service and each partner of the territory may do there."""
    from local import catalogue

    acls: list[Acl] = []
    for service in (*catalogue.pipeline(), catalogue.clock()):
        name = service.name
        writes = [t for t, writer in topics.WRITERS.items() if writer == name] + [topics.DEADLETTER]
        partners = [t for t in service.consumes if topics.inbound_sender(t) is not None]
        # the dead-letter topic: the relay's mark (see above); the partners' topics: one PREFIXED read below
        reads = [t for t in service.consumes if t not in partners] + [topics.DEADLETTER]
        relay = f"ariane-relay-{name}"
        acls += [Acl(name, TOPIC, prefix + t, WRITE) for t in writes]
        acls += [Acl(name, TOPIC, prefix + t, READ) for t in reads]
        if partners:
            acls.append(Acl(name, TOPIC, prefix + topics.INBOUND_PREFIX, READ, PREFIXED))
        acls += [Acl(name, GROUP, prefix + group, READ) for group in (service.group_id, relay)]
        acls.append(Acl(name, TRANSACTIONAL_ID, prefix + relay, WRITE))
    acls += [Acl(partner_principal(s.id), TOPIC, prefix + topics.inbound_topic(s.id), WRITE)
             for s in load_territory(territory_file).structures]
    return sorted(set(acls))


async def grant(bootstrap: str, prefix: str = "", timeout: float = 120,
                territory_file: Path = DEFAULT_TERRITORY_FILE) -> int:
    """Create the ACLs of ``prefix`` (idempotent) and wait until the broker enforces them. Returns how many
    (0 from a broker without an authorizer, which has nothing to enforce)."""
    from local.kafka.clients import admin, human_errors

    return await human_errors(bootstrap, _grant(admin(bootstrap, request_timeout_ms=int(timeout * 1000)),
                                                acl_plan(prefix, territory_file), timeout))


async def _grant(client, acls: Iterable[Acl], timeout: float) -> int:  # noqa: ANN001 - an AIOKafkaAdminClient
    from aiokafka.protocol.admin import CreateAclsRequest

    from local.kafka.errors import KafkaRuntimeError

    wanted = list(acls)

    class CreateMany(CreateAclsRequest):
        def __init__(self, creations: list[tuple]) -> None:  # noqa: D107 - all ACLs in one request
            self._creations = creations

        def build(self, request_struct_class):  # noqa: ANN001, ANN201
            if request_struct_class.API_VERSION < 1:
                raise KafkaRuntimeError("the broker does not take CreateAcls v1")
            return request_struct_class(self._creations)

    await client.start()
    try:
        if wanted:
            response = await client._send_to_controller(CreateMany([a.creation() for a in wanted]))  # noqa: SLF001
            codes = {code for code, _message in response.creation_responses}
            if codes == {SECURITY_DISABLED}:
                return 0  # a broker without an authorizer (KAFKA_BOOTSTRAP, PLAINTEXT): nothing to grant
            failed = [f"{code} {message}" for code, message in response.creation_responses if code]
            if failed:
                raise KafkaRuntimeError(f"could not create ACLs: {'; '.join(sorted(set(failed)))}")
        # ACLs travel through the metadata log: wait until the broker's authorizer has every one of them
        deadline = time.monotonic() + timeout
        while not set(wanted) <= await _described(client):
            if time.monotonic() > deadline:
                raise KafkaRuntimeError(f"the broker did not apply {len(wanted)} ACLs within {timeout:.0f} s")
            await asyncio.sleep(0.05)
        return len(wanted)
    finally:
        await client.close()


async def _described(client) -> set[Acl]:  # noqa: ANN001
    from aiokafka.protocol.admin import DescribeAclsRequest

    response = await client._send_request(DescribeAclsRequest(ANY, None, ANY, None, None, ANY, ANY))  # noqa: SLF001
    found = set()
    for resource_type, resource_name, pattern, entries in response.resources:
        if pattern not in (LITERAL, PREFIXED):
            continue
        for principal, _host, operation, permission in entries:
            if permission == ALLOW and principal.startswith("User:"):
                found.add(Acl(principal[len("User:"):], resource_type, resource_name, operation, pattern))
    return found


# -- SCRAM users through the admin client (AlterUserScramCredentials, KIP-554) ---------------------------------
SCRAM_ITERATIONS = 4096
_MECHANISMS = {"SCRAM-SHA-256": (1, "sha256"), SCRAM_SHA_512: (2, "sha512")}


def _scram_request():  # noqa: ANN202 - built on first use: aiokafka has the wire types but not this request
    from aiokafka.protocol.api import Request, RequestStruct, Response
    from aiokafka.protocol.types import CompactArray, CompactBytes, CompactString, Int8, Int16, Int32, Schema, \
        TaggedFields

    class AlterUserScramCredentialsResponse_v0(Response):  # noqa: N801 - Kafka's naming
        API_KEY = 51
        API_VERSION = 0
        SCHEMA = Schema(
            ("throttle_time_ms", Int32),
            ("results", CompactArray(("user", CompactString("utf-8")), ("error_code", Int16),
                                     ("error_message", CompactString("utf-8")), ("tags", TaggedFields))),
            ("tags", TaggedFields),
        )

    class AlterUserScramCredentialsRequest_v0(RequestStruct):  # noqa: N801
        FLEXIBLE_VERSION = True
        API_KEY = 51
        API_VERSION = 0
        RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
        SCHEMA = Schema(
            ("deletions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields))),
            ("upsertions", CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("iterations", Int32),
                                        ("salt", CompactBytes), ("salted_password", CompactBytes),
                                        ("tags", TaggedFields))),
            ("tags", TaggedFields),
        )

    class AlterUserScramCredentials(Request[AlterUserScramCredentialsRequest_v0]):
        API_KEY = 51

        def __init__(self, upsertions: list[tuple]) -> None:
            self._upsertions = upsertions

        def build(self, request_struct_class):  # noqa: ANN001, ANN201
            return request_struct_class([], self._upsertions, {})

    return AlterUserScramCredentials


def _upsertion(credentials: Credentials) -> tuple:
    import hashlib

    mechanism, digest = _MECHANISMS[credentials.mechanism]
    salt = secrets.token_bytes(32)
    salted = hashlib.pbkdf2_hmac(digest, credentials.password.encode(), salt, SCRAM_ITERATIONS)
    return (credentials.username, mechanism, SCRAM_ITERATIONS, salt, salted, {})


async def register_principals(bootstrap: str, directory: Path, names: Iterable[str], timeout: float = 120) -> list[str]:
    """Give the broker a SCRAM user for each of ``names`` (credentials generated in ``directory`` when new);
    idempotent (an existing user's credential is replaced by the same password). Returns the names."""
    from local.kafka.clients import admin, human_errors
    from local.kafka.errors import KafkaRuntimeError

    wanted = [_credentials_of(directory, name) for name in names]

    async def run() -> list[str]:
        client = admin(bootstrap, request_timeout_ms=int(timeout * 1000))
        await client.start()
        try:
            request = _scram_request()([_upsertion(c) for c in wanted])
            response = await client._send_request(request)  # noqa: SLF001 - the broker forwards it to the controller
        finally:
            await client.close()
        failed = [f"{user}: {code} {message}" for user, code, message, _tags in response.results if code]
        if failed:
            raise KafkaRuntimeError("could not create SCRAM users: " + "; ".join(failed))
        return [c.username for c in wanted]

    return await human_errors(bootstrap, run())


def _credentials_of(directory: Path, name: str) -> Credentials:
    path = directory / f"{name}.json"
    credentials = read_credentials(path)
    if credentials is None:
        credentials = Credentials(name, secrets.token_urlsafe(24))
        write_credentials(path, credentials)
    return credentials
