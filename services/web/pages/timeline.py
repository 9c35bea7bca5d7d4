"""One person's timeline page: where they stand, who holds them, and their dated history, newest day first.

Pure: followup's GET /v1/people/{id}/timeline answer in, HTML out; a missing field shows as a dash.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any

from services.web.labels import KINDS, STATES, label
from services.web.pages.markup import esc, french_date, french_time


def _structures(ids: object, names: Mapping[str, str]) -> str:
    if not ids:
        return esc(None)
    values = ids if isinstance(ids, list) else [ids]
    return ", ".join(esc(names.get(str(v), v)) for v in values)


def _entry(entry: Mapping[str, Any], names: Mapping[str, str]) -> str:
    hour = french_time(entry.get("at"))
    structure = entry.get("structure_id")
    parts = [f'<span class="hour">{esc(hour)}</span> ' if hour else "",
             f'<span class="label">{esc(entry.get("label") or entry.get("kind"))}</span>']
    if structure:
        parts.append(f' <span class="structure">({esc(names.get(str(structure), structure))})</span>')
    if entry.get("ref"):
        parts.append(f' <span class="ref">réf. {esc(entry.get("ref"))}</span>')
    if entry.get("rule"):
        parts.append(f'<br><span class="rule">Règle : {esc(entry.get("rule"))}</span>')
    return f'<li class="entry {esc(entry.get("kind") or "")}">{"".join(parts)}</li>'


def timeline_body(answer: Mapping[str, Any], names: Mapping[str, str]) -> str:
    summary = (
        '<dl class="summary">'
        f'<dt>Identifiant</dt><dd><code>{esc(answer.get("person_id"))}</code></dd>'
        f'<dt>Situation</dt><dd>{esc(label(STATES, answer.get("state")))}</dd>'
        f'<dt>Depuis</dt><dd>{french_date(answer.get("since"))}</dd>'
        f'<dt>Structure qui doit agir</dt><dd>{_structures(answer.get("structure_to_act"), names)}</dd>'
        f'<dt>Tenue par</dt><dd>{_structures(answer.get("holders"), names)}</dd>'
        f'<dt>N° de dossier (votre structure)</dt><dd>{esc(answer.get("file_number"))}</dd>'
        '</dl>')
    lines = answer.get("worklist") or []
    todo = ""
    if lines:
        todo = ('<h2>Sur la liste de travail</h2><ul class="todo">' + "".join(
            f'<li>{esc(label(KINDS, line.get("kind")))} : {esc(line.get("expected") or line.get("reason"))}</li>'
            for line in lines) + "</ul>")
    entries = answer.get("entries") or []
    days = []
    # Newest day first, as a counsellor reads a file; within a day, in the order things happened.
    for day, group in groupby(sorted(entries, key=lambda e: str(e.get("day") or "")), key=lambda e: e.get("day")):
        items = "".join(_entry(e, names) for e in group)
        days.append(f'<li><h3><time datetime="{esc(day or "")}">{french_date(day)}</time></h3><ol>{items}</ol></li>')
    history = ('<h2>Historique</h2><ol class="timeline" reversed>' + "".join(reversed(days)) + "</ol>"
               if days else "<h2>Historique</h2><p>Aucun fait connu.</p>")
    return summary + todo + history
