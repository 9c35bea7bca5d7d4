"""`ariane kafka …`: start, stop and inspect the real local Apache Kafka broker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from local import kafka as kafka_local
from local.kafka import KafkaRuntimeError, LocalKafka

app = typer.Typer(no_args_is_help=True, help="Run a real local Apache Kafka broker (KRaft, one node).")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Broker files (default: $ARIANE_VAR_DIR/kafka, ARIANE_VAR_DIR=.var)."),
]


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _external() -> str | None:
    return os.environ.get("KAFKA_BOOTSTRAP", "").strip() or None


@app.command()
def start(
    partitions: Annotated[int, typer.Option(min=1, help="Partitions of each topic (the clock keeps 1).")] = 6,
    port: Annotated[int | None, typer.Option(help="Broker port on 127.0.0.1 (default: a free one).")] = None,
    controller_port: Annotated[int | None, typer.Option(help="Controller port (default: a free one).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the broker to answer.")] = 180,
    data_dir: DataDir = None,
) -> None:
    """Start the local broker (or reuse the running one) and create the system's topics."""
    try:
        bootstrap = _external()
        if bootstrap:
            out.print(f"KAFKA_BOOTSTRAP is set: using the broker at {bootstrap}, starting none.")
        else:
            broker = LocalKafka(data_dir or kafka_local.default_data_dir(), port=port, controller_port=controller_port)
            reused = broker.is_running()
            bootstrap = broker.start(timeout=timeout)
            verb = "already running" if reused else f"started in {broker.start_seconds:.1f} s"
            out.print(f"Apache Kafka {broker.version} {verb} at {bootstrap} (pid {broker.pid}, files in {broker.data_dir})")
            out.print(f"SASL/SCRAM-SHA-512 and ACLs on; each principal's credentials in {broker.credentials_dir}")
        created = kafka_local.ensure_topics_sync(bootstrap, partitions=partitions)
        out.print(f"topics: {len(created)} created, {len(kafka_local.topic_plan(partitions)) - len(created)} already there;"
                  f" {len(kafka_local.acl_plan())} ACLs granted")
    except KafkaRuntimeError as exc:
        _fail(str(exc))


@app.command()
def stop(
    timeout: Annotated[float, typer.Option(help="Seconds to wait after SIGTERM before SIGKILL.")] = 30,
    data_dir: DataDir = None,
) -> None:
    """Stop the local broker started by `ariane kafka start`."""
    bootstrap = _external()
    if bootstrap:
        out.print(f"KAFKA_BOOTSTRAP is set ({bootstrap}): that broker is not ours to stop; nothing done.")
        return
    try:
        broker = LocalKafka(data_dir or kafka_local.default_data_dir())
        state = broker.read_state()
        if broker.stop(timeout=timeout):
            out.print(f"stopped the local Kafka broker (pid {state['pid'] if state else '?'})")
        else:
            out.print("no local Kafka broker was running")
    except KafkaRuntimeError as exc:
        _fail(str(exc))


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Broker version, bootstrap address and the topics with their partition counts."""
    directory = data_dir or kafka_local.default_data_dir()
    bootstrap = kafka_local.resolve_bootstrap(directory)
    if bootstrap is None:
        _fail(f"no Kafka broker: KAFKA_BOOTSTRAP is not set and none runs from {directory} (try `ariane kafka start`)")
    try:
        info = kafka_local.describe_sync(bootstrap, directory)
    except KafkaRuntimeError as exc:
        _fail(str(exc))
    out.print(f"[bold]{info.version}[/] at [bold]{info.bootstrap}[/] ({'local' if info.local else 'external'})")
    table = Table("topic", "partitions")
    for name in sorted(set(info.topics) | set(kafka_local.topic_plan())):
        have = info.topics.get(name)
        table.add_row(name, str(have) if have is not None else "[red]missing[/]")
    out.print(table)
