"""What the dead-letter topic may keep of a refused inbound record: never an identity, nor personal data."""

from __future__ import annotations

import json
from typing import Any

from services.intake.domain import pii

# A letter keeps only the first 16 KiB of what it is about, so a refused record is first cut to what a letter
# could show: values of at most LONG_TEXT characters (the longest text of a contract), keys of at most
# LONG_KEY, TEXT_KEPT characters and NODES_KEPT values in all. The detectors then scan a few kilobytes, never a
# megabyte: some take time quadratic in a text's length, and one record of 1 MB held intake's consumer, and
# its HTTP door, for many minutes.
LONG_TEXT = 500
LONG_KEY = 100
TEXT_KEPT = 16 * 1024
NODES_KEPT = 2000


class _Budget:
    def __init__(self) -> None:
        self.nodes, self.chars = NODES_KEPT, TEXT_KEPT

    def keeps(self, text: str, limit: int) -> bool:
        if len(text) > limit or len(text) > self.chars:
            return False
        self.chars -= len(text)
        return True


def pruned(value: Any, budget: _Budget | None = None) -> Any:
    """`value` with every text too long, or past TEXT_KEPT characters in all, withheld (its length said) and,
    past NODES_KEPT values met depth first, the rest of each object or list replaced by a count."""
    budget = budget or _Budget()
    budget.nodes -= 1
    if isinstance(value, str):
        return value if budget.keeps(value, LONG_TEXT) else f"[{len(value)} characters withheld by intake]"
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if budget.nodes <= 0:
                out["[withheld by intake]"] = f"{len(value) - index} more fields"
                break
            name = key if budget.keeps(key, LONG_KEY) else f"[key {index}: {len(key)} characters withheld by intake]"
            out[name] = pruned(item, budget)
        return out
    if isinstance(value, list):
        kept: list[Any] = []
        for index, item in enumerate(value):
            if budget.nodes <= 0:
                kept.append(f"[{len(value) - index} more values withheld by intake]")
                break
            kept.append(pruned(item, budget))
        return kept
    return value


def redact_original(raw: bytes) -> bytes:
    """What the dead-letter topic keeps of a refused inbound record: the event, cut to what a letter can show
    (`pruned`), with every identity-like key's value (at any depth, whatever its spelling) and every string
    holding personal data (NIR, e-mail, phone, IBAN, the names of any identity found in it; plain or base64)
    replaced.

    A record that is not even a JSON object is withheld entirely: nobody can tell what it holds."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return b'{"redacted": "unparseable original withheld by intake"}'
    if not isinstance(body, dict):
        return b'{"redacted": "non-object original withheld by intake"}'
    body = pruned(body)
    return json.dumps(pii.redact(body, pii.names_anywhere(body)), ensure_ascii=False).encode("utf-8")
