"""`ariane structures ...`: the keys of the territory, in the credentials book every API checks.

Partner keys (`add-key`, `add-keys`) are issued by intake's store, which keeps the signing key a signed request
needs, and entered in the book with the same key id and secret: one key sends a structure's events and reads
its data. The other roles exist only in the book: a structure's users (`add-user`), the coordinator
(`add-coordinator`), auditors (`add-auditor`). Every token is printed once; the book keeps a SHA-256 of it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer

from services.runtime.credentials import CredentialsBook, CredentialsError, Entry, Issued, Role

app = typer.Typer(no_args_is_help=True, help="Keys of the territory: structures' partner keys and users, the "
                  "coordinator, auditors.")

_label = typer.Option("", "--label", help="Who holds the key, for `list` (a name, a service, a ticket).")


def book() -> CredentialsBook:
    from services.runtime.settings import RuntimeSettings

    return CredentialsBook(RuntimeSettings().credentials_path())


def _territory():  # noqa: ANN202 - contracts.territory.Territory, imported late to keep the CLI quick to build
    from contracts.territory import load_territory
    from services.intake.settings import IntakeSettings

    return load_territory(IntakeSettings().territory_file)


def _known_structure(structure_id: str) -> None:
    territory = _territory()
    if structure_id not in territory.structures_by_id:
        typer.echo(f"{structure_id!r} is not a structure of territory {territory.id} "
                   f"(known: {', '.join(sorted(territory.structures_by_id))})", err=True)
        raise typer.Exit(2)


async def _with_intake_store(work):  # noqa: ANN001, ANN202
    """Run `work(session, vault)` in one transaction of intake's store (migrated first, as intake would)."""
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


def _partner_keys(structure_ids: list[str], label: str) -> dict[str, Issued]:
    """New partner keys, in intake's store and in the book. The book is written inside intake's transaction:
    if it cannot be, intake keeps no key the book does not know."""
    from services.intake.store import credentials

    target = book()

    async def issue(session, vault):  # noqa: ANN001, ANN202
        out = {}
        for structure_id in structure_ids:
            key = await credentials.add_key(session, vault, structure_id)
            out[structure_id] = target.record(key.token, "partner", structure_id, label=label)
        return out

    return asyncio.run(_with_intake_store(issue))


def _show(issued: Issued) -> None:
    entry = issued.entry
    who = f"  counsellor: {entry.counsellor}" if entry.counsellor else ""
    typer.echo(f"key id: {entry.key_id}  role: {entry.role}  structure: {entry.structure}{who}")
    typer.echo(issued.token)
    typer.echo("Store it now: it cannot be shown again.", err=True)


def _issue(role: Role, structure: str, *, counsellor: str | None = None, label: str = "") -> None:
    try:
        _show(book().issue(role, structure, counsellor=counsellor, label=label))
    except CredentialsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("add-key")
def add_key(structure_id: str, label: str = _label) -> None:
    """Issue a structure's partner key: it sends the structure's events to intake and reads its own data."""
    _known_structure(structure_id)
    _show(_partner_keys([structure_id], label)[structure_id])


def issue_keys_for_all_structures() -> dict[str, str]:
    """One new partner key per structure of the territory file: {structure_id: token}. For demos and set-ups."""
    issued = _partner_keys([s.id for s in _territory().structures], "add-keys")
    return {structure_id: key.token for structure_id, key in issued.items()}


@app.command("add-keys")
def add_keys(out: Path = typer.Option(..., help="JSON file {structure_id: key} to write (mode 600).")) -> None:
    """Issue a new partner key for every structure of the territory and write them to a file (never printed)."""
    keys = issue_keys_for_all_structures()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600, exist_ok=True)
    out.write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"{len(keys)} keys written to {out}")


@app.command("add-user")
def add_user(structure_id: str,
             counsellor: str = typer.Option(None, "--counsellor", help="A pseudonymous reference of the "
                                            "counsellor (an internal id, never a name), for the audit trail."),
             label: str = _label) -> None:
    """Issue a key for a user of a structure (a counsellor): reads that structure's data, sends no events."""
    _known_structure(structure_id)
    _issue("counsellor", structure_id, counsellor=counsellor, label=label)


@app.command("add-coordinator")
def add_coordinator(label: str = _label) -> None:
    """Issue a key for the territory's coordinator: reads every structure's data and the report."""
    _issue("coordinator", _territory().coordinator.id, label=label)


@app.command("add-auditor")
def add_auditor(label: str = _label) -> None:
    """Issue a key for an auditor or funder: reads the report and its digest, never a person's data."""
    _issue("auditor", _territory().id, label=label)


@app.command("list")
def list_entries(output: str = typer.Option("table", "--format", help="table or json.")) -> None:
    """List the book's keys: id, role, structure, label, dates (never a secret, nor its digest)."""
    entries = book().entries()
    if output == "json":
        typer.echo(json.dumps([_public(e) for e in entries], ensure_ascii=False, indent=2))
        return
    for e in entries:
        state = f"revoked {e.revoked[:10]}" if e.revoked else "active"
        who = f" ({e.counsellor})" if e.counsellor else ""
        typer.echo(f"{e.key_id}  {e.role:<11} {e.structure + who:<40} {e.created[:10]}  {state:<18} {e.label}".rstrip())


def _public(entry: Entry) -> dict[str, str | None]:
    return {"key_id": entry.key_id, "role": entry.role, "structure": entry.structure,
            "counsellor": entry.counsellor, "label": entry.label, "created": entry.created, "revoked": entry.revoked}


def _revoke(key_id: str) -> None:
    """Revoke in the book, and in intake's store for a partner key (or a key the book does not know)."""
    entry = book().entry(key_id)
    in_book = book().revoke(key_id) is not None
    in_intake = False
    if entry is None or entry.role == "partner":
        from services.intake.store import credentials

        in_intake = asyncio.run(_with_intake_store(lambda s, v: credentials.revoke_key(s, key_id)))
    if not (in_book or in_intake):
        typer.echo(f"no active key {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@app.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a key, whatever its role: every API refuses it from its next request, without a restart."""
    _revoke(key_id)


@app.command("revoke-key")
def revoke_key(key_id: str) -> None:
    """Revoke a partner key (the same as `revoke`)."""
    _revoke(key_id)


@app.command("list-keys")
def list_keys() -> None:
    """List the partner keys intake's store holds (ids, structures, dates; never secrets)."""
    from services.intake.store import credentials

    rows = asyncio.run(_with_intake_store(lambda s, v: credentials.list_keys(s)))
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        typer.echo(f"{row.key_id}  {row.structure_id:<32} {state}")
