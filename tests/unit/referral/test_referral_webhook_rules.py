"""Outbound webhooks, the pure part: a partner can check the signature, retries are bounded, statuses classified."""

import hashlib
import hmac
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.clock import DayStarted
from contracts.referrals import ReferralExpired, ReferralExpiredData, ReferralReminderSent, ReferralReminderSentData
from contracts.territory import load_territory
from services.referral.domain.delivery_verdicts import Verdict, is_retryable
from services.referral.domain.signing import signature, verify
from services.referral.domain.webhook_targets import WebhookConfigError, receiving_structure, webhook_targets
from services.referral.settings import ReferralSettings, RetryPolicy
from services.referral.tasks import after_attempt, backoff_delay, max_total_delay

secrets = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)
timestamps = st.integers(min_value=0, max_value=4_000_000_000)
policies = st.builds(lambda n, base, factor: RetryPolicy(max_attempts=n, base_delay_s=base, max_delay_s=base * factor),
                     st.integers(1, 20), st.floats(0.001, 600), st.floats(1, 1000))
jitters = st.floats(0, 1)


def partner_check(header: str, body: bytes, secret: str) -> bool:
    """What a partner writes from the README alone, without our code."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = hmac.new(secret.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, fields["v1"])


@given(secrets, bodies, timestamps)
def test_a_partner_with_the_secret_can_check_the_signature(secret: str, body: bytes, t: int) -> None:
    header = signature(secret, t, body)
    assert header.startswith(f"t={t},v1=")
    assert partner_check(header, body, secret)
    assert verify(header, body, secret, now=t)


@given(secrets, secrets, bodies, bodies, timestamps)
def test_another_secret_or_body_does_not_verify(secret: str, other: str, body: bytes, tampered: bytes, t: int) -> None:
    header = signature(secret, t, body)
    assert verify(header, body, other, now=t) == (other == secret)
    assert verify(header, tampered, secret, now=t) == (tampered == body)


@given(secrets, bodies, timestamps, st.integers(-10_000, 10_000))
def test_a_signature_too_far_in_time_is_refused(secret: str, body: bytes, t: int, skew: int) -> None:
    assert verify(signature(secret, t, body), body, secret, now=t + skew, tolerance_s=300) == (abs(skew) <= 300)


@pytest.mark.parametrize("header", ["", "v1=abc", "t=x,v1=abc", "t=1", "garbage"])
def test_a_malformed_signature_is_refused(header: str) -> None:
    assert not verify(header, b"{}", "s", now=1)


@given(policies, st.integers(1, 200), jitters)
def test_the_delay_is_capped_and_at_least_half_of_the_schedule(policy: RetryPolicy, n: int, jitter: float) -> None:
    delay = backoff_delay(n, policy, jitter)
    full = min(policy.max_delay_s, policy.base_delay_s * 2 ** (n - 1))
    assert full / 2 - 1e-9 <= delay <= full + 1e-9
    assert delay <= policy.max_delay_s + 1e-9


@given(policies, st.integers(1, 60), jitters)
def test_the_delay_never_shrinks_from_one_attempt_to_the_next(policy: RetryPolicy, n: int, jitter: float) -> None:
    assert backoff_delay(n + 1, policy, jitter) >= backoff_delay(n, policy, jitter) - 1e-9


def test_the_default_schedule_doubles_from_thirty_seconds() -> None:
    policy = RetryPolicy()
    assert [backoff_delay(n, policy) for n in range(1, 8)] == [30, 60, 120, 240, 480, 960, 1920]
    assert max_total_delay(policy) == 3810


@given(policies, st.lists(st.one_of(st.none(), st.sampled_from([408, 429, 500, 502, 503, 504])), min_size=60,
                          max_size=60), jitters)
def test_a_partner_failing_for_ever_is_tried_at_most_max_attempts_times(policy, statuses, jitter) -> None:
    tries = 0
    for status in statuses:
        tries += 1
        step = after_attempt(status, tries, policy, jitter)
        if step.verdict is not Verdict.RETRY:
            break
        assert step.delay_s is not None and 0 < step.delay_s <= policy.max_delay_s
    assert step.verdict is Verdict.FAILED
    assert tries == policy.max_attempts


@given(st.integers(100, 599), st.integers(1, 8))
def test_classification_of_answers(status: int, attempt: int) -> None:
    step = after_attempt(status, attempt, RetryPolicy(max_attempts=8), 0.5)
    if 200 <= status < 300:
        assert step.verdict is Verdict.DELIVERED
    elif 400 <= status < 500 and status not in (408, 429):
        assert step.verdict is Verdict.FAILED  # the request is wrong: asking again would not help
    elif status >= 500 or status in (408, 429):
        assert step.verdict is (Verdict.FAILED if attempt == 8 else Verdict.RETRY)


def test_no_answer_at_all_is_retried() -> None:
    assert is_retryable(None)
    assert after_attempt(None, 1, RetryPolicy()).verdict is Verdict.RETRY
    assert not is_retryable(404) and not is_retryable(301) and is_retryable(429) and is_retryable(503)


def test_the_receiving_structure_is_notified_of_reminders_and_expiries() -> None:
    tick = DayStarted.for_day(date(2026, 1, 20))
    reminder = tick.caused(ReferralReminderSent, source="ariane/referral", event_id="r", subject="p",
                           data=ReferralReminderSentData(referral_id="ori-1", structure_id="cap_emploi_49",
                                                         deadline="accept", due_date=date(2026, 1, 22)))
    expired = tick.caused(ReferralExpired, source="ariane/referral", event_id="e", subject="p",
                          data=ReferralExpiredData(referral_id="ori-1", structure_id="departement_49",
                                                   deadline="accept", due_date=date(2026, 1, 19)))
    assert receiving_structure(reminder) == "cap_emploi_49"
    assert receiving_structure(expired) == "departement_49"
    assert receiving_structure(tick) is None


def with_webhook(structure_id: str, url: str):
    territory = load_territory()
    structures = tuple(s.model_copy(update={"webhook_url": url}) if s.id == structure_id else s
                       for s in territory.structures)
    return territory.model_copy(update={"structures": structures})


def test_a_structure_with_a_url_and_no_secret_stops_the_start_up_with_its_name() -> None:
    territory = with_webhook("cap_emploi_49", "https://cap.example/hooks")
    with pytest.raises(WebhookConfigError, match="'cap_emploi_49' has a webhook_url but no secret"):
        webhook_targets(territory, {})
    assert webhook_targets(territory, {"cap_emploi_49": "s"}) == {"cap_emploi_49": "https://cap.example/hooks"}


def test_a_secret_for_an_unknown_structure_or_a_relative_url_is_refused() -> None:
    with pytest.raises(WebhookConfigError, match="cap_emploi_4"):
        webhook_targets(load_territory(), {"cap_emploi_4": "s"})
    with pytest.raises(WebhookConfigError, match="not an absolute http"):
        webhook_targets(with_webhook("cap_emploi_49", "/hooks"), {"cap_emploi_49": "s"})
    assert webhook_targets(load_territory(), {}) == {}


def test_settings_read_secrets_and_the_retry_policy(monkeypatch) -> None:
    monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_SECRETS", '{"cap_emploi_49": "s3cret"}')
    monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_MAX_ATTEMPTS", "3")
    settings = ReferralSettings()
    assert settings.webhook_secret_table() == {"cap_emploi_49": "s3cret"}
    assert settings.webhook_retry_policy().max_attempts == 3
    monkeypatch.setenv("ARIANE_REFERRAL_WEBHOOK_SECRETS", '["s3cret"]')
    with pytest.raises(ValueError, match="JSON object"):
        ReferralSettings().webhook_secret_table()
