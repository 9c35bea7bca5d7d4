"""Intake's rules, pure: no I/O, no clock, no randomness (secrets and times are passed in).

- `identity`: normalisation, pseudonymous ids, blind-index keys, the order of matching, near-duplicates.
- `admission`: which events a partner may send, and the structures they may name.
- `publication`: what intake publishes for an accepted event.
- `api_keys`: the form of a structure's API key and of a signed request.
- `redaction`: what the dead-letter topic may keep of a refused record.
"""
