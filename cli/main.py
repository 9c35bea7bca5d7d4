"""The `ariane` command: the one module that may know every service."""

from __future__ import annotations

import os
import signal
import time

import typer

from cli.commands import clock as clock_commands
from cli.commands import contracts as contracts_commands
from cli.commands import demo as demo_commands
from cli.commands import followup as followup_commands
from cli.commands import intake as intake_commands
from cli.commands import kafka as kafka_commands
from cli.commands import person as person_commands
from cli.commands import referral as referral_commands
from cli.commands import reporting as reporting_commands
from cli.commands import simulate as simulate_commands
from cli.commands import web as web_commands
from cli.commands import structures as structures_commands
from cli.commands import transfer as transfer_commands
from cli.commands import worklist as worklist_commands
from local import catalogue

app = typer.Typer(no_args_is_help=True, help="Ariane: no jobseeker lost between structures.")
app.add_typer(contracts_commands.app, name="contracts", help="Export and check the event contracts.")
app.add_typer(kafka_commands.app, name="kafka", help="Run a real local Apache Kafka broker.")
app.add_typer(intake_commands.app, name="intake", help="Intake: partner ingress, identity vault, API keys.")
app.add_typer(structures_commands.app, name="structures",
              help="Keys of the territory: partner keys, structures' users, the coordinator, auditors.")
app.add_typer(referral_commands.app, name="referral", help="Referral: orientation and the referral lifecycle.")
app.add_typer(followup_commands.app, name="followup", help="Followup: parcours, lost people, worklist.")
app.add_typer(reporting_commands.app, name="reporting", help="Reporting: outcome tables, replay, log archive.")
app.add_typer(web_commands.app, name="web", help="Web: the coordinators' and counsellors' page.")
app.add_typer(person_commands.app, name="person", help="A person's rights: erase, export (RGPD).")

app.command("demo")(demo_commands.demo)
app.add_typer(simulate_commands.app, name="simulate", help="Simulate a territory year with its ground truth.")

# The auditor's and coordinator's everyday commands, at the top level.
app.command("report")(reporting_commands.report)
app.command("replay")(reporting_commands.replay)
app.command("export-log")(reporting_commands.export_log)
app.command("verify-log")(reporting_commands.verify_log)
app.command("worklist")(worklist_commands.worklist)
app.command("timeline")(worklist_commands.timeline)
app.command("transfer")(transfer_commands.transfer)

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
def run_all(with_clock: bool = typer.Option(True, help="Also run the day clock (a tick at each midnight of the territory).")) -> None:
    """Run the four services, the web page (and the clock) as supervised processes until Ctrl-C."""
    from local.supervisor import Supervisor
    from services.runtime.settings import RuntimeSettings

    settings = RuntimeSettings()
    env = dict(os.environ, ARIANE_KAFKA_BOOTSTRAP=settings.bootstrap())
    services = [*catalogue.pipeline(), catalogue.web(), *([catalogue.clock()] if with_clock else [])]
    supervisor = Supervisor([service.name for service in services], settings.var_dir / "logs", env)
    ports = {service.name: service.default_port for service in services}
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    supervisor.start()
    for child in supervisor.children:
        port = ports.get(child.name)
        where = f" http://127.0.0.1:{port}/health /metrics" if port else ""
        typer.echo(f"{child.name:<10} pid {child.pid}{where}  log {child.log_path}")
    typer.echo("Ctrl-C stops everything.")
    while not stopping:
        for note in supervisor.poll():
            typer.echo(note)
        time.sleep(0.5)
    typer.echo("stopping…")
    supervisor.stop()


if __name__ == "__main__":
    app()
