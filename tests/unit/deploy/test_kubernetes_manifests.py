"""deploy/kubernetes checked without a cluster: rendered as kustomize does, validated against the Kubernetes
schemas and the CRD models registry packages ship, and, for Strimzi and CloudNativePG (whose CRD schemas no
registry package ships), against the project itself: the topics of contracts/topics.py, what each service's
definition() consumes, its port, its settings.

Each check is a function returning the problems it finds in a list of rendered documents, so the last tests
can prove, on broken copies, that every check does find something.
"""

from __future__ import annotations

import copy
import importlib
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from contracts import topics
from contracts.territory import load_territory
from services.runtime.settings import RuntimeSettings
from kubernetes_render import Doc, build, pod_containers

REPO = Path(__file__).resolve().parents[3]
KUBERNETES = REPO / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
OVERLAY = KUBERNETES / "overlays" / "angers"
ALERTS_FILE = REPO / "deploy" / "prometheus" / "rules" / "ariane-alerts.yml"
DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
README = KUBERNETES / "README.md"

KUBERNETES_VERSION = "1.31"
SERVICES = ("intake", "referral", "followup", "reporting", "clock", "web")
STATELESS = ("web",)  # no Kafka user, no database: it calls the other services over HTTP only
PROBES = {"readinessProbe": "/health/ready", "livenessProbe": "/health/live", "startupProbe": "/health/live"}

Problems = list[str]


def definition(name: str):  # noqa: ANN201 - a ServiceDefinition
    return importlib.import_module(f"services.{name}.app").definition()


@pytest.fixture(scope="module")
def overlay() -> list[Doc]:
    return build(OVERLAY)


@pytest.fixture(scope="module")
def base() -> list[Doc]:
    return build(BASE)


# ---------------------------------------------------------------------------------------------- lookups


def of_kind(docs: Iterable[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: Iterable[Doc], kind: str, name: str) -> Doc | None:
    return next((d for d in of_kind(docs, kind) if d["metadata"]["name"] == name), None)


def label(doc: Doc, key: str) -> str | None:
    return (doc["metadata"].get("labels") or {}).get(key)


def component(doc: Doc) -> str | None:
    return label(doc, "app.kubernetes.io/component")


def pod_spec(deployment: Doc) -> Doc:
    return deployment["spec"]["template"]["spec"]


def env_of(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def partitions(docs: list[Doc]) -> dict[str, int]:
    return {t["spec"].get("topicName", t["metadata"]["name"]): t["spec"]["partitions"]
            for t in of_kind(docs, "KafkaTopic")}


def acl_grants(user: Doc) -> set[tuple[str, str, str, str]]:
    """(resource type, name, pattern type, operation) of every ACL of a KafkaUser."""
    grants = set()
    for acl in user["spec"].get("authorization", {}).get("acls", []):
        resource = acl["resource"]
        for operation in acl.get("operations", [acl.get("operation")]):
            grants.add((resource["type"], resource.get("name", "*"), resource.get("patternType", "literal"),
                        operation))
    return grants


def expected_service_grants(name: str) -> set[tuple[str, str, str, str]]:
    """What a service needs, from the code: its definition's consumed topics and the topics it writes. The
    partners' topics it consumes (intake: one per structure of the territory) are read by one prefix ACL."""
    consumes = definition(name).consumes
    writes = [t for t, writer in topics.WRITERS.items() if writer == name]
    own = [t for t in consumes if topics.inbound_sender(t) is None]
    grants = {("topic", t, "literal", op) for t in own for op in ("Read", "Describe")}
    if len(own) < len(consumes):
        grants |= {("topic", topics.INBOUND_PREFIX, "prefix", op) for op in ("Read", "Describe")}
    grants |= {("topic", t, "literal", op) for t in writes for op in ("Write", "Describe")}
    # Every service dead-letters; its relay keeps its mark as an offset on the dead-letter topic (a read).
    grants |= {("topic", topics.DEADLETTER, "literal", op) for op in ("Write", "Read", "Describe")}
    if consumes:
        grants |= {("group", definition(name).group_id, "literal", op) for op in ("Read", "Describe")}
    grants |= {("group", f"ariane-relay-{name}", "prefix", op) for op in ("Read", "Describe")}
    grants |= {("transactionalId", f"ariane-relay-{name}", "prefix", op) for op in ("Write", "Describe")}
    return grants


def settings_variables() -> set[str]:
    """Every environment variable a settings class of the runtime or of a service reads."""
    names = {f"ARIANE_{field.upper()}" for field in RuntimeSettings.model_fields}
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings:
                prefix = value.model_config.get("env_prefix", "")
                names |= {f"{prefix}{field}".upper() for field in value.model_fields}
    return names


def documented_secrets() -> set[str]:
    """The Secrets deploy/kubernetes/README.md tells a territory to create (its table)."""
    text = README.read_text(encoding="utf-8").split("## Secrets a territory provides", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, flags=re.MULTILINE))


def referenced_secrets(docs: list[Doc]) -> dict[str, str]:
    """Secret name -> where it is used."""
    found: dict[str, str] = {}

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("secretKeyRef", "secretRef", "passwordSecret", "accessKeyId", "secretAccessKey") \
                        and isinstance(value, dict) and "name" in value:
                    found.setdefault(value["name"], where)
                walk(value, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        walk(doc.get("spec", {}), where)
        for target in doc.get("spec", {}).get("secretTargetRef", []):  # KEDA TriggerAuthentication
            found.setdefault(target["name"], where)
        for tls in doc.get("spec", {}).get("tls", []) if doc["kind"] == "Ingress" else []:
            found.setdefault(tls["secretName"], where)
        for volume in (doc.get("spec", {}).get("template", {}).get("spec", {}) or {}).get("volumes", []):
            if "secret" in volume:
                found.setdefault(volume["secret"]["secretName"], where)
    return found


# ---------------------------------------------------------------------------------------------- checks


def check_builtin_schemas(docs: list[Doc]) -> Problems:
    """Every built-in kind validates, strictly, against the Kubernetes JSON schemas."""
    import kubernetes_validate

    problems = []
    for doc in docs:
        group = doc["apiVersion"].rpartition("/")[0]
        if group and "." in group and not group.endswith(".k8s.io"):
            continue  # a custom resource: checked below
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    return problems


def crd_models() -> dict[str, type]:
    from cloudcoil.models.keda import v1alpha1 as keda
    from cloudcoil.models.prometheus_operator import v1 as monitoring

    return {"ScaledObject": keda.ScaledObject, "TriggerAuthentication": keda.TriggerAuthentication,
            "PodMonitor": monitoring.PodMonitor, "ServiceMonitor": monitoring.ServiceMonitor,
            "PrometheusRule": monitoring.PrometheusRule}


def check_crd_models(docs: list[Doc]) -> Problems:
    """KEDA and Prometheus Operator resources against the models generated from their CRDs. The models ignore
    unknown fields, so a document must also survive a round trip unchanged: a field the CRD does not know is
    dropped, and shows."""
    from pydantic import ValidationError

    models = crd_models()
    problems = []
    for doc in docs:
        model = models.get(doc["kind"])
        if model is None:
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            dumped = model.model_validate(doc).model_dump(by_alias=True, exclude_unset=True, mode="json")
        except ValidationError as exc:
            problems.append(f"{where}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
            continue
        if dumped != doc:
            problems.append(f"{where}: fields the CRD does not know: {_unknown_fields(doc, dumped)}")
    return problems


def _unknown_fields(original: object, dumped: object, path: str = "") -> list[str]:
    if isinstance(original, dict) and isinstance(dumped, dict):
        missing = [f"{path}.{k}" for k in original if k not in dumped]
        return missing + [p for k in original if k in dumped for p in _unknown_fields(original[k], dumped[k],
                                                                                      f"{path}.{k}")]
    if isinstance(original, list) and isinstance(dumped, list):
        return [p for i, (a, b) in enumerate(zip(original, dumped)) for p in _unknown_fields(a, b, f"{path}[{i}]")]
    return [] if original == dumped else [f"{path} (changed)"]


def check_kafka(docs: list[Doc]) -> Problems:
    """KRaft with node pools, SCRAM on every listener, ACLs enforced, replicas the topics can count on."""
    problems = []
    clusters = of_kind(docs, "Kafka")
    if len(clusters) != 1:
        return [f"expected one Kafka cluster, found {len(clusters)}"]
    kafka = clusters[0]
    name = kafka["metadata"]["name"]
    annotations = kafka["metadata"].get("annotations") or {}
    if annotations.get("strimzi.io/kraft") != "enabled" or annotations.get("strimzi.io/node-pools") != "enabled":
        problems.append("Kafka: KRaft and node pools must be enabled (strimzi.io/kraft, strimzi.io/node-pools)")
    for listener in kafka["spec"]["kafka"]["listeners"]:
        if (listener.get("authentication") or {}).get("type") != "scram-sha-512":
            problems.append(f"Kafka listener {listener['name']}: not SCRAM-SHA-512")
        if listener["type"] != "internal" and not listener.get("tls"):
            problems.append(f"Kafka listener {listener['name']}: reachable from outside without TLS")
    if (kafka["spec"]["kafka"].get("authorization") or {}).get("type") != "simple":
        problems.append("Kafka: ACLs are not enforced (authorization.type simple)")
    config = kafka["spec"]["kafka"].get("config") or {}
    if config.get("auto.create.topics.enable") is not False:
        problems.append("Kafka: auto.create.topics.enable must be false (topics come from KafkaTopic resources)")
    # The relays set aside an outbox row above ARIANE_MAX_RECORD_BYTES; above the broker's limit it would block.
    record_limit = RuntimeSettings.model_fields["max_record_bytes"].default
    if int(config.get("message.max.bytes", 1048588)) <= record_limit:
        problems.append(f"Kafka: message.max.bytes {config.get('message.max.bytes')} is not above the relays' "
                        f"ARIANE_MAX_RECORD_BYTES ({record_limit})")
    pools = [p for p in of_kind(docs, "KafkaNodePool") if label(p, "strimzi.io/cluster") == name]
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    if controllers % 2 == 0:
        problems.append(f"Kafka: {controllers} controllers; a KRaft quorum wants an odd number")
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "default.replication.factor"):
        if config.get(key, 3) > brokers:
            problems.append(f"Kafka: {key} {config.get(key)} above the {brokers} brokers")
    for doc in docs:
        if doc["apiVersion"].startswith("kafka.strimzi.io/") and doc["kind"] != "Kafka" \
                and label(doc, "strimzi.io/cluster") != name:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: not labelled strimzi.io/cluster={name}")
    for topic in of_kind(docs, "KafkaTopic"):
        replicas = topic["spec"]["replicas"]
        isr = int(topic["spec"].get("config", {}).get("min.insync.replicas", config.get("min.insync.replicas", 1)))
        if replicas > brokers or not 1 < isr < replicas:
            problems.append(f"KafkaTopic/{topic['metadata']['name']}: {replicas} replicas, min ISR {isr}, "
                            f"{brokers} brokers: one broker down must not stop writes nor lose them")
    return problems


def check_topics(docs: list[Doc]) -> Problems:
    problems = []
    declared = partitions(docs)
    own = {t for t in declared if topics.inbound_sender(t) is None}  # the partners' topics: check_partners
    if own != set(topics.ALL_TOPICS):
        problems.append(f"KafkaTopics {sorted(own)} are not contracts/topics.py's {sorted(topics.ALL_TOPICS)}")
    for topic in topics.SINGLE_PARTITION_TOPICS & set(declared):
        if declared[topic] != 1:
            problems.append(f"{topic}: {declared[topic]} partitions; the clock is one ordered sequence")
    for topic in of_kind(docs, "KafkaTopic"):
        name = topic["spec"].get("topicName", topic["metadata"]["name"])
        retention = int(topic["spec"].get("config", {}).get("retention.ms", 604800000))
        # Replaying a store reads Ariane's own topics from offset 0: they must be kept.
        if name in topics.ALL_TOPICS and name != topics.DEADLETTER and retention != -1:
            problems.append(f"{name}: retention.ms {retention}; a replay needs the whole topic (-1)")
    return problems


def check_kafka_users(docs: list[Doc]) -> Problems:
    problems = []
    existing = set(partitions(docs))
    users = of_kind(docs, "KafkaUser")
    for user in users:
        where = f"KafkaUser/{user['metadata']['name']}"
        if user["spec"]["authentication"]["type"] != "scram-sha-512":
            problems.append(f"{where}: not SCRAM-SHA-512")
        for kind, name, pattern, _op in acl_grants(user):
            # the one prefix: the partners' topics, all of them written by their own partner alone
            if kind == "topic" and (name not in existing if pattern == "literal" else name != topics.INBOUND_PREFIX):
                problems.append(f"{where}: ACL on topic {name!r} ({pattern}), which no KafkaTopic declares")
            if name == "*":
                problems.append(f"{where}: an ACL on every {kind}")
    for service in (s for s in SERVICES if s not in STATELESS):
        user = next((u for u in users if component(u) == service), None)
        if user is None:
            problems.append(f"no KafkaUser for {service}")
            continue
        granted, expected = acl_grants(user), expected_service_grants(service)
        for extra in sorted(granted - expected):
            problems.append(f"KafkaUser/{user['metadata']['name']}: grants {extra}, which {service} does not need")
        for lacking in sorted(expected - granted):
            problems.append(f"KafkaUser/{user['metadata']['name']}: lacks {lacking}, which {service} needs")
    for user in users:
        if component(user) == "partner":
            own = topics.inbound_topic((user["metadata"].get("annotations") or {}).get("ariane/structure-id", "?"))
            only_own = {("topic", own, "literal", op) for op in ("Write", "Describe")}
            if acl_grants(user) != only_own:
                problems.append(f"KafkaUser/{user['metadata']['name']}: a partner may only write its own topic {own}, "
                                f"not {sorted(acl_grants(user) ^ only_own)}")
        elif component(user) == "ops":
            for kind, name, _pattern, op in acl_grants(user):
                if op not in ("Read", "Describe") or name.startswith(topics.INBOUND):
                    problems.append(f"KafkaUser/{user['metadata']['name']}: people on call read, never "
                                    f"{op} {kind} {name}")
        elif component(user) not in SERVICES:
            problems.append(f"KafkaUser/{user['metadata']['name']}: neither a service, a partner nor ops")
    return problems


def check_partners(docs: list[Doc], territory_file: Path) -> Problems:
    """Each partner's Kafka user names a structure of the overlay's territory file, and each structure of it has
    its own inbound topic (intake subscribes to one per structure of its territory file)."""
    territory = load_territory(territory_file)
    problems = []
    declared = {t for t in partitions(docs) if topics.inbound_sender(t) is not None}
    wanted = set(topics.inbound_topics(territory.structures_by_id))
    if declared != wanted:
        problems.append(f"partners' KafkaTopics: missing {sorted(wanted - declared)}, not in {territory.id}: "
                        f"{sorted(declared - wanted)}")
    for user in of_kind(docs, "KafkaUser"):
        if component(user) != "partner":
            continue
        structure = (user["metadata"].get("annotations") or {}).get("ariane/structure-id")
        if structure not in territory.structures_by_id:
            problems.append(f"KafkaUser/{user['metadata']['name']}: structure {structure!r} is not in {territory.id}")
    return problems


def check_deployments(docs: list[Doc]) -> Problems:
    problems = []
    variables = settings_variables()
    deployments = {component(d): d for d in of_kind(docs, "Deployment")}
    if set(deployments) != set(SERVICES):
        problems.append(f"Deployments of {sorted(map(str, deployments))}, expected {sorted(SERVICES)}")
    kafka = of_kind(docs, "Kafka")[0]["metadata"]["name"]
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    for service, deployment in deployments.items():
        where = f"Deployment/{deployment['metadata']['name']}"
        port = definition(service).default_port
        spec = pod_spec(deployment)
        template_labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        if not selector.items() <= template_labels.items():
            problems.append(f"{where}: its selector does not select its own pods")
        (container,) = spec["containers"]
        if container.get("command") != ["python", "-m", f"services.{service}"]:
            problems.append(f"{where}: command {container.get('command')}, expected python -m services.{service}")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        if ports.get("http") != port:
            problems.append(f"{where}: port http {ports.get('http')}, but {service}'s definition() says {port}")
        # A service hosted by the runtime answers its probes on its operations port, beside its event loop (a probe
        # on the API port waits behind the consumer's batch); the stateless web page has none.
        probed = port
        if service not in STATELESS:
            ops = env_of(container).get("ARIANE_OPS_PORT", {}).get("value")
            probed = ports.get("ops")
            if probed is None or ops != str(probed) or probed == port:
                problems.append(f"{where}: needs an `ops` container port, ARIANE_OPS_PORT equal to it ({ops}), "
                                f"apart from http")
        for probe, path in PROBES.items():
            get = (container.get(probe) or {}).get("httpGet") or {}
            target = ports.get(get.get("port"), get.get("port"))
            if get.get("path") != path or target != probed:
                problems.append(f"{where}: {probe} on {get.get('path')}:{target}, expected {path}:{probed}")
        security = container.get("securityContext") or {}
        if not (spec.get("securityContext", {}).get("runAsNonRoot") and security.get("readOnlyRootFilesystem")
                and security.get("allowPrivilegeEscalation") is False
                and "ALL" in security.get("capabilities", {}).get("drop", [])):
            problems.append(f"{where}: must run as non-root, read-only root fs, no privilege escalation, no capability")
        resources = container.get("resources") or {}
        if not (resources.get("requests", {}).get("cpu") and resources.get("requests", {}).get("memory")
                and resources.get("limits", {}).get("memory")):
            problems.append(f"{where}: needs CPU and memory requests and a memory limit")
        env = env_of(container)
        for name in env:
            if name.startswith("ARIANE_") and name not in variables:
                problems.append(f"{where}: {name} is no settings field (a typo is silently ignored)")
        if env.get("ARIANE_HTTP_PORT", {}).get("value") not in (None, str(port)):
            problems.append(f"{where}: ARIANE_HTTP_PORT is not {port}")
        if env.get("ARIANE_HTTP_HOST", {}).get("value") != "0.0.0.0":
            problems.append(f"{where}: the service binds 127.0.0.1 unless ARIANE_HTTP_HOST is 0.0.0.0")
        if service in STATELESS:
            problems += [f"{where}: {name} set, but {service} has no broker and no database"
                         for name in env if name.startswith(("ARIANE_KAFKA_", "ARIANE_DATABASE_"))]
        else:
            problems += _check_kafka_client(where, service, env, users, kafka)
            problems += _check_database(where, service, env, docs)
        mounted = {m["name"] for m in container.get("volumeMounts", [])}
        for volume in spec.get("volumes", []):
            if volume["name"] not in mounted:
                problems.append(f"{where}: volume {volume['name']} is never mounted")
            if "configMap" in volume and named(docs, "ConfigMap", volume["configMap"]["name"]) is None:
                problems.append(f"{where}: ConfigMap {volume['configMap']['name']} is not in the rendering")
        for path in ("/tmp",):
            if not any(m["mountPath"] == path for m in container.get("volumeMounts", [])):
                problems.append(f"{where}: {path} must be writable (an emptyDir) with a read-only root fs")
    return problems


def _check_kafka_client(where: str, service: str, env: dict[str, Doc], users: dict[str, Doc],
                        kafka: str) -> Problems:
    problems = []
    if env.get("ARIANE_KAFKA_BOOTSTRAP", {}).get("value") != f"{kafka}-kafka-bootstrap:9092":
        problems.append(f"{where}: ARIANE_KAFKA_BOOTSTRAP is not the {kafka} cluster's bootstrap service")
    username = env.get("ARIANE_KAFKA_USERNAME", {}).get("value")
    if username not in users or component(users[username]) != service:
        problems.append(f"{where}: Kafka user {username!r} is not {service}'s KafkaUser")
    password = env.get("ARIANE_KAFKA_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef", {})
    if password.get("name") != username or password.get("key") != "password":
        problems.append(f"{where}: ARIANE_KAFKA_PASSWORD must come from Strimzi's Secret {username}, key password")
    return problems


def _check_database(where: str, service: str, env: dict[str, Doc], docs: list[Doc]) -> Problems:
    """The service reaches its own database, as its own role, through the cluster's read-write service."""
    url = env.get("ARIANE_DATABASE_URL", {}).get("value", "")
    parts = urlsplit(url)
    if parts.scheme != "postgresql+asyncpg":
        return [f"{where}: ARIANE_DATABASE_URL {url!r} is not a postgresql+asyncpg URL"]
    problems = []
    database = named(docs, "Database", f"ariane-{service}")
    if database is None or parts.path.lstrip("/") != database["spec"]["name"]:
        problems.append(f"{where}: database {parts.path!r} is not the one of Database/ariane-{service}")
        return problems
    cluster = named(docs, "Cluster", database["spec"]["cluster"]["name"])
    if cluster is None or parts.hostname != f"{cluster['metadata']['name']}-rw":
        problems.append(f"{where}: host {parts.hostname} is not the read-write service of the database's cluster")
        return problems
    roles = {r["name"]: r for r in cluster["spec"].get("managed", {}).get("roles", [])}
    owner = roles.get(database["spec"]["owner"], {})
    secret = owner.get("passwordSecret", {}).get("name")
    for variable in re.findall(r"\$\(([A-Z_]+)\)", url):
        ref = env.get(variable, {}).get("valueFrom", {}).get("secretKeyRef", {})
        if ref.get("name") != secret:
            problems.append(f"{where}: $({variable}) does not come from the owner's Secret {secret!r}")
    names = list(env)
    if any(names.index(v) > names.index("ARIANE_DATABASE_URL") for v in re.findall(r"\$\(([A-Z_]+)\)", url)
           if v in names):
        problems.append(f"{where}: a variable of ARIANE_DATABASE_URL is defined after it (not substituted)")
    return problems


def check_postgres(docs: list[Doc]) -> Problems:
    problems = []
    for database in of_kind(docs, "Database"):
        cluster = named(docs, "Cluster", database["spec"]["cluster"]["name"])
        if cluster is None:
            problems.append(f"Database/{database['metadata']['name']}: no Cluster {database['spec']['cluster']}")
            continue
        roles = {r["name"] for r in cluster["spec"].get("managed", {}).get("roles", []) if r.get("login")}
        if database["spec"]["owner"] not in roles:
            problems.append(f"Database/{database['metadata']['name']}: owner {database['spec']['owner']} "
                            "is no login role of the cluster")
    owners = [d["spec"]["owner"] for d in of_kind(docs, "Database")]
    if len(owners) != len(set(owners)):
        problems.append("two databases share an owner: a service could read another's tables")
    return problems


def check_pdbs_and_services(docs: list[Doc]) -> Problems:
    problems = []
    for deployment in of_kind(docs, "Deployment"):
        where = f"Deployment/{deployment['metadata']['name']}"
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        ports = {p["name"] for c in pod_containers(deployment) for p in c.get("ports", [])}
        pdbs = [p for p in of_kind(docs, "PodDisruptionBudget")
                if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        if len(pdbs) != 1:
            problems.append(f"{where}: {len(pdbs)} PodDisruptionBudgets select it, expected 1")
        elif pdbs[0]["spec"].get("minAvailable") == deployment["spec"].get("replicas", 1):
            problems.append(f"{where}: its PDB would block every drain")
        services = [s for s in of_kind(docs, "Service") if s["spec"]["selector"].items() <= labels.items()]
        if len(services) != 1:
            problems.append(f"{where}: {len(services)} Services select it, expected 1")
        for service in services:
            for port in service["spec"]["ports"]:
                if port["targetPort"] not in ports:
                    problems.append(f"Service/{service['metadata']['name']}: targetPort {port['targetPort']} "
                                    "is no container port")
    for ingress in of_kind(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                if named(docs, "Service", path["backend"]["service"]["name"]) is None:
                    problems.append(f"Ingress/{ingress['metadata']['name']}: no Service {path['backend']['service']}")
    return problems


def check_autoscaling(docs: list[Doc]) -> Problems:
    problems = []
    declared = partitions(docs)
    kafka = of_kind(docs, "Kafka")[0]["metadata"]["name"]
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(docs, "ScaledObject")}
    for deployment in of_kind(docs, "Deployment"):
        service = component(deployment)
        name = deployment["metadata"]["name"]
        if not definition(service).consumes:
            if deployment["spec"].get("replicas") != 1 or name in scaled \
                    or deployment["spec"].get("strategy", {}).get("type") != "Recreate":
                problems.append(f"Deployment/{name}: a single writer: one replica, Recreate, never autoscaled")
            continue
        if name not in scaled:
            problems.append(f"Deployment/{name}: no ScaledObject")
            continue
        if "replicas" in deployment["spec"]:
            problems.append(f"Deployment/{name}: replicas set; every apply would undo the autoscaler")
        spec = scaled[name]["spec"]
        bound = max(declared[t] for t in definition(service).consumes)
        if not 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= bound:
            problems.append(f"ScaledObject/{name}: {spec['minReplicaCount']}..{spec['maxReplicaCount']} replicas; "
                            f"more than {bound} (the partitions of its largest topic) would sit idle")
        for trigger in spec["triggers"]:
            metadata = trigger["metadata"]
            if trigger["type"] != "kafka" or metadata.get("consumerGroup") != definition(service).group_id:
                problems.append(f"ScaledObject/{name}: not on the lag of group {definition(service).group_id}")
            if metadata.get("bootstrapServers") != f"{kafka}-kafka-bootstrap:9092":
                problems.append(f"ScaledObject/{name}: bootstrapServers is not the cluster's")
            if metadata.get("sasl") != "scram_sha512":
                problems.append(f"ScaledObject/{name}: the broker wants SCRAM-SHA-512 (sasl: scram_sha512)")
            auth = named(docs, "TriggerAuthentication", trigger.get("authenticationRef", {}).get("name", ""))
            if auth is None:
                problems.append(f"ScaledObject/{name}: no TriggerAuthentication (the broker wants SCRAM)")
                continue
            container = {c["name"] for c in pod_containers(deployment)}
            for ref in auth["spec"].get("env", []):
                if ref.get("containerName") not in container:
                    problems.append(f"TriggerAuthentication/{auth['metadata']['name']}: no container "
                                    f"{ref.get('containerName')} in {name}")
    return problems


def check_secrets(docs: list[Doc]) -> Problems:
    """Every Secret used is written by an operator (Strimzi: one per KafkaUser) or documented for the territory."""
    provided = documented_secrets() | {u["metadata"]["name"] for u in of_kind(docs, "KafkaUser")}
    return [f"{where}: Secret {name!r} is neither a KafkaUser's nor in deploy/kubernetes/README.md's table"
            for name, where in sorted(referenced_secrets(docs).items()) if name not in provided]


def check_monitoring(docs: list[Doc]) -> Problems:
    problems = []
    rules = of_kind(docs, "PrometheusRule")
    expected = yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))["groups"]
    if [r["spec"]["groups"] for r in rules] != [expected]:
        problems.append("PrometheusRule differs from deploy/prometheus/rules/ariane-alerts.yml: copy the file's "
                        "groups into deploy/kubernetes/base/alerts.yaml")
    dashboards = named(docs, "ConfigMap", "ariane-grafana-dashboards")
    files = {p.name: p.read_text(encoding="utf-8") for p in DASHBOARDS.glob("*.json")}
    if dashboards is None or dashboards["data"] != files:
        problems.append("the dashboards ConfigMap is not deploy/grafana/dashboards/*.json: list every file in "
                        "deploy/kubernetes/base/kustomization.yaml")
    monitors = of_kind(docs, "PodMonitor")
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        ports = {p["name"] for c in pod_containers(deployment) for p in c.get("ports", [])}
        scraping = [m for m in monitors if _selects(m["spec"]["selector"], labels)
                    and any(e.get("port") in ports and e.get("path", "/metrics") == "/metrics"
                            for e in m["spec"]["podMetricsEndpoints"])]
        if len(scraping) != 1:
            problems.append(f"Deployment/{deployment['metadata']['name']}: scraped by {len(scraping)} PodMonitors")
            continue
        job = labels.get(scraping[0]["spec"].get("jobLabel", ""), "")
        if not re.fullmatch(r"ariane-.*", job):  # ServiceDown and the dashboards select job=~"ariane-.*"
            problems.append(f"Deployment/{deployment['metadata']['name']}: job label {job!r}, not ariane-<service>")
    return problems


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        present = labels.get(expression["key"])
        if expression["operator"] == "In" and present not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and present in expression["values"]:
            return False
        if expression["operator"] == "Exists" and present is None:
            return False
    return True


CHECKS: dict[str, Callable[[list[Doc]], Problems]] = {
    "builtin_schemas": check_builtin_schemas,
    "crd_models": check_crd_models,
    "kafka": check_kafka,
    "topics": check_topics,
    "kafka_users": check_kafka_users,
    "deployments": check_deployments,
    "postgres": check_postgres,
    "pdbs_and_services": check_pdbs_and_services,
    "autoscaling": check_autoscaling,
    "secrets": check_secrets,
    "monitoring": check_monitoring,
}


# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_overlay(overlay: list[Doc], check: str) -> None:
    assert CHECKS[check](overlay) == []


def test_partners_are_structures_of_the_territory(overlay: list[Doc]) -> None:
    assert any(component(u) == "partner" for u in of_kind(overlay, "KafkaUser"))
    assert check_partners(overlay, OVERLAY / "territory.yaml") == []


@pytest.mark.parametrize("check", ["builtin_schemas", "crd_models", "kafka", "topics", "kafka_users", "postgres",
                                   "monitoring"])
def test_base(base: list[Doc], check: str) -> None:
    """The base alone (no territory) is valid too, and holds everything territory-neutral."""
    assert CHECKS[check](base) == []


def test_every_service_has_a_deployment_in_the_base(base: list[Doc]) -> None:
    assert {component(d) for d in of_kind(base, "Deployment")} == set(SERVICES)
    assert {definition(s).default_port for s in SERVICES} == {8101, 8102, 8103, 8104, 8105, 8106}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("folder", [BASE, OVERLAY], ids=["base", "overlay"])
def test_rendering_equals_kubectl_kustomize(folder: Path) -> None:
    out = subprocess.run(["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(folder)],
                         capture_output=True, text=True, check=True, timeout=120).stdout

    def key(doc: Doc) -> tuple[str, str]:
        return doc["kind"], doc["metadata"]["name"]

    assert sorted(build(folder), key=key) == sorted((d for d in yaml.safe_load_all(out) if d), key=key)


# ------------------------------------------------------------------------ each check finds what it is for


def _edit(docs: list[Doc], kind: str, name: str, change: Callable[[Doc], object]) -> list[Doc]:
    broken = copy.deepcopy(docs)
    change(named(broken, kind, name))
    return broken


def _container(doc: Doc) -> Doc:
    return pod_spec(doc)["containers"][0]


def _env(doc: Doc, name: str) -> Doc:
    return env_of(_container(doc))[name]


BREAKAGES: list[tuple[str, str, str, str, Callable[[Doc], object]]] = [
    # (check, what breaks, kind, name, change)
    ("builtin_schemas", "a typo in a Deployment", "Deployment", "ariane-intake",
     lambda d: d["spec"].update(replica=2)),
    ("builtin_schemas", "a port as words", "Service", "ariane-referral",
     lambda d: d["spec"]["ports"][0].update(port="eighty")),
    ("crd_models", "a typo in a ScaledObject", "ScaledObject", "ariane-followup",
     lambda d: d["spec"].update(maxReplicaCont=3)),
    ("crd_models", "a PodMonitor endpoint as a string", "PodMonitor", "ariane",
     lambda d: d["spec"].update(podMetricsEndpoints="http")),
    ("kafka", "ZooKeeper mode", "Kafka", "ariane",
     lambda d: d["metadata"]["annotations"].pop("strimzi.io/kraft")),
    ("kafka", "a listener without SCRAM", "Kafka", "ariane",
     lambda d: d["spec"]["kafka"]["listeners"][0].pop("authentication")),
    ("kafka", "records smaller than the relays send", "Kafka", "ariane",
     lambda d: d["spec"]["kafka"]["config"].update({"message.max.bytes": 500000})),
    ("kafka", "min ISR equal to replicas", "KafkaTopic", "ariane.intake.v1",
     lambda d: d["spec"]["config"].update({"min.insync.replicas": 3})),
    ("topics", "a clock with two partitions", "KafkaTopic", "ariane.clock.v1",
     lambda d: d["spec"].update(partitions=2)),
    ("topics", "a topic renamed", "KafkaTopic", "ariane.followup.v1",
     lambda d: d["spec"].update(topicName="ariane.follow-up.v1")),
    ("topics", "the intake topic expiring", "KafkaTopic", "ariane.intake.v1",
     lambda d: d["spec"]["config"].update({"retention.ms": 604800000})),
    ("kafka_users", "referral writing followup's topic", "KafkaUser", "ariane-referral",
     lambda d: d["spec"]["authorization"]["acls"].append(
         {"resource": {"type": "topic", "name": topics.FOLLOWUP, "patternType": "literal"}, "operations": ["Write"]})),
    ("kafka_users", "followup not reading the referral topic", "KafkaUser", "ariane-followup",
     lambda d: d["spec"]["authorization"]["acls"].pop(1)),
    ("kafka_users", "an ACL on a topic that does not exist", "KafkaUser", "ariane-reporting",
     lambda d: d["spec"]["authorization"]["acls"][0]["resource"].update(name="ariane.intakes.v1")),
    ("kafka_users", "a partner reading its inbound topic", "KafkaUser", "ariane-partner-cap-emploi-49",
     lambda d: d["spec"]["authorization"]["acls"][0]["operations"].append("Read")),
    ("kafka_users", "a partner writing another partner's topic", "KafkaUser", "ariane-partner-cap-emploi-49",
     lambda d: d["spec"]["authorization"]["acls"][0]["resource"].update(
         name=topics.inbound_topic("mission_locale_angevine"))),
    ("kafka_users", "a partner writing the old shared topic", "KafkaUser", "ariane-partner-cap-emploi-49",
     lambda d: d["spec"]["authorization"]["acls"][0]["resource"].update(name=topics.INBOUND)),
    ("kafka_users", "a service reading every topic by prefix", "KafkaUser", "ariane-reporting",
     lambda d: d["spec"]["authorization"]["acls"][0]["resource"].update(name="ariane.", patternType="prefix")),
    ("deployments", "a wrong port", "Deployment", "ariane-followup",
     lambda d: _container(d)["ports"][0].update(containerPort=8104)),
    ("deployments", "readiness on /health", "Deployment", "ariane-reporting",
     lambda d: _container(d)["readinessProbe"]["httpGet"].update(path="/health")),
    ("deployments", "running as root", "Deployment", "ariane-intake",
     lambda d: pod_spec(d)["securityContext"].pop("runAsNonRoot")),
    ("deployments", "a writable root fs", "Deployment", "ariane-clock",
     lambda d: _container(d)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("deployments", "a misspelt setting", "Deployment", "ariane-referral",
     lambda d: _container(d)["env"].append({"name": "ARIANE_REFERRAL_TOKEN", "value": "{}"})),
    ("deployments", "another service's Kafka user", "Deployment", "ariane-followup",
     lambda d: _env(d, "ARIANE_KAFKA_USERNAME").update(value="ariane-referral")),
    ("deployments", "another service's database", "Deployment", "ariane-reporting",
     lambda d: _env(d, "ARIANE_DATABASE_URL").update(value=_env(d, "ARIANE_DATABASE_URL")["value"].replace(
         "ariane_reporting", "ariane_followup"))),
    ("deployments", "no memory limit", "Deployment", "ariane-intake",
     lambda d: _container(d)["resources"].pop("limits")),
    ("postgres", "a database owned by nobody", "Database", "ariane-clock",
     lambda d: d["spec"].update(owner="ariane_nobody")),
    ("pdbs_and_services", "a PDB selecting nothing", "PodDisruptionBudget", "ariane-referral",
     lambda d: d["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "ariane-referal"})),
    ("pdbs_and_services", "a Service to a missing port", "Service", "ariane-intake",
     lambda d: d["spec"]["ports"][0].update(targetPort="web")),
    ("autoscaling", "more replicas than partitions", "ScaledObject", "ariane-reporting",
     lambda d: d["spec"].update(maxReplicaCount=12)),
    ("autoscaling", "lag of another group", "ScaledObject", "ariane-intake",
     lambda d: d["spec"]["triggers"][0]["metadata"].update(consumerGroup="ariane-referral")),
    ("autoscaling", "KEDA without SASL", "ScaledObject", "ariane-followup",
     lambda d: d["spec"]["triggers"][0]["metadata"].pop("sasl")),
    ("autoscaling", "two clocks", "Deployment", "ariane-clock",
     lambda d: d["spec"].update(replicas=2)),
    ("secrets", "an undocumented Secret", "Deployment", "ariane-intake",
     lambda d: _env(d, "ARIANE_INTAKE_MASTER_KEY")["valueFrom"]["secretKeyRef"].update(name="intake-keys")),
    ("monitoring", "an alert missing", "PrometheusRule", "ariane-alerts",
     lambda d: d["spec"]["groups"][1]["rules"].pop()),
    ("monitoring", "a dashboard missing", "ConfigMap", "ariane-grafana-dashboards",
     lambda d: d["data"].pop("outcomes.json")),
    ("monitoring", "pods the PodMonitor does not select", "Deployment", "ariane-clock",
     lambda d: d["spec"]["template"]["metadata"]["labels"].update({"app.kubernetes.io/part-of": "other"})),
]


@pytest.mark.parametrize(("check", "what", "kind", "name", "change"), BREAKAGES, ids=[b[1] for b in BREAKAGES])
def test_each_check_finds_a_broken_manifest(overlay: list[Doc], check: str, what: str, kind: str, name: str,
                                            change: Callable[[Doc], object]) -> None:
    assert CHECKS[check](_edit(overlay, kind, name, change)), f"{check} did not notice {what}"


def test_partner_check_finds_an_unknown_structure(overlay: list[Doc]) -> None:
    broken = _edit(overlay, "KafkaUser", "ariane-partner-departement-49",
                   lambda d: d["metadata"]["annotations"].update({"ariane/structure-id": "departement_44"}))
    assert check_partners(broken, OVERLAY / "territory.yaml")


def test_partner_check_finds_a_structure_without_its_topic(overlay: list[Doc]) -> None:
    broken = [d for d in overlay if d["kind"] != "KafkaTopic"
              or d["spec"].get("topicName") != topics.inbound_topic("par_emploi")]
    assert check_partners(broken, OVERLAY / "territory.yaml")


def test_every_check_is_tried_broken() -> None:
    assert {b[0] for b in BREAKAGES} == set(CHECKS)


# ------------------------------------------------------------------------------------------ the runbook

RUNBOOK = REPO / "deploy" / "RUNBOOK.md"


def test_runbook_says_what_to_do_for_every_alert() -> None:
    alerts = [rule["alert"] for group in yaml.safe_load(ALERTS_FILE.read_text(encoding="utf-8"))["groups"]
              for rule in group["rules"] if "alert" in rule]
    sections = re.findall(r"^### (\w+)", RUNBOOK.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert alerts and [a for a in alerts if a not in sections] == []


def test_runbook_names_only_commands_that_exist() -> None:
    import click
    import typer

    from cli.main import app

    root = typer.main.get_command(app)
    context = click.Context(root)  # commands are loaded when asked for by name (cli.lazy_commands)
    text = RUNBOOK.read_text(encoding="utf-8")
    used = set(re.findall(r"\bariane ([a-z][a-z-]+)(?: ([a-z][a-z-]+))?", text))
    assert used
    missing = []
    for first, second in sorted(used):
        command = root.get_command(context, first)
        if command is None:
            missing.append(first)
        elif hasattr(command, "commands") and command.commands.get(second) is None:  # a group: its subcommand
            missing.append(f"{first} {second}")
    assert missing == [], f"deploy/RUNBOOK.md names commands `ariane --help` does not know: {missing}"
