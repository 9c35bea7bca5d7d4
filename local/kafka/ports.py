"""Loopback ports for the broker: free ones, and the same ones again after a restart."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from local.kafka.config import LOOPBACK
from local.kafka.errors import KafkaRuntimeError


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` and a server could bind it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # the JVM binds its listeners with SO_REUSEADDR; test the same way
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK, exclude: Iterable[int] = ()) -> int:
    """A loopback port that is free right now (chosen by the kernel, then re-checked)."""
    excluded = set(exclude)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in excluded and port_is_free(port, host):
            return port
    raise KafkaRuntimeError(f"could not find a free port on {host}")


def choose_ports(requested: Iterable[int | None], previous: Iterable[object]) -> list[int]:
    """One port per slot: the requested one (which must be free), else the previous run's if still free, else a
    new free one. Coming back on the previous ports lets clients keep the address they had."""
    chosen: list[int] = []
    for wanted, before in zip(requested, previous, strict=True):
        if wanted is not None:
            if wanted in chosen or not port_is_free(wanted):
                raise KafkaRuntimeError(f"port {LOOPBACK}:{wanted} is already in use; choose another one")
            chosen.append(wanted)
        elif isinstance(before, int) and before not in chosen and port_is_free(before):
            chosen.append(before)
        else:
            chosen.append(free_port(exclude=chosen))
    return chosen
