"""The committed contract files: what the code says they hold, written from the code or checked against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.events import EVENT_CLASSES
from contracts.export.asyncapi import ASYNCAPI, asyncapi_document
from contracts.export.compatibility import BreakingChangeError, breaking_changes
from contracts.export.json_schema import SCHEMAS, event_schema, schema_filename

CONTRACTS_DIR = Path(__file__).resolve().parent.parent


def render(document: dict[str, Any]) -> str:
    """The committed form of a JSON document: sorted keys, two-space indent, UTF-8, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """Every committed contract file (path relative to contracts/) and its content as the code says."""
    files = {f"{SCHEMAS}/{schema_filename(cls.short_type)}": render(event_schema(cls)) for cls in EVENT_CLASSES}
    files[ASYNCAPI] = render(asyncapi_document())
    return files


def _display(directory: Path, rel: str) -> str:
    return f"{directory.name}/{rel}"


def _compat_problems(directory: Path, expected: dict[str, str]) -> list[str]:
    # Judged against the committed schemas, not git history: what partners were given is what is on disk.
    problems: list[str] = []
    schema_dir = directory / SCHEMAS
    committed = sorted(schema_dir.glob("*.json")) if schema_dir.is_dir() else []
    for path in committed:
        rel = f"{SCHEMAS}/{path.name}"
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            problems.append(f"{_display(directory, rel)}: not valid JSON")
            continue
        if rel not in expected:
            problems.append(f"{_display(directory, rel)}: event type removed (breaking)")
            continue
        new = json.loads(expected[rel])
        problems.extend(f"{_display(directory, rel)}: {p} (breaking)" for p in breaking_changes(old, new))
    return problems


def export(check: bool = False, *, directory: Path | None = None, allow_breaking: bool = False) -> list[str]:
    """Write the contract files from the code, or with check=True compare them and write nothing.

    Returns the files written (write mode; unchanged files are not rewritten), or the problems found (check
    mode): files out of date, missing or extra, and v1 compatibility breaks against the committed schemas.
    In write mode a compatibility break raises BreakingChangeError unless allow_breaking."""
    directory = directory or CONTRACTS_DIR
    expected = expected_files()
    compat = _compat_problems(directory, expected)
    schema_dir = directory / SCHEMAS
    extra = sorted(
        f"{SCHEMAS}/{p.name}" for p in (schema_dir.glob("*.json") if schema_dir.is_dir() else [])
        if f"{SCHEMAS}/{p.name}" not in expected
    )

    if check:
        problems: list[str] = []
        for rel, content in expected.items():
            path = directory / rel
            if not path.exists():
                problems.append(f"{_display(directory, rel)}: missing (run `ariane contracts export`)")
            elif path.read_text(encoding="utf-8") != content:
                problems.append(f"{_display(directory, rel)}: differs from the code (run `ariane contracts export`)")
        problems.extend(f"{_display(directory, rel)}: extra file, no event type has it" for rel in extra)
        problems.extend(p for p in compat if p not in problems)
        return problems

    if compat and not allow_breaking:
        raise BreakingChangeError(compat)
    written: list[str] = []
    for rel, content in expected.items():
        path = directory / rel
        if path.exists() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(_display(directory, rel))
    for rel in extra:
        (directory / rel).unlink()
        written.append(f"{_display(directory, rel)} (removed)")
    return written
