"""A property-based fuzzer against the committed OpenAPI document (contracts/openapi/intake.json), with the
real partner event schemas: requests generated from it (valid and invalid) reach intake's ASGI app running on
the real broker and database. None may end in a server error or an answer the document does not describe."""

from __future__ import annotations

import json

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cli.commands.intake import OPENAPI_FILE

MAX_EXAMPLES = 200


def _from_the_authenticated_structure(case):  # noqa: ANN001, ANN202
    """Events sent under their own structure's key, so that they reach the contract and the rules behind it."""
    events = case.body if isinstance(case.body, list) else [case.body]
    for event in events:
        if isinstance(event, dict):
            event["source"] = "mission_locale_angevine"
    return case


def _says_come_back_later(path: str, response: httpx.Response) -> bool:
    """The two 503s that are answers, not server errors (the document describes both, which is still checked):
    a probe saying the service is not ready, and any route saying the broker or database is away for a moment,
    with Retry-After (the shared broker can stall on a loaded machine). Any other 5xx is a server error."""
    if response.status_code != 503:
        return False
    return path.startswith("/health") or "Retry-After" in response.headers


def generated_cases(token: str) -> list:
    schema = schemathesis.openapi.from_dict(json.loads(OPENAPI_FILE.read_text(encoding="utf-8")))
    headers = {"Authorization": f"Bearer {token}"}
    positive = schema.as_strategy(GenerationMode.POSITIVE, headers=headers)
    strategy = st.one_of(positive, positive.map(_from_the_authenticated_structure),
                         schema.as_strategy(GenerationMode.NEGATIVE, headers=headers))
    cases: list = []

    @given(strategy)
    @settings(max_examples=MAX_EXAMPLES, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def collect(case) -> None:  # noqa: ANN001
        cases.append(case)

    collect()
    return cases


async def test_fuzzing_the_committed_openapi_finds_no_server_error_nor_undocumented_answer(intake):
    token = await intake.key_for("mission_locale_angevine")
    cases = generated_cases(token)
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for case in cases:
        kwargs = case.as_transport_kwargs(base_url="http://service.test")
        body = kwargs.get("json", None)
        content = kwargs.get("data", None)
        request = intake.client.build_request(
            kwargs["method"], kwargs["url"], headers=kwargs.get("headers"), params=kwargs.get("params"),
            **({"content": json.dumps(body).encode()} if "json" in kwargs else
               {"content": content if isinstance(content, (bytes, str)) else None}))
        response = await intake.client.send(request)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        checks = [response_schema_conformance, status_code_conformance, content_type_conformance]
        if not _says_come_back_later(case.path, response):
            checks.append(not_a_server_error)
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # noqa: BLE001 - every failure is collected and shown together
            failures.append(f"{case.method} {case.path} -> {response.status_code}: {str(exc)[:300]}")
    print(f"fuzzed {len(cases)} requests: {dict(sorted(statuses.items()))}")
    assert failures == []
    assert len(cases) >= MAX_EXAMPLES // 2
