"""The credentials book: every key that may call a read or write API, its role and its structure, in one file.

One scheme for everyone who calls Ariane over HTTP: a structure's integration key (`partner`), a structure's
user (`counsellor`), the territory's coordinator (`coordinator`) and whoever checks the figures (`auditor`).
A key reads `ak_<key_id>.<secret>`, the form intake's partner keys already have, so a partner key is one
token for sending events and for reading its own structure's data.

The book is a JSON file `{"version": 1, "entries": [...]}` of entries
`{key_id, role, structure, counsellor, label, created, revoked, secret_sha256}`. The secret itself is never
kept: only its SHA-256, compared in constant time. Every service reads the same file (ARIANE_CREDENTIALS_FILE)
and looks at it again whenever it changes on disk, so a revocation reaches running services without a restart.
A missing file is a book with no keys (every call is refused), never a crash.

Standard library only: the services, the command line and the tests all use it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

log = logging.getLogger("ariane.credentials")

Role = Literal["partner", "counsellor", "coordinator", "auditor"]
ROLES: tuple[Role, ...] = ("partner", "counsellor", "coordinator", "auditor")
KEY_PREFIX = "ak_"
FORMAT_VERSION = 1
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CredentialsError(ValueError):
    """A key that cannot be entered in the book, or a book file that is not one; the message says why."""


@dataclass(frozen=True)
class Principal:
    """Who an authenticated request speaks for. `structure` is a structure id for partners and counsellors,
    the coordinator's id for the coordinator, the territory's id for an auditor."""

    key_id: str
    role: Role
    structure: str
    counsellor: str | None = None


@dataclass(frozen=True)
class Entry:
    key_id: str
    role: Role
    structure: str
    counsellor: str | None
    label: str
    created: str  # ISO 8601, UTC
    revoked: str | None  # ISO 8601, UTC; None while the key is valid
    secret_sha256: str

    @property
    def principal(self) -> Principal:
        return Principal(self.key_id, self.role, self.structure, self.counsellor)

    @classmethod
    def parse(cls, raw: object) -> Entry:
        if not isinstance(raw, dict):
            raise CredentialsError(f"an entry is not an object: {raw!r:.80}")
        try:
            entry = cls(key_id=str(raw["key_id"]), role=raw["role"], structure=str(raw["structure"]),
                        counsellor=raw.get("counsellor"), label=str(raw.get("label") or ""),
                        created=str(raw["created"]), revoked=raw.get("revoked"),
                        secret_sha256=str(raw["secret_sha256"]).lower())
        except KeyError as missing:
            raise CredentialsError(f"an entry has no {missing.args[0]!r}") from None
        _check(entry)
        return entry


@dataclass(frozen=True)
class Issued:
    """A key just entered in the book; `token` is shown once and never stored."""

    entry: Entry
    token: str


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_of(key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}{key_id}.{secret}"


def split_token(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of an `ak_<key_id>.<secret>` token, or None for anything else."""
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, dot, secret = token[len(KEY_PREFIX):].partition(".")
    return (key_id, secret) if dot and secret and _KEY_ID.fullmatch(key_id) else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _check(entry: Entry) -> None:
    if entry.role not in ROLES:
        raise CredentialsError(f"role {entry.role!r} is not one of {', '.join(ROLES)}")
    if not _KEY_ID.fullmatch(entry.key_id):
        raise CredentialsError(f"key id {entry.key_id!r} is not of the form [A-Za-z0-9_-]+")
    if not entry.structure:
        raise CredentialsError(f"key {entry.key_id} names no structure")
    if entry.counsellor is not None and entry.role != "counsellor":
        raise CredentialsError(f"only a counsellor key names a counsellor (key {entry.key_id} is {entry.role})")
    if not re.fullmatch(r"[0-9a-f]{64}", entry.secret_sha256):
        raise CredentialsError(f"key {entry.key_id} has no SHA-256 of its secret")


def read_entries(path: Path) -> dict[str, Entry]:
    """{key_id: entry} of a book file; a missing file is an empty book."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CredentialsError(f"{path} is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        raise CredentialsError(f'{path} is not a credentials book ({{"version": 1, "entries": [...]}})')
    entries: dict[str, Entry] = {}
    for raw in document["entries"]:
        entry = Entry.parse(raw)
        if entry.key_id in entries:
            raise CredentialsError(f"{path}: key id {entry.key_id} appears twice")
        entries[entry.key_id] = entry
    return entries


def write_entries(path: Path, entries: dict[str, Entry]) -> None:
    """Replace the book in one step (a reader sees the old file or the new one, never half of one), owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"version": FORMAT_VERSION, "entries": [asdict(e) for e in entries.values()]}
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # created with mode 600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class CredentialsBook:
    """The book at `path`, as the services check keys against it and the command line edits it.

    `check` looks at the file's identity (inode, size, modification time) on every call and reads it again when
    it changed: a `revoke` counts from the next request. A file that cannot be read as a book refuses every key
    (and says why in the log) rather than keeping keys that may have been revoked in it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._entries: dict[str, Entry] = {}
        self.problem: str | None = None  # why the file on disk is not used, when it is not

    # -- reading ---------------------------------------------------------------------------------------------
    def _fresh(self) -> dict[str, Entry]:
        try:
            stat = self.path.stat()
            seen: tuple[int, int, int] | None = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        except OSError:
            seen = None  # missing (or unreachable): read_entries says which, below
        with self._lock:
            if seen != self._seen:
                try:
                    self._entries, self.problem = read_entries(self.path), None
                except (CredentialsError, OSError) as exc:
                    self._entries, self.problem = {}, str(exc)
                    log.error("credentials book unusable, every key is refused: %s", exc)
                self._seen = seen
            return self._entries

    def check(self, token: str) -> Principal | None:
        """Who a token stands for, or None if it is malformed, unknown, revoked or its secret is wrong."""
        parts = split_token(token.strip())
        if parts is None:
            return None
        entry = self._fresh().get(parts[0])
        if entry is None or entry.revoked is not None:
            return None
        return entry.principal if hmac.compare_digest(entry.secret_sha256, secret_sha256(parts[1])) else None

    def entry(self, key_id: str) -> Entry | None:
        return self._fresh().get(key_id)

    def entries(self) -> list[Entry]:
        return sorted(self._fresh().values(), key=lambda e: (e.role, e.structure, e.created, e.key_id))

    # -- editing (the command line) ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, Entry]]:
        """Read-modify-write under an exclusive lock, so two commands run at once both land."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        with open(lock_path, "a", encoding="utf-8") as lock:
            os.chmod(lock_path, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            entries = read_entries(self.path)  # a broken book is refused here, not overwritten
            yield entries
            write_entries(self.path, entries)

    def issue(self, role: Role, structure: str, *, counsellor: str | None = None, label: str = "") -> Issued:
        """A new key with a fresh secret; the token is in the answer only."""
        secret = secrets.token_urlsafe(32)
        return self.record(token_of(secrets.token_hex(6), secret), role, structure, counsellor=counsellor,
                           label=label)

    def record(self, token: str, role: Role, structure: str, *, counsellor: str | None = None,
               label: str = "") -> Issued:
        """Enter a key issued elsewhere (intake's partner keys): the same key id and SHA-256 of its secret."""
        parts = split_token(token)
        if parts is None:
            raise CredentialsError("not a key of the form ak_<key_id>.<secret>")
        entry = Entry(key_id=parts[0], role=role, structure=structure, counsellor=counsellor or None, label=label,
                      created=_now(), revoked=None, secret_sha256=secret_sha256(parts[1]))
        _check(entry)
        with self._editing() as entries:
            if entry.key_id in entries:
                raise CredentialsError(f"key id {entry.key_id} is already in the book")
            entries[entry.key_id] = entry
        return Issued(entry, token)

    def revoke(self, key_id: str) -> Entry | None:
        """Revoke a key from now on; None if the book has no such key or it was already revoked."""
        with self._editing() as entries:
            entry = entries.get(key_id)
            if entry is None or entry.revoked is not None:
                return None
            entries[key_id] = entry = replace(entry, revoked=_now())
        return entry
