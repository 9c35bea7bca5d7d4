"""The referral rules, pure: no clock, no database, no network.

- lifecycle.py: one person's referrals, from issue to closure or expiry, and the SLA deadlines on day ticks.
- orientation.py: which structure a person is referred to, read from the territory's orientation rules.
- webhook_targets.py: which structure a notice goes to, and whether the webhook configuration can work.
- signing.py: how a webhook notice is signed, and how a partner checks it.
- delivery_verdicts.py: what a partner's answer to a notice means (delivered, try again, failed).
"""
