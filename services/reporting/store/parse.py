"""The replay's parse of a record's bytes: the contract models for what the projection folds, the type alone
for what it does not.

About half of a territory's log (contacts recorded, check-ins done) is of types that have no projection rule:
valid or not, such a record never changes a figure (live, a valid one is marked processed and ignored, an
invalid one dead-lettered). Validating its every field was 40% of the replay's validation, for nothing. So the
replay parses the bytes with one discriminated union over `type`, like `contracts.events.event_adapter`: a type
that has a rule is validated by its own contract model, exactly as the live service does (a malformed one is
skipped, never folded); a type without a rule by a stand-in that reads only `type` (and, for an "as of" replay,
`time` and `recordedtime`, to place the record before or after the cut). Bytes that are not a JSON object, or
whose `type` is missing or no contract's, fail both alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from contracts.envelope import Envelope
from contracts.events import EVENT_CLASSES
from services.reporting.domain.projection import RULES

RULELESS: tuple[type[Envelope], ...] = tuple(cls for cls in EVENT_CLASSES if cls not in RULES)


def _type_of(cls: type[Envelope]) -> Any:
    return Literal[cls.model_fields["type"].default]  # type: ignore[valid-type]


def _named_only(cls: type[Envelope]) -> type:
    """A record of a rule-less type read as {"type": ...}: every other field ignored."""
    return TypedDict(f"Ruleless{cls.__name__}", {"type": _type_of(cls)})  # type: ignore[operator]


class _Dated(BaseModel):
    """A rule-less record read for the "as of" cut: `time` and `recordedtime` as the envelope types them."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    time: datetime
    recordedtime: datetime | None = None


def _dated(cls: type[Envelope]) -> type:
    return type(f"DatedRuleless{cls.__name__}", (_Dated,), {"__annotations__": {"type": _type_of(cls)}})


def _parser(stand_in: Callable[[type[Envelope]], type]) -> Callable[[bytes], Any]:
    members = tuple(cls if cls in RULES else stand_in(cls) for cls in EVENT_CLASSES)
    adapter: TypeAdapter[Any] = TypeAdapter(Annotated[Union[members], Field(discriminator="type")])
    return adapter.validator.validate_json  # the core validator itself: TypeAdapter's wrapper costs per call


# Each returns a contract model for a type with a rule, something else (a dict, a `_Dated`) for a type without
# one, and raises pydantic's ValidationError for bytes that are no event of the contracts.
parse_record: Callable[[bytes], Any] = _parser(_named_only)
parse_record_dated: Callable[[bytes], Any] = _parser(_dated)
