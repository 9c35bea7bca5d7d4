"""The services the page calls, over their HTTP APIs, always with the signed-in user's own key.

The page holds no key of its own: followup, intake and reporting each decide what this user may read or send,
so the page can never show or do more than its user could with the key alone. Every failure comes back as a
French sentence for the page, never as an exception the user would see as a blank error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

SERVICE_NAMES = {"followup": "le service de suivi", "intake": "le service d'accueil des événements",
                 "reporting": "le service de rapports"}


@dataclass(frozen=True)
class Answer:
    status: int  # the HTTP status, or 0 when the service could not be reached
    body: Any = None  # decoded JSON, or bytes for a download
    problem: str | None = None  # a French sentence when the call did not succeed

    @property
    def ok(self) -> bool:
        return self.problem is None


def problem_of(service: str, status: int, detail: str | None) -> str:
    """What to tell the user when `service` answered `status` (0: unreachable), in French."""
    who = SERVICE_NAMES.get(service, service)
    if status == 0:
        return f"Impossible de joindre {who} pour le moment ; réessayez dans quelques instants."
    if status == 401:
        return f"Clé d'accès refusée par {who} : vérifiez-la ou reconnectez-vous."
    if status == 403:
        return f"Votre clé ne donne pas accès à cette information ({who} a refusé)."
    if status == 404:
        return f"{who[0].upper()}{who[1:]} ne trouve pas ce qui est demandé."
    if status in (502, 503, 504):
        return f"{who[0].upper()}{who[1:]} est momentanément indisponible ; réessayez dans quelques instants."
    suffix = f" (détail : {detail})" if detail else ""
    return f"{who[0].upper()}{who[1:]} a refusé la demande (code {status}){suffix}."


def detail_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error")
        return detail if isinstance(detail, str) else None
    return None


class Upstream:
    def __init__(self, followup_url: str, intake_url: str, reporting_url: str, timeout_s: float) -> None:
        self.urls = {"followup": followup_url.rstrip("/"), "intake": intake_url.rstrip("/"),
                     "reporting": reporting_url.rstrip("/")}
        # Connections idle for 2 s are dropped before the services' own 5 s keep-alive closes them, so a request
        # never goes out on a connection being closed (see tests/e2e/territory_run.py).
        self.client = httpx.AsyncClient(timeout=timeout_s, limits=httpx.Limits(keepalive_expiry=2.0))

    async def close(self) -> None:
        await self.client.aclose()

    async def _call(self, service: str, method: str, path: str, token: str, *, raw: bool = False,
                    **kwargs: Any) -> Answer:
        headers = {"authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            response = await self.client.request(method, self.urls[service] + path, headers=headers, **kwargs)
        except httpx.HTTPError:
            return Answer(0, problem=problem_of(service, 0, None))
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            return Answer(response.status_code, body, problem_of(service, response.status_code, detail_of(response)))
        if raw:
            return Answer(response.status_code, response.content)
        try:
            return Answer(response.status_code, response.json())
        except ValueError:
            return Answer(502, problem=problem_of(service, 502, None))

    async def worklist(self, token: str, params: dict[str, Any]) -> Answer:
        return await self._call("followup", "GET", "/v1/worklist", token, params=params)

    async def worklist_csv_page(self, token: str, params: dict[str, Any]) -> Answer:
        return await self._call("followup", "GET", "/v1/worklist", token, raw=True,
                                params={**params, "format": "csv"})

    async def timeline(self, token: str, person_id: str) -> Answer:
        # Quoted whole: an id holding "/" or ".." stays one path segment, never another route of followup.
        return await self._call("followup", "GET", f"/v1/people/{quote(person_id, safe='')}/timeline", token)

    async def report(self, token: str) -> Answer:
        return await self._call("reporting", "GET", "/v1/report", token)

    async def send_event(self, token: str, event_json: bytes) -> Answer:
        return await self._call("intake", "POST", "/v1/events", token, content=event_json,
                                headers={"content-type": "application/cloudevents+json"})

    async def send_events(self, token: str, batch_json: bytes) -> Answer:
        """Several events in one request (a JSON array): intake answers one result per event."""
        return await self._call("intake", "POST", "/v1/events", token, content=batch_json,
                                headers={"content-type": "application/cloudevents-batch+json"})

    async def caseload(self, token: str, params: dict[str, Any]) -> Answer:
        return await self._call("followup", "GET", "/v1/caseload", token, params=params)

    async def identity_reviews(self, token: str) -> Answer:
        # Intake records every identity it shows here as a disclosure: called only when the page shows them.
        return await self._call("intake", "GET", "/v1/identity-reviews", token, params={"status": "pending"})

    async def decide_review(self, token: str, review_id: str, decision: str, note: str | None) -> Answer:
        body = {"decision": decision, **({"note": note} if note else {})}
        return await self._call("intake", "POST", f"/v1/identity-reviews/{quote(review_id, safe='')}/decision",
                                token, json=body)

    async def file_numbers(self, token: str, *, person_ids: list[str] | None = None,
                           file_numbers: list[str] | None = None) -> Answer:
        """The structures' file numbers of these people, or the people these numbers name, as the user's key
        may read them (a structure its own, the coordinator every structure's)."""
        return await self._call("intake", "POST", "/v1/file-numbers", token,
                                json={"person_ids": person_ids or [], "file_numbers": file_numbers or []})

    async def reachable(self) -> dict[str, str]:
        """For /health: whether each service answers its own /health/live (no key needed, none sent)."""
        out = {}
        for service, url in self.urls.items():
            try:
                response = await self.client.get(url + "/health/live", timeout=2)
                out[service] = "ok" if response.status_code == 200 else f"answers {response.status_code}"
            except httpx.HTTPError as exc:
                out[service] = f"unreachable: {type(exc).__name__}"
        return out
