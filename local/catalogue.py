"""Which services make up Ariane, and what each says about itself in its ``definition()``.

The only list kept here is the services' packages, in the order events flow through them. Each service's
name, default port and the topics it reads come from its own ``app.definition()``, declared once there.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

# What partner events flow through, in order; the day clock is separate because simulated runs send its ticks
# themselves and must not have a real clock ticking beside them.
PIPELINE = ("services.intake", "services.referral", "services.followup", "services.reporting")
CLOCK = "services.clock"
# The coordinators' and counsellors' page: it reads no topic (no consumer group to wait for) and calls the
# others over HTTP, so it is started beside the pipeline, never counted in it.
WEB = "services.web"


@dataclass(frozen=True)
class Service:
    name: str
    module: str  # `python -m <module>` serves it
    default_port: int
    consumes: tuple[str, ...]
    group_id: str  # its consumer group, before any topic prefix


@cache
def service(module: str) -> Service:
    definition = importlib.import_module(f"{module}.app").definition()
    return Service(name=definition.name, module=module, default_port=definition.default_port,
                   consumes=tuple(definition.consumes), group_id=definition.group_id)


def pipeline() -> list[Service]:
    return [service(module) for module in PIPELINE]


def clock() -> Service:
    return service(CLOCK)


def web() -> Service:
    return service(WEB)


def by_name(name: str) -> Service:
    for module in (*PIPELINE, CLOCK, WEB):
        if service(module).name == name:
            return service(module)
    raise KeyError(f"no service named {name!r}")
