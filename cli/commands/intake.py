"""`ariane intake ...`: command-line work of the intake service (structures' API keys, the OpenAPI document)."""

from __future__ import annotations

import asyncio
import json
from importlib.resources import files
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)
structures = typer.Typer(no_args_is_help=True, help="API keys of the territory's structures.")
app.add_typer(structures, name="structures")

OPENAPI_FILE = Path(str(files("contracts") / "openapi" / "intake.json"))


async def _with_store(work):  # noqa: ANN001, ANN202
    from services.intake.app import VERSIONS_DIR
    from services.intake.settings import IntakeSettings
    from services.intake.store.tables import metadata
    from services.intake.store.vault import Vault, master_key_from
    from services.runtime.db import make_engine, make_session_factory
    from services.runtime.migrate import upgrade_to_head
    from services.runtime.settings import RuntimeSettings

    engine = make_engine(RuntimeSettings().database_url_for("intake"))
    try:
        await upgrade_to_head(engine, "intake", metadata, VERSIONS_DIR)
        vault = Vault(master_key_from(IntakeSettings().master_key.get_secret_value()))
        async with make_session_factory(engine)() as session, session.begin():
            return await work(session, vault)
    finally:
        await engine.dispose()


@structures.command("add-key")
def add_key(structure_id: str) -> None:
    """Issue a new API key for a structure of the territory; the key is printed once, never stored in clear."""
    from contracts.territory import load_territory
    from services.intake.store import credentials
    from services.intake.settings import IntakeSettings

    territory = load_territory(IntakeSettings().territory_file)
    if structure_id not in territory.structures_by_id:
        typer.echo(f"{structure_id!r} is not a structure of territory {territory.id}", err=True)
        raise typer.Exit(2)
    issued = asyncio.run(_with_store(lambda s, v: credentials.add_key(s, v, structure_id)))
    typer.echo(f"key id: {issued.key_id}  structure: {structure_id}")
    typer.echo(issued.token)
    typer.echo("Store it now: it cannot be shown again.", err=True)


def issue_keys_for_all_structures() -> dict[str, str]:
    """One new API key per structure of the territory file: {structure_id: token}. For demos and set-ups."""
    from contracts.territory import load_territory
    from services.intake.store import credentials
    from services.intake.settings import IntakeSettings

    territory = load_territory(IntakeSettings().territory_file)

    async def issue(session, vault):  # noqa: ANN001, ANN202
        return {s.id: (await credentials.add_key(session, vault, s.id)).token for s in territory.structures}

    return asyncio.run(_with_store(issue))


@structures.command("add-keys")
def add_keys(out: Path = typer.Option(..., help="JSON file {structure_id: key} to write (mode 600).")) -> None:
    """Issue a new API key for every structure of the territory and write them to a file (never printed)."""
    keys = issue_keys_for_all_structures()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600, exist_ok=True)
    out.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"{len(keys)} keys written to {out}")


@structures.command("revoke-key")
def revoke_key(key_id: str) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    from services.intake.store import credentials

    if not asyncio.run(_with_store(lambda s, v: credentials.revoke_key(s, key_id))):
        typer.echo(f"no active key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@structures.command("list-keys")
def list_keys() -> None:
    """List API keys (ids, structures, dates; never secrets)."""
    from services.intake.store import credentials

    rows = asyncio.run(_with_store(lambda s, v: credentials.list_keys(s)))
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        typer.echo(f"{row.key_id}  {row.structure_id:<32} {state}")


def openapi_document() -> dict:
    from services.intake.api import openapi_document as intake_openapi
    from services.intake.app import definition
    from services.runtime.service import create_app

    return intake_openapi(create_app(definition()))


@app.command("openapi")
def export_openapi(check: bool = typer.Option(False, help="Fail if the committed document is out of date.")) -> None:
    """Write (or check) the committed OpenAPI document of intake's HTTP API."""
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if check:
        if not OPENAPI_FILE.exists() or OPENAPI_FILE.read_text(encoding="utf-8") != text:
            typer.echo(f"{OPENAPI_FILE.name} is out of date: run `ariane intake openapi`", err=True)
            raise typer.Exit(1)
        typer.echo("contracts/openapi/intake.json is up to date")
        return
    OPENAPI_FILE.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {OPENAPI_FILE}")
