"""The territory's coordinator, as the simulated year needs one: it decides the identity reviews the stories'
near-duplicate registrations open (duplicates.py), through intake's review API, the day the story says.

The review is found by its two people (the ids intake gave the two registrations, from the sender's
directory) on the `identity.review_opened` intake published; the coordinator waits for it (up to
`resolve_timeout_s`) as a sender waits for a referral's id. What could not be decided is counted and said.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from simulator.directory import Directory
from simulator.year import ReviewDecision


class Coordinator:
    def __init__(self, intake_url: str, token: str, directory: Directory, *, resolve_timeout_s: float = 60.0,
                 client: httpx.AsyncClient | None = None):
        self.intake_url, self.token, self.directory = intake_url.rstrip("/"), token, directory
        self.resolve_timeout_s = resolve_timeout_s
        self.client = client
        self.decided: list[tuple[str, str]] = []  # (second file's partner_ref, decision)
        self.failed: list[str] = []  # why a decision could not be taken

    def _review_id(self, decision: ReviewDecision) -> str | None:
        people = [self.directory.person_by_event.get(e) for e in (decision.registration, decision.other_registration)]
        if None in people:
            return None
        return self.directory.reviews.get(frozenset(p for p in people if p))

    async def decide(self, decision: ReviewDecision) -> None:
        deadline = time.monotonic() + self.resolve_timeout_s
        review_id = self._review_id(decision)
        while review_id is None:
            if time.monotonic() > deadline:
                self.failed.append(f"{decision.partner_ref}: no identity review published for the two files")
                return
            await asyncio.sleep(0.05)
            review_id = self._review_id(decision)
        client = self.client or httpx.AsyncClient(timeout=60.0)
        try:
            answer = await client.post(f"{self.intake_url}/v1/identity-reviews/{review_id}/decision",
                                       json={"decision": decision.decision},
                                       headers={"authorization": f"Bearer {self.token}"})
        finally:
            if self.client is None:
                await client.aclose()
        if answer.status_code == 200:
            self.decided.append((decision.partner_ref, decision.decision))
        else:
            self.failed.append(f"{decision.partner_ref}: intake answered {answer.status_code} {answer.text[:200]}")
