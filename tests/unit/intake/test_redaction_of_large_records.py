"""A refused record of a megabyte is cut to what a dead letter can show before it is scanned for personal data:
what is kept is redacted as before, what is cut is withheld with its size, never shown."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.domain.redaction import LONG_TEXT, NODES_KEPT, pruned, redact_original

IDENTITY = {"nir": "1 85 12 49 007 555 12", "last_name": "Garnier", "first_names": "Hugo"}


def test_a_megabyte_value_is_withheld_with_its_length():
    raw = json.dumps({"id": "e-1", "datacontenttype": "a" * 1_000_000, "data": {"identity": IDENTITY}}).encode()
    kept = json.loads(redact_original(raw))
    assert kept["datacontenttype"] == "[1000000 characters withheld by intake]"
    assert kept["id"] == "e-1"
    assert kept["data"]["identity"] == "[redacted by intake]"


def test_a_megabyte_of_long_field_names_is_withheld_and_personal_data_among_them_never_shown():
    body = {"data": {f"{'f' * 990}{i:06d}": 0 for i in range(1000)} | {"comment": "appeler le 06 12 34 56 78"}}
    kept = redact_original(json.dumps(body).encode())
    assert b"ffffffffff" not in kept and b"06 12 34" not in kept
    assert len(kept) < 200_000


def test_values_past_the_budget_are_counted_not_kept():
    kept = pruned({"many": list(range(10 * NODES_KEPT))})
    assert len(kept["many"]) <= NODES_KEPT
    assert kept["many"][-1].endswith("more values withheld by intake]")


@settings(max_examples=50, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=2 * LONG_TEXT),
                    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=300), inner,
                                                                               max_size=20), max_leaves=300))
def test_pruning_keeps_short_texts_and_withholds_long_ones(value):
    def texts(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for k, item in v.items():
                yield k
                yield from texts(item)
        elif isinstance(v, list):
            for item in v:
                yield from texts(item)
    long_texts = {t for t in texts(value) if len(t) > LONG_TEXT}
    assert not long_texts & set(texts(pruned(value)))
