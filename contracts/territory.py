"""The territory file: structures, dispositifs, orientation rules and thresholds of one employment territory.

It is a shared contract, like the events: intake checks who may emit, referral orients by its rules,
followup applies its thresholds, the simulator acts as its structures. Loading validates everything
and names each problem by its path in the file.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.vocabulary import BarrierKind, CommuneInsee, StructureId, StructureKind

DEFAULT_TERRITORY_FILE = Path(__file__).with_name("territories") / "angers-loire-metropole.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Audience(_Strict):
    """Who a structure or dispositif is for; an empty audience means everyone."""

    min_age: int | None = Field(default=None, ge=14, le=99)
    max_age: int | None = Field(default=None, ge=14, le=99, description="Inclusive: 25 means under 26.")
    rqth: bool | None = None
    rsa: bool | None = None
    qpv_resident: bool | None = None
    single_parent: bool | None = None


class Structure(_Strict):
    id: StructureId
    kind: StructureKind
    name: str = Field(min_length=1)
    communes: tuple[CommuneInsee, ...] = ()
    audience: Audience = Audience()
    webhook_url: str | None = Field(default=None, description="Optional outbound webhook for referral notices.")
    acts_for: tuple[StructureId, ...] = Field(
        default=(), description="Structures this one may send events for (a delegation, e.g. a platform that "
        "keys in the files of partner structures); intake accepts their id in an event's data from this sender.")


class Coordinator(_Strict):
    """The territory's coordinator: a role of its own, with its own id (its worklist, its credentials, the
    escalations sent to it), distinct from every structure, even the one whose staff hold the role."""

    id: StructureId = Field(description="The coordinator's own id: not the id of any structure.")
    name: str = Field(min_length=1)
    led_by: StructureId | None = Field(default=None, description="The structure whose staff hold the role.")


class Dispositif(_Strict):
    id: StructureId
    name: str = Field(min_length=1)
    operator: StructureId = Field(description="The structure that runs the dispositif and holds its participants.")
    kind: str = Field(min_length=1, description="e.g. cite_emploi, childcare, mobility, iae, plie, formation.")
    audience: Audience = Audience()
    follow_months_after_exit: int = Field(default=0, ge=0, le=36,
                                          description="Months of follow-up after exit, even once employed.")
    lifts: tuple[BarrierKind, ...] = Field(default=(), description="The barriers this dispositif works on.")


class OrientationRule(_Strict):
    """One orientation rule; rules are tried in order, the first `primary` match names the organisme référent.

    Rules that are not primary add a second referral (e.g. QPV residents also to the Cité de l'emploi).
    """

    id: str = Field(min_length=1, description="Name of the rule, quoted in each referral it produces.")
    to: StructureId
    when: Audience = Audience()
    when_barrier: BarrierKind | None = None
    primary: bool = True
    reason: str = Field(min_length=1)


class ReferralSla(_Strict):
    acknowledge_days: int = Field(default=5, ge=1)
    accept_days: int = Field(default=15, ge=1, description="Loi plein emploi target.")
    accept_ceiling_days: int = Field(default=30, ge=1)
    first_appointment_days: int = Field(default=30, ge=1)
    remind_days_before: int = Field(default=3, ge=0)

    @model_validator(mode="after")
    def _ceiling(self) -> "ReferralSla":
        if self.accept_days > self.accept_ceiling_days:
            raise ValueError("accept_days must not exceed accept_ceiling_days")
        return self


class FollowupThresholds(_Strict):
    at_risk_after_days: int = Field(default=14, ge=0,
                                    description="Days without a holder before a person is flagged at risk.")
    lost_after_days: int = Field(default=30, ge=1, description="Days without a holder before a person is lost.")
    no_contact_days: int = Field(default=90, ge=1, description="Days without contact while accompanied.")
    checkin_months: tuple[int, ...] = (1, 3, 6, 12)
    checkin_grace_days: int = Field(default=15, ge=0, description="Days after a due check-in before it is missed.")
    close_after_lasting_months: int = Field(default=12, ge=1)
    close_after_inactive_days: int = Field(default=730, ge=1)

    @model_validator(mode="after")
    def _order(self) -> "FollowupThresholds":
        if self.at_risk_after_days >= self.lost_after_days:
            raise ValueError("at_risk_after_days must be below lost_after_days")
        return self


class Territory(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    timezone: str = "Europe/Paris"
    coordinator: Coordinator = Field(description="Who must act when no structure can: a role, not a structure.")
    structures: tuple[Structure, ...]
    dispositifs: tuple[Dispositif, ...] = ()
    orientation: tuple[OrientationRule, ...]
    referral_sla: ReferralSla = ReferralSla()
    followup: FollowupThresholds = FollowupThresholds()
    start_date: date | None = Field(default=None, description="First day of the simulated or observed period.")
    retention_days: int = Field(default=730, ge=1, le=3650,
                                description="Days a person is kept after their case is closed (the closure's "
                                            "date), then erased by the clock: their identity shredded, their file "
                                            "numbers forgotten (two years, as the public tools of this field do).")

    @model_validator(mode="after")
    def _references(self) -> "Territory":
        ids = [s.id for s in self.structures]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"duplicate structure ids: {sorted(dup)}")
        known = set(ids)
        problems = []
        if self.coordinator.id in known or self.coordinator.id in {d.id for d in self.dispositifs}:
            problems.append(f"coordinator id {self.coordinator.id!r} is a structure's or dispositif's: it needs "
                            "its own")
        if self.coordinator.led_by is not None and self.coordinator.led_by not in known:
            problems.append(f"coordinator led_by {self.coordinator.led_by!r} is not a structure")
        problems += [f"dispositif {d.id!r}: operator {d.operator!r} is not a structure"
                     for d in self.dispositifs if d.operator not in known]
        problems += [f"orientation rule {r.id!r}: target {r.to!r} is not a structure"
                     for r in self.orientation if r.to not in known]
        if not any(r.primary and r.when == Audience() and r.when_barrier is None for r in self.orientation):
            problems.append("orientation needs a primary rule with no condition (the default organisme référent)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def structures_by_id(self) -> dict[str, Structure]:
        return {s.id: s for s in self.structures}

    @cached_property
    def dispositifs_by_id(self) -> dict[str, Dispositif]:
        return {d.id: d for d in self.dispositifs}

    def structure(self, structure_id: str) -> Structure:
        return self.structures_by_id[structure_id]

    def holder_of(self, structure_or_dispositif_id: str) -> str:
        """The structure that holds a person who is in this structure or dispositif."""
        if structure_or_dispositif_id in self.dispositifs_by_id:
            return self.dispositifs_by_id[structure_or_dispositif_id].operator
        return structure_or_dispositif_id


class TerritoryFileError(ValueError):
    """A territory file that cannot be used, with every problem and its path in the file."""


def load_territory(path: Path | str | None = None) -> Territory:
    path = Path(path) if path else DEFAULT_TERRITORY_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TerritoryFileError(f"{path}: no such territory file") from exc
    except yaml.YAMLError as exc:
        raise TerritoryFileError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Territory.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
        raise TerritoryFileError("invalid territory file:\n  " + "\n  ".join(lines)) from exc
