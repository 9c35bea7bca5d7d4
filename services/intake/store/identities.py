"""Identity resolution against the vault: who an identity or a partner's reference is, as a person_id.

The rules (keys, order of matching, compatibility, near-duplicates) are `domain.identity`; this module reads
and writes the rows they are decided on.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, tuple_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from contracts.envelope import utc
from services.intake.domain import erasure
from services.intake.domain import identity as rules
from services.intake.domain import reviews
from services.intake.domain.identity import IdentityFacts, KeyKind, KnownPerson, MatchRule, Resolution
from services.intake.store import known as loaded
from services.intake.store.tables import ClosureRow, MatchKeyRow, PartnerRefRow, PersonRow, ReviewRow
from services.intake.store.vault import Vault


class Unresolvable(LookupError):
    """The identity cannot be tied to a person; raised before `resolve` writes anything (intake refuses the
    event without a SAVEPOINT to undo: handlers._admit)."""


@dataclass
class Outcome:
    person_id: str
    is_new: bool
    merged: tuple[tuple[str, MatchRule], ...] = ()
    reviews: tuple[reviews.Opening, ...] = ()  # pairs flagged for review by this resolution, to announce

    @property
    def flagged_for_review(self) -> int:
        return len(self.reviews)


class IdentityResolver:
    def __init__(self, secret: bytes, vault: Vault) -> None:
        self.secret = secret
        self.vault = vault

    async def canonical(self, session: AsyncSession, person_id: str) -> str | None:
        """The surviving person_id (following merges), or None if the vault does not know it."""
        for _ in range(16):  # merges chain at most a few times; bounded against a corrupt cycle
            row = await loaded.get(session, PersonRow, person_id)
            if row is None:
                return None
            if row.merged_into is None:
                return person_id
            person_id = row.merged_into
        return person_id

    async def load(self, session: AsyncSession, refs: list[tuple[str, str]], person_ids: list[str],
                   identities: Sequence[IdentityFacts] = ()) -> list[str]:
        """Read at once the partners' references (source, ref) and the people a batch of events will look up
        (`person_for_subject`, `is_erased`, `link_ref`): see store.known; for the identities of its
        registrations, the people their keys lead to and the ids they would get (`resolve`). Returns the person
        ids read."""
        await loaded.load(session, PartnerRefRow, refs)
        found = [row.person_id for key in refs if (row := await loaded.get(session, PartnerRefRow, key)) is not None]
        for facts in identities:
            if facts.can_pseudonymise:
                found.append(rules.person_id_of_keys(self._keys(session, facts)))
        found += await self._load_keys(session, [(kind.value, digest) for facts in identities
                                                 for kind, digest in self._keys(session, facts).items()
                                                 if kind in _LOOKED_UP])
        people = list(dict.fromkeys((*person_ids, *found)))
        await loaded.load(session, PersonRow, [(pid,) for pid in people])
        return people

    async def person_for_subject(self, session: AsyncSession, subject: str, source: str) -> str | None:
        """A subject is a person_id handed back by intake, or the source structure's own reference."""
        if rules.is_person_id(subject):
            return await self.canonical(session, subject)
        ref = await loaded.get(session, PartnerRefRow, (source, rules.partner_ref_of(subject, source)))
        return await self.canonical(session, ref.person_id) if ref else None

    async def _known(self, session: AsyncSession, person_id: str) -> KnownPerson | None:
        canonical = await self.canonical(session, person_id)
        if canonical is None:
            return None
        row = await loaded.get(session, PersonRow, canonical)
        assert row is not None
        birth = None
        if row.wrapped_key is not None:
            birth = self._open(row).birth_date
        return KnownPerson(canonical, row.nir_key, birth)

    def _open(self, row: PersonRow) -> IdentityFacts:
        assert row.wrapped_key is not None
        key = self.vault.unwrap(row.person_id, row.wrapped_key)
        return self.vault.open_identity(row.person_id, key, row.identity)

    async def aliases(self, session: AsyncSession, person_id: str) -> list[str]:
        """`person_id` and every id folded into it, directly or through other merges."""
        found, frontier = [person_id], [person_id]
        for _ in range(16):  # bounded as `canonical` is
            frontier = list((await session.exec(select(PersonRow.person_id).where(
                PersonRow.merged_into.in_(frontier)))).all())
            frontier = [pid for pid in frontier if pid not in found]
            if not frontier:
                break
            found += frontier
        return found

    async def identity_of(self, session: AsyncSession, person_id: str) -> IdentityFacts | None:
        """The identity the vault holds for a person (its canonical id), or None if unknown or erased."""
        canonical = await self.canonical(session, person_id)
        row = await loaded.get(session, PersonRow, canonical) if canonical else None
        return self._open(row) if row is not None and row.wrapped_key is not None else None

    async def resolve(self, session: AsyncSession, facts: IdentityFacts, *, source: str,
                      partner_refs: tuple[str, ...], known_subject: str | None, cause_event_id: str,
                      when: datetime | None = None) -> Outcome:
        """Tie the identity to a person (new or known), update the vault, merge what it proves to be one person."""
        keys = self._keys(session, facts)
        matches: list[tuple[MatchRule, KnownPerson]] = []
        if known_subject:
            known = await self._known(session, known_subject)
            if known:
                matches.append((MatchRule.PARTNER_REF, known))
        for ref in partner_refs:
            row = await loaded.get(session, PartnerRefRow, (source, ref))
            if row and (known := await self._known(session, row.person_id)):
                matches.append((MatchRule.PARTNER_REF, known))
        # The people each key of the identity leads to, every kind in one statement; the birth date's key too,
        # whose people are the new person's near-duplicates to compare (`_flag_near_duplicates`).
        wanted = [(kind.value, keys[kind]) for kind in _LOOKED_UP if kind in keys]
        by_key: dict[tuple[str, str], list[str]] = {}
        indexed = _indexed(session)
        if all(key in indexed for key in wanted):  # read with the batch's other registrations (`load`)
            by_key = {key: list(indexed[key]) for key in wanted}
        elif wanted:
            for kind_value, digest, pid in (await session.exec(
                    select(MatchKeyRow.kind, MatchKeyRow.digest, MatchKeyRow.person_id)
                    .where(tuple_(MatchKeyRow.kind, MatchKeyRow.digest).in_(wanted))
                    .order_by(MatchKeyRow.kind, MatchKeyRow.digest, MatchKeyRow.person_id))).all():
                by_key.setdefault((kind_value, digest), []).append(pid)
        for kind, rule in rules.RULE_OF_KEY.items():
            if kind not in keys:
                continue
            for pid in by_key.get((kind.value, keys[kind]), ()):
                if known := await self._known(session, pid):
                    matches.append((rule, known))
        new_id = await self._unerased(session, rules.person_id_of_keys(keys)) if facts.can_pseudonymise else ""
        resolution = rules.resolve(facts, keys, new_id, matches)
        if resolution.is_new and not new_id:
            raise Unresolvable("identity cannot be pseudonymised and matches nobody")
        await self._store(session, resolution, facts, keys)
        for merged_id, _rule in resolution.merge:
            await self._fold(session, merged_id, resolution.person_id)
        for ref in partner_refs:
            await self.link_ref(session, source, ref, resolution.person_id)
        flagged: tuple[reviews.Opening, ...] = ()
        if resolution.is_new:
            # Match keys are only ever added for the person being stored (`_store`), never moved by a merge: the
            # birth date's people read above are those the vault holds now, but for this one.
            same_birth = [pid for pid in by_key.get((KeyKind.BIRTH.value, keys[KeyKind.BIRTH]), ())
                          if pid != resolution.person_id] if KeyKind.BIRTH in keys else []
            flagged = await self._flag_near_duplicates(session, resolution.person_id, facts, same_birth,
                                                       cause_event_id, when)
        return Outcome(resolution.person_id, resolution.is_new, resolution.merge, flagged)

    async def _store(self, session: AsyncSession, resolution: Resolution, facts: IdentityFacts,
                     keys: dict[KeyKind, str]) -> None:
        pid = resolution.person_id
        # In a batch admitted in one go, a new person's rows are plain rows written at its end (store.known.gather).
        batched = loaded.batched(session)
        row = await loaded.get(session, PersonRow, pid)
        is_new = row is None
        if row is None:
            existing = None
            key, wrapped = self.vault.new_person_key(pid)
            row = (loaded.Plain(person_id=pid, wrapped_key=wrapped, identity=b"", nir_key=None, merged_into=None)
                   if batched else PersonRow(person_id=pid, wrapped_key=wrapped, identity=b""))
            # A person's closure and match keys are written only once their row is: a new person has none.
            loaded.mark_absent(session, ClosureRow, [(pid,)])
        else:
            row = await _changeable(session, PersonRow, pid, row)
            existing = self._open(row) if row.wrapped_key is not None else None
            if row.wrapped_key is None:
                key, row.wrapped_key = self.vault.new_person_key(pid)
            else:
                key = self.vault.unwrap(pid, row.wrapped_key)
        merged = existing.merged_with(facts) if existing else facts
        row.identity = self.vault.seal_identity(pid, key, merged)
        row.nir_key = row.nir_key or keys.get(KeyKind.NIR)
        if isinstance(row, loaded.Plain):
            loaded.gather(session, PersonRow, pid, row)
        else:
            session.add(row)
        await _flush_unless_batched(session)
        # The person's keys already indexed, in one statement (none for a new person); the missing ones added,
        # flushed together (in a batch, with the batch's other rows).
        keys_now = {(kind.value, digest) for kind, digest in self._keys(session, merged).items()}
        indexed = set() if is_new else set((await session.exec(select(MatchKeyRow.kind, MatchKeyRow.digest).where(
            MatchKeyRow.person_id == pid, tuple_(MatchKeyRow.kind, MatchKeyRow.digest).in_(sorted(keys_now))))).all())
        known_keys = _indexed(session)
        for kind_value, digest in sorted(keys_now - indexed):
            if batched:
                loaded.gather(session, MatchKeyRow, (kind_value, digest, pid),
                              loaded.Plain(kind=kind_value, digest=digest, person_id=pid))
            else:
                session.add(MatchKeyRow(kind=kind_value, digest=digest, person_id=pid))
            if (kind_value, digest) in known_keys:  # what this transaction read of that key stays whole
                bisect.insort(known_keys[(kind_value, digest)], pid)
        await _flush_unless_batched(session)

    def _keys(self, session: AsyncSession, facts: IdentityFacts) -> dict[KeyKind, str]:
        """`rules.match_keys`, computed once per identity in a transaction (a registration asks three times)."""
        computed = loaded.cache(session, _KEYS_OF)
        keys = computed.get(facts)
        if keys is None:
            keys = computed[facts] = rules.match_keys(facts, self.secret)
        return keys

    async def _load_keys(self, session: AsyncSession, wanted: list[tuple[str, str]]) -> list[str]:
        """The people these (kind, digest) keys lead to, read in one statement per chunk and kept for the
        transaction (`resolve` then asks nothing); returns the person ids found."""
        indexed = _indexed(session)
        wanted = [key for key in dict.fromkeys(wanted) if key not in indexed]
        found: list[str] = []
        for i in range(0, len(wanted), loaded.CHUNK):
            chunk = wanted[i:i + loaded.CHUNK]
            for key in chunk:
                indexed[key] = []
            for kind_value, digest, pid in (await session.exec(
                    select(MatchKeyRow.kind, MatchKeyRow.digest, MatchKeyRow.person_id)
                    .where(tuple_(MatchKeyRow.kind, MatchKeyRow.digest).in_(chunk))
                    .order_by(MatchKeyRow.kind, MatchKeyRow.digest, MatchKeyRow.person_id))).all():
                indexed[(kind_value, digest)].append(pid)
                found.append(pid)
        return found

    async def is_erased(self, session: AsyncSession, person_id: str) -> bool:
        """The vault row is there but its key was shredded (only an erasure leaves a row without its key)."""
        row = await loaded.get(session, PersonRow, person_id)
        return row is not None and row.wrapped_key is None

    async def _unerased(self, session: AsyncSession, person_id: str) -> str:
        """`person_id`, or, if it was erased, its successor (domain.erasure.successor_id) that is not."""
        for _ in range(16):  # one erasure per registration of the same identity: never near this bound
            if not await self.is_erased(session, person_id):
                return person_id
            person_id = erasure.successor_id(person_id, self.secret)
        raise Unresolvable("this identity was erased too many times to register it again")

    async def shred(self, session: AsyncSession, person_id: str) -> list[str]:
        """Crypto-shredding: the person (a canonical id) and every id folded into it lose their wrapped key, their
        sealed identity and their NIR digest; their blind indexes and the structures' file numbers for them are
        deleted, so no identity, no file number and no match leads back to them. Returns the ids shredded."""
        ids = await self.aliases(session, person_id)
        loaded.forget(session)
        await session.execute(update(PersonRow).where(PersonRow.person_id.in_(ids)).values(
            wrapped_key=None, identity=b"", nir_key=None))
        await session.execute(delete(MatchKeyRow).where(MatchKeyRow.person_id.in_(ids)))
        await session.execute(delete(PartnerRefRow).where(PartnerRefRow.person_id.in_(ids)))
        await session.flush()
        return ids

    async def partner_refs(self, session: AsyncSession, person_ids: list[str]) -> list[PartnerRefRow]:
        """The structures' own file numbers for these ids (a person's access request)."""
        return list((await session.exec(select(PartnerRefRow).where(PartnerRefRow.person_id.in_(person_ids))
                                        .order_by(PartnerRefRow.structure_id, PartnerRefRow.partner_ref))).all())

    async def file_numbers(self, session: AsyncSession, structure: str | None, person_ids: list[str],
                           numbers: list[str]) -> list[PartnerRefRow]:
        """The file numbers `structure` (None: every structure) gave for these people, and the people these
        numbers of its name (the pages' lookup; an erased person has none left)."""
        named = []
        if person_ids:
            named.append(PartnerRefRow.person_id.in_(person_ids))
        if numbers:
            named.append(PartnerRefRow.partner_ref.in_(numbers))
        if not named:
            return []
        query = select(PartnerRefRow).where(or_(*named))
        if structure is not None:
            query = query.where(PartnerRefRow.structure_id == structure)
        return list((await session.exec(query.order_by(PartnerRefRow.person_id, PartnerRefRow.structure_id,
                                                       PartnerRefRow.partner_ref))).all())

    async def merge(self, session: AsyncSession, merged_id: str, kept_id: str) -> None:
        """Fold a person into another one a reviewer decided is the same person, as a proven merge is folded:
        the vault, partner references and later registrations follow the kept id."""
        await self._fold(session, merged_id, kept_id)
        await session.flush()

    async def nirs_differ(self, session: AsyncSession, a: str, b: str) -> bool:
        """Both people carry a NIR and they are not the same one."""
        rows = [await loaded.get(session, PersonRow, pid) for pid in (a, b)]
        keys = [row.nir_key if row is not None else None for row in rows]
        return bool(keys[0] and keys[1] and keys[0] != keys[1])

    async def _fold(self, session: AsyncSession, merged_id: str, kept_id: str) -> None:
        """Everything known of the merged person now points at the kept one; its vault row is kept, marked."""
        await session.execute(update(PersonRow).where(PersonRow.person_id == merged_id).values(merged_into=kept_id))
        await session.execute(update(PartnerRefRow).where(PartnerRefRow.person_id == merged_id)
                           .values(person_id=kept_id))
        # The rows this transaction gathered as plain rows (written by now: before the first statement above)
        # change as the ORM's own rows are changed by the statements.
        for person in loaded.plain_rows(session, PersonRow):
            if person.person_id == merged_id:
                person.merged_into = kept_id
        for ref in loaded.plain_rows(session, PartnerRefRow):
            if ref.person_id == merged_id:
                ref.person_id = kept_id

    async def link_ref(self, session: AsyncSession, source: str, ref: str, person_id: str) -> None:
        """Record (or move) the source structure's own reference for a person."""
        row = await loaded.get(session, PartnerRefRow, (source, ref))
        if row is None:
            if loaded.batched(session):
                loaded.gather(session, PartnerRefRow, (source, ref),
                              loaded.Plain(structure_id=source, partner_ref=ref, person_id=person_id))
            else:
                session.add(PartnerRefRow(structure_id=source, partner_ref=ref, person_id=person_id))
        elif row.person_id != person_id:
            row = await _changeable(session, PartnerRefRow, (source, ref), row)
            row.person_id = person_id
            if not isinstance(row, loaded.Plain):
                session.add(row)
        await _flush_unless_batched(session)

    async def _flag_near_duplicates(self, session: AsyncSession, person_id: str, facts: IdentityFacts,
                                    same_birth: list[str], cause_event_id: str, when: datetime | None
                                    ) -> tuple[reviews.Opening, ...]:
        """Open a review for each known person the new one may be (the row is the review's state), among the
        people indexed under the same birth date (`same_birth`, in person id order); the pairs newly opened are
        returned, for the caller to announce in the same transaction."""
        if not same_birth:
            return ()
        flagged: list[reviews.Opening] = []
        for other in same_birth:
            row = await loaded.get(session, PersonRow, other)
            if row is None or row.wrapped_key is None or row.merged_into is not None:
                continue
            other_facts = self._open(row)
            if rules.is_near_duplicate(facts, other_facts):
                a, b = sorted((person_id, other))
                if await session.get(ReviewRow, (a, b)) is None:
                    opening = reviews.opening(person_id, other, facts, other_facts)
                    session.add(ReviewRow(person_a=a, person_b=b, reason="close_names_same_birth_date",
                                          cause_event_id=cause_event_id, review_id=opening.review_id,
                                          newer_person_id=person_id, matched=json.dumps(opening.matched),
                                          missing=json.dumps(opening.missing), status=reviews.PENDING,
                                          opened_at=utc(when) if when else None))
                    flagged.append(opening)
        await _flush_unless_batched(session)
        return tuple(flagged)

    async def update_identity(self, session: AsyncSession, person_id: str, facts: IdentityFacts) -> None:
        """A profile update changed identity or contact details: re-seal and re-index them."""
        keys = rules.match_keys(facts, self.secret)
        await self._store(session, Resolution(person_id, False, None), facts, keys)


# The keys `resolve` looks people up by: those that match, and the birth date's (near-duplicates).
_LOOKED_UP = (*rules.RULE_OF_KEY, KeyKind.BIRTH)
_INDEXED = "intake.match_keys"
_KEYS_OF = "intake.keys_of"


def _indexed(session: AsyncSession) -> dict[tuple[str, str], list[str]]:
    """What this transaction knows of the blind indexes: (kind, digest) -> the person ids under it, in id order
    (as `resolve` reads them). Kept whole while match keys are only added through `_store`; an erasure's
    deletion (`shred`) forgets it, as does any rollback (store.known.cache)."""
    return loaded.cache(session, _INDEXED)


async def _changeable(session: AsyncSession, model: type, key: Any, row: Any) -> Any:
    """`row` (found by `loaded.get`) as it may be changed: itself, unless it is a plain row already written (or
    one the batch gathered, changed inside a SAVEPOINT): then the ORM's row, read again, whose change the ORM
    writes."""
    if not isinstance(row, loaded.Plain) or (loaded.batched(session) and loaded.unwritten(session, model, key)):
        return row
    loaded.drop_plain(session, model, key)
    found = await session.get(model, key)
    assert found is not None, "a row written in this transaction is there"
    return found


async def _flush_unless_batched(session: AsyncSession) -> None:
    """Rows go to the database now, unless a batch is admitted in one go: then at its next statement or its end
    (store.known.batched), with the batch's other rows of the same table in one statement."""
    if not loaded.batched(session):
        await session.flush()


async def vault_size(session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(PersonRow).where(
        PersonRow.merged_into.is_(None), PersonRow.wrapped_key.is_not(None)))).one()
