"""Followup's rules, pure: nothing here reads a clock, a database or a broker.

- `facts`: what followup keeps of each consumed event (a Fact on the territory's calendar day);
- `parcours`: the parcours as a fold over a person's facts (holds, gaps, anchors);
- `decisions`: a person's state on a day and what to emit when it changes (`decide`, `merge`);
- `worklist`: the lines a status puts on the structures' worklists, by urgency;
- `timeline`: one person's dated history, with the structure and rule behind each line;
- `ledger`: the conservation ledger (every known person in exactly one state).
"""

from services.followup.domain.decisions import (Checkin, Decision, Emitted, PersonFile, Rules, State, Status,
                                                decide, evaluate, merge, status_of)
from services.followup.domain.facts import CONTRACT_ZONE, FACT_TYPES, Fact, fact_of
from services.followup.domain.ledger import LedgerCheck, check_ledger, ledger_balanced, ledger_move
from services.followup.domain.timeline import TimelineEntry, involved_structures, timeline
from services.followup.domain.worklist import (URGENCY, LineKind, PendingReview, WorklistLine, file_numbers,
                                               worklist_lines)

__all__ = [
    "CONTRACT_ZONE", "FACT_TYPES", "URGENCY", "Checkin", "Decision", "Emitted", "Fact", "LedgerCheck", "LineKind",
    "PendingReview", "PersonFile", "Rules", "State", "Status", "TimelineEntry", "WorklistLine", "check_ledger", "decide", "evaluate",
    "fact_of", "file_numbers", "involved_structures", "ledger_balanced", "ledger_move", "merge", "status_of",
    "timeline", "worklist_lines",
]
