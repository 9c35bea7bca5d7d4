"""The local Kafka runtime without a broker: config, version pin, errors a human can act on."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from pathlib import Path

import pytest

from contracts.territory import DEFAULT_TERRITORY_FILE, load_territory
from contracts.topics import ALL_TOPICS, SINGLE_PARTITION_TOPICS
from local import kafka as kafka_local
from local.kafka import KafkaRuntimeError, LocalKafka


@pytest.fixture
def bare_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No java, no mvn, no KAFKA_HOME/KAFKA_BOOTSTRAP, an empty cache: a fresh machine without tools."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("JAVA_HOME", "KAFKA_HOME", "KAFKA_BOOTSTRAP"):
        monkeypatch.delenv(name, raising=False)
    return empty_bin


def test_missing_java_is_a_clear_error_not_a_stack_trace(bare_env: Path, tmp_path: Path):
    broker = LocalKafka(tmp_path / "kafka")
    with pytest.raises(KafkaRuntimeError) as caught:
        broker.start(timeout=5)
    message = str(caught.value)
    assert "Java was not found" in message and "KAFKA_BOOTSTRAP" in message
    assert not broker.state_path.exists()


def test_missing_maven_is_a_clear_error(bare_env: Path):
    with pytest.raises(KafkaRuntimeError, match=r"Maven was not found"):
        kafka_local.ensure_jars()


def test_failed_maven_reports_its_output_tail_and_leaves_nothing_that_looks_complete(bare_env: Path):
    fake = bare_env / "mvn"
    fake.write_text("#!/bin/sh\necho resolving things\necho 'Could not resolve org.apache.kafka:kafka_2.13'\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(KafkaRuntimeError) as caught:
        kafka_local.ensure_jars()
    assert "exit 3" in str(caught.value)
    assert "Could not resolve org.apache.kafka:kafka_2.13" in str(caught.value)
    lib = kafka_local.jars_dir()
    assert not lib.exists()
    assert list(lib.parent.iterdir()) == []  # the staging folder is gone too


def test_successful_download_is_renamed_into_place(bare_env: Path):
    version = kafka_local.kafka_version()
    fake = bare_env / "mvn"
    jars = [f"kafka_2.13-{version}.jar", f"kafka-clients-{version}.jar", f"kafka-storage-{version}.jar",
            "slf4j-reload4j-1.7.36.jar", "reload4j-1.2.25.jar"]
    script = "#!/bin/sh\nfor a in \"$@\"; do case $a in -DoutputDirectory=*) out=${a#-DoutputDirectory=};; esac; done\n"
    script += "".join(f': > "$out/{jar}"\n' for jar in jars)  # shell builtins only: PATH is empty
    fake.write_text(script)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    lib = kafka_local.ensure_jars()
    assert lib == kafka_local.jars_dir()
    assert sorted(p.name for p in lib.iterdir()) == sorted(jars)
    assert [p.name for p in lib.parent.iterdir()] == ["lib"]
    fake.unlink()  # cached now: no Maven needed any more
    assert kafka_local.ensure_jars() == lib


def test_kafka_home_libs_are_used_instead_of_downloading(bare_env: Path, tmp_path: Path, monkeypatch):
    libs = tmp_path / "kafka_2.13-3.9.1" / "libs"
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-3.9.1.jar").touch()
    monkeypatch.setenv("KAFKA_HOME", str(libs.parent))
    assert kafka_local.ensure_jars() == libs
    assert kafka_local.runtime_version() == "3.9.1"


def test_version_is_read_from_the_pom_and_keys_the_cache(monkeypatch, tmp_path: Path):
    version = kafka_local.kafka_version()
    pom = kafka_local.POM_PATH.read_text()
    assert f"<kafka.version>{version}</kafka.version>" in pom
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert kafka_local.jars_dir() == tmp_path / "ariane" / f"kafka-{version}" / "lib"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert kafka_local.jars_dir() == Path.home() / ".cache" / "ariane" / f"kafka-{version}" / "lib"


def test_server_properties_describe_one_combined_kraft_node_on_loopback(tmp_path: Path):
    props = kafka_local.server_properties(tmp_path, 19092, 19093, admin=("admin", "a-secret"),
                                          controller=("controller", "c-secret"))
    expected = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": "1@127.0.0.1:19093",
        "listeners": "CLIENT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093",
        "advertised.listeners": "CLIENT://127.0.0.1:19092",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": "User:admin;User:controller",
        "log.dirs": str(tmp_path / "data"),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "num.partitions": "6",
    }
    assert {k: props.get(k) for k in expected} == expected
    assert int(props["offsets.topic.num.partitions"]) <= 10
    assert int(props["transaction.state.log.num.partitions"]) <= 10
    # and what is written round-trips through a properties file
    path = tmp_path / "server.properties"
    kafka_local.write_properties(path, props, "test")
    assert kafka_local.read_properties(path) == props
    assert path.stat().st_mode & 0o077 == 0  # it holds passwords


def test_default_data_dir_follows_ariane_var_dir(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("ARIANE_VAR_DIR", str(tmp_path / "var"))
    assert kafka_local.default_data_dir() == tmp_path / "var" / "kafka"
    monkeypatch.delenv("ARIANE_VAR_DIR")
    monkeypatch.chdir(tmp_path)
    assert kafka_local.default_data_dir() == tmp_path / ".var" / "kafka"


def test_a_listening_port_is_not_free_and_requested_busy_ports_are_refused(tmp_path: Path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        busy = server.getsockname()[1]
        assert not kafka_local.port_is_free(busy)
        broker = LocalKafka(tmp_path, port=busy)
        with pytest.raises(KafkaRuntimeError, match="already in use"):
            broker._choose_ports(None)
    a = kafka_local.free_port()
    b = kafka_local.free_port(exclude=[a])
    assert a != b and kafka_local.port_is_free(a) and kafka_local.port_is_free(b)


def test_resolve_bootstrap_prefers_env_then_a_live_local_broker(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("KAFKA_BOOTSTRAP", raising=False)
    assert kafka_local.resolve_bootstrap(tmp_path) is None
    # a stale broker.json (its pid is not a broker of this data dir) is not a running broker
    (tmp_path / "broker.json").write_text(json.dumps(
        {"pid": os.getpid(), "bootstrap": "127.0.0.1:1", "port": 1, "controller_port": 2, "version": "x"}
    ))
    assert kafka_local.resolve_bootstrap(tmp_path) is None
    assert not LocalKafka(tmp_path).is_running()
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "broker.example:9092")
    assert kafka_local.resolve_bootstrap(tmp_path) == "broker.example:9092"


def test_topic_plan_gives_the_clock_one_partition_and_each_partner_its_own_topic():
    plan = kafka_local.topic_plan(4)
    structures = load_territory(DEFAULT_TERRITORY_FILE).structures
    assert set(plan) == set(ALL_TOPICS) | {f"ariane.inbound.v1.{s.id}" for s in structures}
    for name, count in plan.items():
        assert count == (1 if name in SINGLE_PARTITION_TOPICS else 4)


def test_stop_signals_only_the_recorded_pid_and_kills_after_the_timeout(tmp_path: Path):
    """A stand-in process that ignores SIGTERM, with the broker's command line shape: stop() must SIGKILL it."""
    import subprocess
    import sys
    import time

    broker = LocalKafka(tmp_path)
    stubborn = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
         "kafka.Kafka", str(broker.config_path)],
        stdout=subprocess.PIPE,
    )
    try:
        assert stubborn.stdout.readline() == b"up\n"
        broker.state_path.write_text(json.dumps(
            {"pid": stubborn.pid, "bootstrap": "127.0.0.1:1", "port": 1, "controller_port": 2, "version": "x"}
        ))
        assert broker.is_running()
        began = time.monotonic()
        assert broker.stop(timeout=0.5) is True
        assert stubborn.wait(timeout=5) == -9  # SIGTERM was ignored, so SIGKILL ended it
        assert time.monotonic() - began >= 0.5
        assert not broker.state_path.exists() and not broker.is_running()
        assert broker.stop() is False  # nothing left to stop
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
        stubborn.wait()


def test_a_broker_stopped_by_another_process_comes_back_on_its_ports(tmp_path: Path):
    """`ariane kafka stop` is a new process that never started the broker: it learns the ports from the state
    file and remembers them, so the next `ariane kafka start` comes back on the same address."""
    import subprocess
    import sys

    port = kafka_local.free_port()
    controller_port = kafka_local.free_port(exclude=[port])
    broker = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)",
                               "kafka.Kafka", str(LocalKafka(tmp_path).config_path)], stdout=subprocess.PIPE)
    try:
        assert broker.stdout.readline() == b"up\n"
        LocalKafka(tmp_path).state_path.write_text(json.dumps(
            {"pid": broker.pid, "bootstrap": f"127.0.0.1:{port}", "port": port, "controller_port": controller_port,
             "version": "x"}))
        assert LocalKafka(tmp_path).stop(timeout=5) is True
        restarted = LocalKafka(tmp_path)
        restarted._choose_ports(restarted.read_state() or json.loads(restarted.ports_path.read_text()))
        assert (restarted.port, restarted.controller_port) == (port, controller_port)
    finally:
        if broker.poll() is None:
            broker.kill()
