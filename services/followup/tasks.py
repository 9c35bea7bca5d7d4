"""Followup's background loops, as BackgroundTask factories the runtime starts and supervises.

Followup has none: everything it does is a reaction to a consumed event, the day included (the clock
service's `clock.day_started`). The room stays so that every service lists the same ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.runtime.tasks import BackgroundTask

if TYPE_CHECKING:
    from services.followup.app import FollowupDeps


def tasks(deps: FollowupDeps) -> list[BackgroundTask]:
    return []
