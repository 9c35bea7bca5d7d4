"""The hash-chained archive: any altered, missing, reordered or cut record is found and named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from services.reporting.store.archive import ArchiveError, read_archive, verify_archive, write_archive
from services.runtime.records import Record


def records(n: int = 6) -> list[tuple[str, Record]]:
    return [("ariane.intake.v1", Record("ariane.intake.v1", i % 3, i, f"p-{i}".encode(), f'{{"n":{i}}}'.encode(), i))
            for i in range(n)]


def rewrite(path: Path, change) -> None:  # noqa: ANN001
    with gzip.open(path, "rb") as src:
        lines = [json.loads(line) for line in src]
    lines = change(lines)
    with gzip.open(path, "wb") as out:
        for line in lines:
            out.write(json.dumps(line).encode() + b"\n")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "log.jsonl.gz"
    write_archive(path, records(), topics=["ariane.intake.v1"])
    return path


def test_an_intact_archive_gives_back_every_record(archive: Path) -> None:
    assert verify_archive(archive) == 6
    assert [r.value for _, r in read_archive(archive)] == [r.value for _, r in records()]


def test_an_altered_record_is_named(archive: Path) -> None:
    def alter(lines: list[dict]) -> list[dict]:
        lines[4]["value"] = "eyJuIjo5OX0="  # {"n":99}: record index 3
        return lines
    rewrite(archive, alter)
    with pytest.raises(ArchiveError) as err:
        verify_archive(archive)
    assert err.value.problem.index == 3
    assert "ariane.intake.v1/0@3" in str(err.value)


def test_a_missing_record_is_found(archive: Path) -> None:
    rewrite(archive, lambda lines: lines[:3] + lines[4:])
    with pytest.raises(ArchiveError) as err:
        verify_archive(archive)
    assert err.value.problem.index == 2


def test_reordered_records_are_found(archive: Path) -> None:
    rewrite(archive, lambda lines: [lines[0], lines[1], lines[3], lines[2], *lines[4:]])
    with pytest.raises(ArchiveError) as err:
        verify_archive(archive)
    assert err.value.problem.index == 1


def test_reordering_with_renumbered_indexes_still_breaks_the_chain(archive: Path) -> None:
    def swap(lines: list[dict]) -> list[dict]:
        lines[2], lines[3] = lines[3], lines[2]
        lines[2]["i"], lines[3]["i"] = 1, 2
        return lines
    rewrite(archive, swap)
    with pytest.raises(ArchiveError, match="hash mismatch") as err:
        verify_archive(archive)
    assert err.value.problem.index == 1


def test_a_cut_tail_is_found(archive: Path) -> None:
    rewrite(archive, lambda lines: lines[:-2])
    with pytest.raises(ArchiveError, match="truncated"):
        verify_archive(archive)
