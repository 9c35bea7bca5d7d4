"""The `ariane` command: the one module that may know every service."""

from __future__ import annotations

import os
import signal

import typer

from cli.commands import clock as clock_commands
from cli.lazy_commands import Lazy, lazy_group
from local import catalogue

# Every command but `run` is imported when it runs (see cli.lazy_commands); the order is the help's.
COMMANDS = {
    "contracts": Lazy("cli.commands.contracts", "app", "Export and check the event contracts."),
    "kafka": Lazy("cli.commands.kafka", "app", "Run a real local Apache Kafka broker."),
    "intake": Lazy("cli.commands.intake", "app", "Intake: partner ingress, identity vault, API keys."),
    "structures": Lazy("cli.commands.structures", "app",
                       "Keys of the territory: partner keys, structures' users, the coordinator, auditors."),
    "referral": Lazy("cli.commands.referral", "app", "Referral: orientation and the referral lifecycle."),
    "followup": Lazy("cli.commands.followup", "app", "Followup: parcours, lost people, worklist."),
    "reporting": Lazy("cli.commands.reporting", "app", "Reporting: outcome tables, replay, log archive."),
    "web": Lazy("cli.commands.web", "app", "Web: the coordinators' and counsellors' page."),
    "person": Lazy("cli.commands.person", "app", "A person's rights: erase, export (RGPD)."),
    "demo": Lazy("cli.commands.demo", "demo"),
    "simulate": Lazy("cli.commands.simulate", "app", "Simulate a territory year with its ground truth."),
    # The auditor's and coordinator's everyday commands, at the top level.
    "report": Lazy("cli.commands.reporting", "report"),
    "replay": Lazy("cli.commands.reporting", "replay"),
    "export-log": Lazy("cli.commands.reporting", "export_log"),
    "verify-log": Lazy("cli.commands.reporting", "verify_log"),
    "worklist": Lazy("cli.commands.worklist", "worklist"),
    "timeline": Lazy("cli.commands.worklist", "timeline"),
    "transfer": Lazy("cli.commands.transfer", "transfer"),
}

app = typer.Typer(no_args_is_help=True, help="Ariane: no jobseeker lost between structures.",
                  cls=lazy_group(COMMANDS))

run_app = typer.Typer(no_args_is_help=True, help="Run a service (or all of them) in the foreground.")
app.add_typer(run_app, name="run")


def _run_service(module: str, port: int | None) -> None:
    import runpy

    if port is not None:
        os.environ["ARIANE_HTTP_PORT"] = str(port)
    # Exactly what `python -m services.<name>` does, so there is one way to start a service.
    runpy.run_module(module, run_name="__main__", alter_sys=True)


# One command per package of the pipeline; names, ports and topics come from each service's definition(),
# read only when a command runs, so that building the CLI imports no service.
for _module in (*catalogue.PIPELINE, catalogue.WEB):
    _name = _module.rsplit(".", 1)[1]

    def _command(port: int = typer.Option(None, help="HTTP port (default: the service's own)."),
                 _service: str = typer.Option(_module, hidden=True)) -> None:
        _run_service(_service, port)

    _command.__doc__ = (f"Run the {_name} service: its consumer, outbox relay, HTTP API, /health and /metrics."
                        if _module != catalogue.WEB else "Run the web page (no consumer): /health and /metrics.")
    run_app.command(_name)(_command)

run_app.command("clock")(clock_commands.clock)


@run_app.command("all")
def run_all(with_clock: bool = typer.Option(True, help="Also run the day clock (a tick at each midnight of the territory)."),
            free_ports: bool = typer.Option(False, "--free-ports",
                                            help="Put each service on a free loopback port instead of its own, so "
                                                 "that several runs share a machine. Where each one is: "
                                                 "`ariane run status`; the commands that call a service find it.")) -> None:
    """Run the four services, the web page (and the clock) as supervised processes until Ctrl-C.

    A service that exits is started again after 1, 2, 4 ... 30 s (forgiven after a minute up), never given up;
    where each service is and how it does is kept in <var dir>/services.json (`ariane run status`)."""
    import threading

    from local import run_state
    from local.supervisor import OPS_PORT_OFFSET, Supervisor
    from local.supervisor import free_ports as choose_free_ports
    from services.runtime.settings import RuntimeSettings

    settings = RuntimeSettings()
    state_file = run_state.path_in(settings.var_dir)
    previous = run_state.read(state_file)
    if previous is not None and run_state.supervisor_state(previous) == "running":
        # Two supervisors on one var dir would share its SQLite files and overwrite each other's state file.
        typer.echo(f"error: `ariane run all` already runs on {settings.var_dir} (pid {previous['supervisor']['pid']}):"
                   " see `ariane run status`, or give this one another ARIANE_VAR_DIR", err=True)
        raise typer.Exit(1)
    env = dict(os.environ, ARIANE_KAFKA_BOOTSTRAP=settings.bootstrap())
    services = [*catalogue.pipeline(), catalogue.web(), *([catalogue.clock()] if with_clock else [])]
    names = [service.name for service in services]
    ports = choose_free_ports(names) if free_ports else {service.name: service.default_port for service in services}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    # the page calls three services: tell it where they are now (and again if one is moved off a taken port)
    called = ("followup", "intake", "reporting") if free_ports else ()
    url_env = {name: f"ARIANE_WEB_{name.upper()}_URL" for name in called}
    env.update({var: urls[name] for name, var in url_env.items()})
    # The runtime's services also answer their probes and /metrics on an operations port, beside their event loop
    # (the web page has none): a free one too, or their own port + 1000 as on Kubernetes.
    hosted = [name for name in names if name != catalogue.web().name]
    ops_ports = (choose_free_ports(hosted, exclude=ports.values()) if free_ports
                 else {name: ports[name] + OPS_PORT_OFFSET for name in hosted})
    supervisor = Supervisor(names, settings.var_dir / "logs", env, ports=ports, ops_ports=ops_ports,
                            state_file=state_file, urls=urls, movable_ports=free_ports, url_env=url_env,
                            url_readers=("web",))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    supervisor.start()
    for child in supervisor.children:
        probes = f"  probes on :{child.ops_port}" if child.ops_port else ""
        typer.echo(f"{child.name:<10} pid {child.pid:<8} {urls[child.name]}/health /metrics{probes}  "
                   f"log {child.log_path}")
    typer.echo(f"where each service is, and how it does: {state_file} (`ariane run status`)")
    typer.echo("Ctrl-C stops everything.")
    supervisor.run(stop, echo=typer.echo)
    typer.echo("stopping…")
    supervisor.stop()


@run_app.command("status")
def run_status(as_json: bool = typer.Option(False, "--json", help="The state file as it is.")) -> None:
    """Where each service of `ariane run all` is and how it does (state, pid, URL, restarts, last exit code,
    next start), read from <var dir>/services.json: answered without asking the supervisor.

    Exits 0 when the supervisor and every service run, 1 when one does not, 2 when no `ariane run all` ever
    wrote in this var dir."""
    import json

    from local import run_state
    from services.runtime.settings import RuntimeSettings

    state_file = run_state.path_in(RuntimeSettings().var_dir)
    state = run_state.read(state_file)
    if state is None:
        typer.echo(f"no `ariane run all` state in {state_file}", err=True)
        raise typer.Exit(2)
    text, all_up = run_state.render(state)
    typer.echo(json.dumps(state, indent=2) if as_json else text)
    raise typer.Exit(0 if all_up else 1)


if __name__ == "__main__":
    app()
