"""A dead letter always fits in one Kafka record, whatever the record it is about: the original is cut (its
length and digest kept), the field errors counted and cut, the key cut."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from services.runtime.deadletter import ERRORS_KEPT, ORIGINAL_KEPT_BYTES, DeadLetter

# Far below the relay's default max_record_bytes (900,000) and the broker's 1,048,588.
LETTER_BOUND = 300_000


def letter(original: bytes, *, errors: tuple[dict, ...] = (), key: str | None = "p-1",
           reason: str = "invalid_event: the event does not follow its contract") -> DeadLetter:
    return DeadLetter("intake", reason, "ariane.inbound.v1", 0, 42, key, original, errors)


def test_a_one_megabyte_record_makes_a_small_letter_that_says_what_was_cut():
    original = json.dumps({"id": "e-1", "type": "fr.ariane.contact.recorded",
                           "data": {"note": "é" * 600_000}}).encode()
    raw = letter(original).to_json_bytes()
    body = DeadLetter.parse(raw)
    assert len(raw) < LETTER_BOUND
    assert body["original_bytes"] == len(original)
    assert body["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert body["original_truncated"] is True
    assert body["original"] == original[:ORIGINAL_KEPT_BYTES]
    # The excerpt ends inside a two-byte character: the text drops that half character, never the whole text.
    assert original.startswith(body["original_text"].encode())
    assert body["reason"].startswith("invalid_event")


def test_a_small_record_is_kept_whole():
    original = b'{"id": "e-1"}'
    body = DeadLetter.parse(letter(original).to_json_bytes())
    assert body["original"] == original and body["original_text"] == original.decode()
    assert body["original_truncated"] is False


def test_errors_naming_huge_fields_are_counted_and_cut():
    errors = tuple({"loc": f"data.{'k' * 100_000}{i}", "msg": "Extra inputs are not permitted",
                    "type": "extra_forbidden"} for i in range(10_000))
    raw = letter(b"{}", errors=errors, key="k" * 1_000_000, reason="r" * 1_000_000).to_json_bytes()
    body = json.loads(raw)
    assert len(raw) < LETTER_BOUND
    assert len(body["errors"]) == ERRORS_KEPT + 1
    assert body["errors"][-1]["msg"] == f"{10_000 - ERRORS_KEPT} more errors not kept"
    assert len(body["source"]["key"]) <= 256 and len(body["reason"]) <= 2000


@settings(max_examples=40, deadline=None)
@given(size=st.integers(0, 2_000_000), errors=st.integers(0, 500), field=st.integers(1, 5000),
       fill=st.sampled_from([b"a", b"\xc3\xa9", b"\xff", b"\xe2\x82\xac"]))
def test_every_letter_fits_and_keeps_the_start_of_its_original(size, errors, field, fill):
    original = (fill * size)[:size]
    raw = letter(original, errors=tuple({"loc": "x" * field, "msg": "m" * field, "type": "t"}
                                        for _ in range(errors))).to_json_bytes()
    body = DeadLetter.parse(raw)
    assert len(raw) < LETTER_BOUND
    assert original.startswith(body["original"])
    assert body["original_bytes"] == size
