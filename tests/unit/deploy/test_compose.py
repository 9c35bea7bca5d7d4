"""deploy/compose.yaml checked against the project, without a Docker engine.

Nothing here starts a container: the file is read with PyYAML and every name it uses (build files, mounted
paths, volumes, services, ports, modules, settings, scrape targets, datasource) is looked up in the repository.
Each check is a function returning the problems it finds, so the last test can prove, on broken copies of
the file, that every check does find something.
"""

from __future__ import annotations

import base64
import copy
import importlib
import importlib.util
import os
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from services.runtime.settings import RuntimeSettings
from local.supervisor import SERVICES

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
PROMETHEUS_LOCAL = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA_DATASOURCE_LOCAL = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml"

# The compose keys this file may use; a typo ("healthchek") would otherwise be silently ignored by a reader
# like this test, while Docker would refuse the file.
TOP_LEVEL_KEYS = {"name", "services", "volumes", "networks", "configs", "secrets"}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes",
    "depends_on", "healthcheck", "restart", "stop_grace_period", "stop_signal", "user", "working_dir",
    "networks", "labels", "profiles", "init", "deploy", "logging", "ulimits",
}
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

Doc = dict
Problems = list[str]


# ---------------------------------------------------------------------------------------------- reading


def load_compose() -> Doc:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default} substitution, with an empty host environment (the file must work as is)."""
    return _VARIABLE.sub(lambda m: m.group(3) or "", value.replace("$$", "\0")).replace("\0", "$")


def services(doc: Doc) -> dict[str, dict]:
    return doc.get("services") or {}


def environment(service: dict) -> dict[str, str | None]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["NAME=value", "NAME"]
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {str(k): (None if v is None else interpolate(str(v))) for k, v in env.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def python_services(doc: Doc) -> dict[str, dict]:
    """Containers running the project's own image (those with a build of this repository)."""
    return {name: svc for name, svc in services(doc).items() if "build" in svc}


def parse_port(entry: str | int | dict) -> tuple[str | None, int | None, int]:
    """(host ip, host port, container port) of a short ("[ip:]host:container[/proto]") or long port entry."""
    if isinstance(entry, dict):
        published = entry.get("published")
        return entry.get("host_ip"), int(published) if published is not None else None, int(entry["target"])
    text = str(entry).split("/", 1)[0]
    parts = text.rsplit(":", 2)
    if len(parts) == 1:
        return None, None, int(parts[0])
    if len(parts) == 2:
        return None, int(parts[0]), int(parts[1])
    return parts[0], int(parts[1]), int(parts[2])


def mounts(service: dict) -> list[tuple[str, str, str]]:
    """(kind, source, container target) of every volume entry: kind is "bind" or "volume"."""
    found = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            found.append((entry.get("type", "volume"), str(entry.get("source", "")), str(entry["target"])))
            continue
        source, target = str(entry).split(":")[:2]
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        found.append((kind, source, target))
    return found


def host_path(source: str) -> Path:
    return (DEPLOY / source).resolve()


def container_to_host(service: dict, container_path: str) -> Path | None:
    """The repository path a container sees at ``container_path`` through this service's bind mounts."""
    wanted = PurePosixPath(container_path)
    for kind, source, target in sorted(mounts(service), key=lambda m: -len(m[2])):
        if kind != "bind":
            continue
        target_path = PurePosixPath(target)
        if wanted == target_path or target_path in wanted.parents:
            return host_path(source).joinpath(*wanted.relative_to(target_path).parts)
    return None


def healthcheck_test(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return test if isinstance(test, str) else " ".join(str(part) for part in test)


def settings_classes() -> dict[str, type[BaseSettings]]:
    """env prefix -> settings class, for RuntimeSettings and every services/<svc>/settings.py."""
    classes: dict[str, type[BaseSettings]] = {"ARIANE_": RuntimeSettings}
    for path in sorted(REPO.glob("services/*/settings.py")):
        module = importlib.import_module(f"services.{path.parent.name}.settings")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, BaseSettings) and value is not BaseSettings:
                classes[value.model_config.get("env_prefix", "")] = value
    return classes


def source_mentions(name: str) -> bool:
    needle = f'"{name}"'
    return any(needle in path.read_text(encoding="utf-8") for path in REPO.glob("services/**/*.py"))


def listener_port(kafka: dict, host: str) -> int | None:
    """The port of the advertised Kafka listener whose host is ``host`` (what clients are told to use)."""
    for listener in environment(kafka).get("KAFKA_ADVERTISED_LISTENERS", "").split(","):
        where = urlsplit(listener.strip())
        if where.hostname == host:
            return where.port
    return None


# ---------------------------------------------------------------------------------------------- checks


def problems_structure(doc: Doc) -> Problems:
    found = [f"unknown top-level key {key!r}" for key in doc if key not in TOP_LEVEL_KEYS
             and not str(key).startswith("x-")]
    if not services(doc):
        found.append("no services")
    for name, svc in services(doc).items():
        found += [f"{name}: unknown key {key!r}" for key in svc if key not in SERVICE_KEYS]
    return found


def problems_variables(text: str) -> Problems:
    text = text.replace("$$", "")
    return [f"${{{m.group(1)}}} has no default: the file must work without a .env"
            for m in _VARIABLE.finditer(text) if m.group(2) is None]


def problems_images(doc: Doc) -> Problems:
    found = []
    for name, svc in services(doc).items():
        build = svc.get("build")
        if build is None:
            image = str(svc.get("image", ""))
            if not image:
                found.append(f"{name}: neither image nor build")
            elif ":" not in image or image.endswith(":latest"):
                found.append(f"{name}: image {image!r} is not pinned to a version")
            continue
        build = {"context": build} if isinstance(build, str) else build
        context = host_path(build.get("context", "."))
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not context.is_dir():
            found.append(f"{name}: build context {context} does not exist")
        if not dockerfile.is_file():
            found.append(f"{name}: Dockerfile {dockerfile} does not exist")
            continue
        base = [line.split()[1] for line in dockerfile.read_text(encoding="utf-8").splitlines()
                if line.upper().startswith("FROM ")]
        if base != ["python:3.11-slim"]:
            found.append(f"{name}: {dockerfile.name} is not built FROM python:3.11-slim")
        ignored = dockerignore_keeps(dockerfile)
        for source in dockerfile_copy_sources(dockerfile):
            if not (context / source).exists():
                found.append(f"{name}: {dockerfile.name} copies {source}, absent from the build context")
            if ignored is not None and source.strip("./").split("/")[0] not in ignored:
                found.append(f"{name}: {dockerfile.name} copies {source}, which {dockerfile.name}.dockerignore leaves out")
    return found


def dockerignore_keeps(dockerfile: Path) -> set[str] | None:
    """Top-level names re-included by a "leave out everything but" ignore file; None when there is none."""
    ignore = dockerfile.with_name(f"{dockerfile.name}.dockerignore")
    if not ignore.is_file():
        return None
    lines = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
    if "*" not in lines:
        return None
    return {line[1:].strip("/").split("/")[0] for line in lines if line.startswith("!")}


def dockerfile_copy_sources(dockerfile: Path) -> list[str]:
    sources = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words and words[0].upper() in {"COPY", "ADD"} and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def problems_volumes(doc: Doc) -> Problems:
    declared = set((doc.get("volumes") or {}).keys())
    used = set()
    found = []
    for name, svc in services(doc).items():
        for kind, source, target in mounts(svc):
            if not target.startswith("/"):
                found.append(f"{name}: mount target {target!r} is not absolute")
            if kind == "bind":
                if not host_path(source).exists():
                    found.append(f"{name}: bind-mounted {source} does not exist in the repository")
            else:
                used.add(source)
                if source not in declared:
                    found.append(f"{name}: named volume {source!r} is not declared under volumes:")
    found += [f"volume {v!r} is declared but no service uses it" for v in sorted(declared - used)]
    return found


def problems_depends_on(doc: Doc) -> Problems:
    found = []
    graph: dict[str, set[str]] = {}
    for name, svc in services(doc).items():
        deps = svc.get("depends_on") or {}
        deps = {d: {"condition": "service_started"} for d in deps} if isinstance(deps, list) else deps
        graph[name] = set(deps)
        for target, spec in deps.items():
            condition = (spec or {}).get("condition", "service_started")
            other = services(doc).get(target)
            if other is None:
                found.append(f"{name}: depends on {target!r}, which is not a service")
                continue
            if condition not in DEPENDS_CONDITIONS:
                found.append(f"{name}: unknown condition {condition!r} on {target}")
            if condition == "service_healthy" and not other.get("healthcheck"):
                found.append(f"{name}: waits for {target} to be healthy, but {target} has no healthcheck")
            if condition == "service_completed_successfully" and other.get("restart", "no") != "no":
                found.append(f"{name}: waits for {target} to complete, but {target} restarts")
    # No cycle: compose would refuse to start.
    done: set[str] = set()
    while len(done) < len(graph):
        ready = [n for n, deps in graph.items() if n not in done and deps <= done | (deps - graph.keys())]
        if not ready:
            found.append(f"depends_on cycle among {sorted(set(graph) - done)}")
            break
        done.update(ready)
    return found


def problems_ports(doc: Doc) -> Problems:
    found = []
    seen: dict[int, str] = {}
    for name, svc in services(doc).items():
        for entry in svc.get("ports") or []:
            published = parse_port(entry)[1]
            if published in seen:
                found.append(f"{name}: host port {published} already published by {seen[published]}")
            elif published is not None:
                seen[published] = name
    for name, port in SERVICES.items():
        svc = services(doc).get(name)
        if svc is None:
            found.append(f"service {name} (services/supervisor.py) is missing from compose")
            continue
        targets = {parse_port(entry)[2] for entry in svc.get("ports") or []}
        if port not in targets:
            found.append(f"{name}: container port {port} (services/supervisor.py) is not published")
        if f"127.0.0.1:{port}/health" not in healthcheck_test(svc):
            found.append(f"{name}: healthcheck does not ask http://127.0.0.1:{port}/health")
        if command(svc) != ["python", "-m", f"services.{name}"]:
            found.append(f"{name}: command {command(svc)} is not python -m services.{name}")
        needs = svc.get("depends_on") or {}
        for dependency, condition in (("kafka", "service_healthy"), ("postgres", "service_healthy"),
                                      ("kafka-topics", "service_completed_successfully")):
            if (needs.get(dependency) or {}).get("condition") != condition:
                found.append(f"{name}: should wait for {dependency} ({condition})")
    return found


def problems_commands(doc: Doc) -> Problems:
    found = []
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    for name, svc in python_services(doc).items():
        argv = command(svc)
        if argv[:2] == ["python", "-m"]:
            module = argv[2]
            spec = importlib.util.find_spec(module)
            if spec is None:
                found.append(f"{name}: module {module} does not exist")
                continue
            if spec.submodule_search_locations is not None and importlib.util.find_spec(f"{module}.__main__") is None:
                found.append(f"{name}: package {module} has no __main__")
            if module == "cli.main":
                found += cli_problems(name, argv[3:])
        elif argv and argv[0] == "ariane":
            if "ariane" not in scripts:
                found.append(f"{name}: no `ariane` script in pyproject.toml")
            found += cli_problems(name, argv[1:])
        else:
            found.append(f"{name}: unexpected command {argv}")
    return found


def cli_problems(name: str, args: list[str]) -> Problems:
    """Ask the real command line whether it knows these subcommands and options (--help stops before running)."""
    from cli.main import app

    result = CliRunner().invoke(app, [*args, "--help"])
    return [] if result.exit_code == 0 else [f"{name}: `ariane {' '.join(args)}` is not a command: {result.output}"]


def problems_environment(doc: Doc) -> Problems:
    found = []
    classes = settings_classes()
    for name, svc in python_services(doc).items():
        for variable in environment(svc):
            if variable.startswith("ARIANE_"):
                owners = [cls for prefix, cls in classes.items() if variable.startswith(prefix)
                          and variable[len(prefix):].lower() in cls.model_fields]
                if not owners:
                    found.append(f"{name}: {variable} is no field of any settings class")
            elif not source_mentions(variable):
                found.append(f"{name}: {variable} is read nowhere in services/")
    return found


def problems_wiring(doc: Doc, monkeypatch: pytest.MonkeyPatch) -> Problems:
    """The values the Python containers get: broker and database are compose services, HTTP on every interface."""
    found = []
    all_services = services(doc)
    postgres_env = environment(all_services.get("postgres", {}))
    kafka = all_services.get("kafka", {})
    for name, svc in python_services(doc).items():
        env = environment(svc)
        bootstrap = env.get("ARIANE_KAFKA_BOOTSTRAP") or env.get("KAFKA_BOOTSTRAP")
        if not bootstrap:
            found.append(f"{name}: no broker address")
        else:
            host, _, port = bootstrap.partition(":")
            if host not in all_services:
                found.append(f"{name}: broker host {host!r} is not a compose service")
            elif listener_port(all_services[host], host) != int(port or 0):
                found.append(f"{name}: {bootstrap} is not a listener the broker advertises")
        if "KAFKA_BOOTSTRAP" in env or name == "clock":
            continue
        with monkeypatch.context() as patch:
            for variable in [v for v in os.environ if v.startswith("ARIANE_") or v == "KAFKA_BOOTSTRAP"]:
                patch.delenv(variable)
            for variable, value in env.items():
                if value is not None:
                    patch.setenv(variable, value)
            settings = RuntimeSettings()
        if name in SERVICES and settings.http_host != "0.0.0.0":
            found.append(f"{name}: binds {settings.http_host}, unreachable from other containers")
        if not settings.database_url:
            found.append(f"{name}: no database URL: it would use SQLite inside the container")
            continue
        url = make_url(settings.database_url)
        if url.drivername != "postgresql+asyncpg":
            found.append(f"{name}: database driver {url.drivername}")
        if url.host not in all_services:
            found.append(f"{name}: database host {url.host!r} is not a compose service")
        expected = (postgres_env.get("POSTGRES_USER"), postgres_env.get("POSTGRES_PASSWORD"),
                    postgres_env.get("POSTGRES_DB"))
        if (url.username, url.password, url.database) != expected:
            found.append(f"{name}: database credentials do not match the postgres service")
    if kafka and listener_port(kafka, "kafka") is None:
        found.append("kafka: no listener advertised as kafka:<port> for the containers")
    return found


def problems_infrastructure(doc: Doc) -> Problems:
    found = []
    all_services = services(doc)
    kafka = all_services.get("kafka")
    if kafka is None:
        return ["no kafka service"]
    env = environment(kafka)
    if not str(kafka.get("image", "")).startswith("apache/kafka:"):
        found.append("kafka: not the apache/kafka image")
    if set(env.get("KAFKA_PROCESS_ROLES", "").split(",")) != {"broker", "controller"}:
        found.append("kafka: not a combined KRaft node (process roles broker,controller)")
    voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
    if voters.partition("@")[2].partition(":")[0] != "kafka" or voters.partition("@")[0] != str(env.get("KAFKA_NODE_ID")):
        found.append(f"kafka: quorum voters {voters!r} do not name this node")
    cluster_id = env.get("CLUSTER_ID") or ""
    try:
        if len(base64.urlsafe_b64decode(cluster_id + "==")) != 16:
            raise ValueError
    except ValueError:
        found.append(f"kafka: CLUSTER_ID {cluster_id!r} is not 16 bytes of base64url")
    if not kafka.get("healthcheck"):
        found.append("kafka: no healthcheck")
    topics = all_services.get("kafka-topics")
    if topics is None or command(topics)[:3] != ["ariane", "kafka", "start"]:
        found.append("no kafka-topics job running `ariane kafka start`")
    elif "KAFKA_BOOTSTRAP" not in environment(topics):
        found.append("kafka-topics: without KAFKA_BOOTSTRAP `ariane kafka start` would start a broker of its own")
    postgres = all_services.get("postgres", {})
    if postgres.get("image") != "postgres:16" and not str(postgres.get("image", "")).startswith("postgres:16."):
        found.append("postgres: not PostgreSQL 16")
    if not postgres.get("healthcheck"):
        found.append("postgres: no healthcheck")
    if not any(kind == "volume" and target == "/var/lib/postgresql/data" for kind, _, target in mounts(postgres)):
        found.append("postgres: data not on a named volume")
    clock = all_services.get("clock")
    if clock is None or command(clock) != ["python", "-m", "cli.main", "run", "clock"]:
        found.append("no clock running `python -m cli.main run clock`")
    return found


def problems_prometheus(doc: Doc) -> Problems:
    prometheus = services(doc).get("prometheus")
    if prometheus is None:
        return ["no prometheus service"]
    found = []
    config_arg = next((a.split("=", 1)[1] for a in command(prometheus) if a.startswith("--config.file=")),
                      "/etc/prometheus/prometheus.yml")
    config_path = container_to_host(prometheus, config_arg)
    if config_path is None or not config_path.is_file():
        return [f"prometheus: {config_arg} is not mounted from a file of the repository"]
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for rule in config.get("rule_files") or []:
        mounted = container_to_host(prometheus, str(PurePosixPath(config_arg).parent / rule))
        if mounted is None or not mounted.is_file():
            found.append(f"prometheus: rule file {rule} is not mounted next to the config")
    scraped: dict[str, int] = {}
    for job in config.get("scrape_configs") or []:
        for group in job.get("static_configs") or []:
            for target in group.get("targets") or []:
                host, _, port = str(target).partition(":")
                scraped[host] = int(port)
                if host not in services(doc):
                    found.append(f"prometheus: target {target} is not a compose service")
                elif SERVICES.get(host) != int(port):
                    found.append(f"prometheus: target {target} is not {host}'s port {SERVICES.get(host)}")
    found += [f"prometheus: {name} is not scraped" for name in SERVICES if name not in scraped]
    # The compose config and the local one must not drift apart: same jobs, same rules.
    local = yaml.safe_load(PROMETHEUS_LOCAL.read_text(encoding="utf-8"))
    if [j["job_name"] for j in local["scrape_configs"]] != [j["job_name"] for j in config["scrape_configs"]]:
        found.append("prometheus: compose jobs differ from deploy/prometheus/prometheus.yml")
    if local.get("rule_files") != config.get("rule_files"):
        found.append("prometheus: compose rule files differ from deploy/prometheus/prometheus.yml")
    return found


def problems_grafana(doc: Doc) -> Problems:
    grafana = services(doc).get("grafana")
    if grafana is None:
        return ["no grafana service"]
    found = []
    datasources_dir = container_to_host(grafana, "/etc/grafana/provisioning/datasources")
    if datasources_dir is None or not datasources_dir.is_dir():
        return ["grafana: no datasource provisioning mounted"]
    local_uid = yaml.safe_load(GRAFANA_DATASOURCE_LOCAL.read_text(encoding="utf-8"))["datasources"][0]["uid"]
    uids = set()
    for path in sorted(datasources_dir.glob("*.y*ml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8")).get("datasources") or []:
            uids.add(source.get("uid"))
            url = urlsplit(source.get("url", ""))
            target = services(doc).get(url.hostname or "")
            if target is None:
                found.append(f"grafana: datasource {source.get('name')} points at {url.hostname}, not a compose service")
            elif url.port not in {9090} | {parse_port(p)[2] for p in target.get("ports") or []}:
                found.append(f"grafana: datasource port {url.port} is not one {url.hostname} listens on")
    if local_uid not in uids:
        found.append(f"grafana: no datasource with uid {local_uid!r}, which the dashboards use")
    providers_dir = container_to_host(grafana, "/etc/grafana/provisioning/dashboards")
    if providers_dir is None or not providers_dir.is_dir():
        return [*found, "grafana: no dashboard provisioning mounted"]
    for path in sorted(providers_dir.glob("*.y*ml")):
        for provider in yaml.safe_load(path.read_text(encoding="utf-8")).get("providers") or []:
            folder = container_to_host(grafana, provider["options"]["path"])
            if folder is None or not list(folder.glob("*.json")):
                found.append(f"grafana: dashboards path {provider['options']['path']} holds no mounted dashboard")
    return found


# ---------------------------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def doc() -> Doc:
    return load_compose()


def test_structure_uses_only_known_compose_keys(doc: Doc) -> None:
    assert problems_structure(doc) == []


def test_every_variable_has_a_default() -> None:
    assert problems_variables(COMPOSE_FILE.read_text(encoding="utf-8")) == []


def test_every_service_has_a_pinned_image_or_a_build_that_exists(doc: Doc) -> None:
    assert problems_images(doc) == []


def test_bind_mounts_exist_and_named_volumes_are_declared(doc: Doc) -> None:
    assert problems_volumes(doc) == []


def test_depends_on_names_services_with_the_conditions_they_can_meet(doc: Doc) -> None:
    assert problems_depends_on(doc) == []


def test_ports_are_unique_and_match_the_supervisor(doc: Doc) -> None:
    assert problems_ports(doc) == []


def test_commands_name_modules_and_subcommands_that_exist(doc: Doc) -> None:
    assert problems_commands(doc) == []


def test_environment_names_are_settings_fields(doc: Doc) -> None:
    assert problems_environment(doc) == []


def test_services_reach_the_broker_and_database_of_the_compose_file(doc: Doc, monkeypatch: pytest.MonkeyPatch) -> None:
    assert problems_wiring(doc, monkeypatch) == []


def test_kafka_postgres_topics_and_clock(doc: Doc) -> None:
    assert problems_infrastructure(doc) == []


def test_prometheus_scrapes_the_compose_services(doc: Doc) -> None:
    assert problems_prometheus(doc) == []


def test_grafana_reads_the_compose_prometheus_and_the_dashboards(doc: Doc) -> None:
    assert problems_grafana(doc) == []


def _set(path: list, value: object):
    def mutate(doc: Doc) -> None:
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


BREAKAGES = {
    "typo in a key": (problems_structure, _set(["services", "intake", "healthchek"], {})),
    "missing Dockerfile": (problems_images, _set(["services", "intake", "build"],
                                                 {"context": "..", "dockerfile": "deploy/docker/Nope"})),
    "unpinned image": (problems_images, _set(["services", "postgres", "image"], "postgres")),
    "missing bind path": (problems_volumes, _set(["services", "prometheus", "volumes", 1],
                                                 "./prometheus/no-rules:/etc/prometheus/rules:ro")),
    "undeclared volume": (problems_volumes, _set(["services", "grafana", "volumes", 3], "nowhere:/var/lib/grafana")),
    "unknown dependency": (problems_depends_on, _set(["services", "grafana", "depends_on"],
                                                     {"prometheos": {"condition": "service_started"}})),
    "healthy without healthcheck": (problems_depends_on, _set(["services", "grafana", "depends_on"],
                                                              {"clock": {"condition": "service_healthy"}})),
    "duplicate host port": (problems_ports, _set(["services", "grafana", "ports"], ["127.0.0.1:8101:3000"])),
    "wrong service port": (problems_ports, _set(["services", "referral", "ports"], ["127.0.0.1:8112:8112"])),
    "unknown module": (problems_commands, _set(["services", "referral", "command"],
                                               ["python", "-m", "services.referal"])),
    "unknown subcommand": (problems_commands, _set(["services", "clock", "command"],
                                                   ["python", "-m", "cli.main", "run", "clocks"])),
    "unknown setting": (problems_environment, _set(["services", "reporting", "environment", "ARIANE_HTTP_HOTS"],
                                                   "0.0.0.0")),
    "unknown service setting": (problems_environment, _set(["services", "intake", "environment",
                                                            "ARIANE_INTAKE_SECRET"], "x")),
    "clock without CLI": (problems_infrastructure, _set(["services", "clock", "command"],
                                                        ["python", "-m", "services.followup"])),
    "bad cluster id": (problems_infrastructure, _set(["services", "kafka", "environment", "CLUSTER_ID"], "abc")),
    "prometheus config unmounted": (problems_prometheus, _set(["services", "prometheus", "volumes", 0],
                                                              "./prometheus/prometheus.yml:/etc/prometheus/other.yml")),
    "local prometheus config": (problems_prometheus, _set(["services", "prometheus", "volumes", 0],
                                                          "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml")),
    "grafana local datasource": (problems_grafana, _set(["services", "grafana", "volumes", 1],
                                                        "./grafana/provisioning/datasources:"
                                                        "/etc/grafana/provisioning/datasources:ro")),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_each_check_finds_a_broken_copy(breakage: str, doc: Doc) -> None:
    check, mutate = BREAKAGES[breakage]
    broken = copy.deepcopy(doc)
    mutate(broken)
    assert check(broken), f"{check.__name__} saw nothing wrong after: {breakage}"


@pytest.mark.parametrize("broken_env", [
    {"ARIANE_HTTP_HOST": "127.0.0.1"},
    {"ARIANE_KAFKA_BOOTSTRAP": "localhost:9092"},
    {"ARIANE_DATABASE_URL": "postgresql+asyncpg://ariane:wrong@postgres:5432/ariane"},
])
def test_wiring_finds_a_broken_copy(broken_env: dict, doc: Doc, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = copy.deepcopy(doc)
    broken["services"]["followup"]["environment"].update(broken_env)
    assert problems_wiring(broken, monkeypatch)


def test_variables_without_default_are_found() -> None:
    assert problems_variables("url: ${NO_DEFAULT}\nok: ${WITH:-x} $${ESCAPED}") == [
        "${NO_DEFAULT} has no default: the file must work without a .env"]
