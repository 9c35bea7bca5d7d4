"""The exported log: a gzip of JSON lines where each record is chained to the previous one by sha256.

Line 0 is a header, then one line per record in (topic, partition, offset) order, then a trailer with the
count and the last hash. Each hash covers the previous hash and the record's canonical JSON, so altering,
removing or reordering any record breaks the chain at that record, and cutting the tail loses the trailer.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.runtime.records import Record

FORMAT = "ariane-log"
VERSION = 1
GENESIS = "0" * 64


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain(prev: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode("ascii") + b"\n" + _canonical(body)).hexdigest()


def record_body(index: int, topic: str, record: Record) -> dict[str, Any]:
    return {"i": index, "topic": topic, "partition": record.partition, "offset": record.offset,
            "key": record.key_text, "timestamp": record.timestamp_ms,
            "value": base64.b64encode(record.value).decode("ascii")}


def write_archive(path: Path, records: Iterable[tuple[str, Record]], *, topics: list[str]) -> tuple[int, str]:
    """Write (logical topic, record) pairs, already in log order; returns (count, last hash)."""
    header = {"format": FORMAT, "version": VERSION, "topics": sorted(topics)}
    last = chain(GENESIS, header)
    count = 0
    with gzip.open(path, "wb") as out:
        out.write(_canonical({**header, "hash": last}) + b"\n")
        for index, (topic, record) in enumerate(records):
            body = record_body(index, topic, record)
            prev, last = last, chain(last, body)
            out.write(_canonical({**body, "prev": prev, "hash": last}) + b"\n")
            count += 1
        trailer = {"end": True, "count": count}
        out.write(_canonical({**trailer, "hash": chain(last, trailer)}) + b"\n")
    return count, last


@dataclass(frozen=True)
class Problem:
    index: int | None
    where: str
    what: str

    def __str__(self) -> str:
        at = f"record {self.index} ({self.where})" if self.index is not None else self.where
        return f"{at}: {self.what}"


class ArchiveError(ValueError):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with gzip.open(path, "rb") as src:
            for number, line in enumerate(src):
                try:
                    yield number, json.loads(line)
                except ValueError:
                    raise ArchiveError(Problem(None, f"line {number + 1}", "not valid JSON")) from None
    except (OSError, EOFError) as exc:
        raise ArchiveError(Problem(None, str(path), f"unreadable archive: {exc}")) from None


def read_archive(path: Path) -> Iterator[tuple[str, Record]]:
    """The records of an archive, each checked against the chain before it is yielded; raises ArchiveError
    naming the first record that was altered, removed, inserted or moved, or a missing trailer."""
    lines = _lines(path)
    try:
        _, header = next(lines)
    except StopIteration:
        raise ArchiveError(Problem(None, "header", "empty archive")) from None
    claimed = header.pop("hash", None)
    if header.get("format") != FORMAT:
        raise ArchiveError(Problem(None, "header", "not an Ariane log archive"))
    last = chain(GENESIS, header)
    if claimed != last:
        raise ArchiveError(Problem(None, "header", "header altered"))
    expected = 0
    for _number, line in lines:
        claimed = line.pop("hash", None)
        if line.get("end") is True:
            if line.get("count") != expected or claimed != chain(last, line):
                raise ArchiveError(Problem(None, "trailer", f"trailer says {line.get('count')} records, "
                                                            f"chain has {expected}, or trailer altered"))
            return
        line.pop("prev", None)
        where = f"{line.get('topic')}/{line.get('partition')}@{line.get('offset')}"
        if line.get("i") != expected:
            raise ArchiveError(Problem(expected, where, f"found index {line.get('i')}: a record is missing, "
                                                        "inserted or moved"))
        last_candidate = chain(last, line)
        if claimed != last_candidate:
            raise ArchiveError(Problem(expected, where, "hash mismatch: record altered or out of order"))
        last = last_candidate
        expected += 1
        value = base64.b64decode(line["value"])
        key = line["key"].encode("utf-8") if line["key"] is not None else None
        yield line["topic"], Record(line["topic"], line["partition"], line["offset"], key, value,
                                    line["timestamp"])
    raise ArchiveError(Problem(None, "trailer", f"missing after {expected} records: archive truncated"))


def verify_archive(path: Path) -> int:
    """Check the whole chain; returns the number of records, raises ArchiveError on the first problem."""
    return sum(1 for _ in read_archive(path))
