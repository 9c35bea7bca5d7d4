"""The report's digest: sha256 over its canonical JSON (sorted keys, no spaces)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from services.reporting.domain.report import Report, as_json


def canonical_json(report: Report | Mapping[str, Any]) -> str:
    return json.dumps(as_json(report), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(report: Report | Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(report).encode("utf-8")).hexdigest()
