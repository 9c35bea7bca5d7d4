"""What every table row of the report is: frozen, integers and strings only, serialised by its JSON names."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)
