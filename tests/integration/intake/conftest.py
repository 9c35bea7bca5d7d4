"""Intake running in-process on the real broker and a real database (the helpers to feed and read its topics
are in intake_harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from intake_harness import RunningIntake, intake_settings

from services.intake.app import definition
from services.runtime.credentials import CredentialsBook
from tests.support.services import running_service, test_settings


@pytest.fixture
async def intake(kafka_bootstrap: str, database_url: str, topic_prefix: str, tmp_path) -> AsyncIterator[RunningIntake]:  # noqa: ANN001
    book = CredentialsBook(tmp_path / "credentials.json")
    settings = test_settings(kafka_bootstrap=kafka_bootstrap, database_url=database_url, topic_prefix=topic_prefix,
                             credentials_file=book.path)
    async with running_service(definition(intake_settings()), settings) as (app, client):
        yield RunningIntake(app.state.ctx, client, topic_prefix, kafka_bootstrap, book)
