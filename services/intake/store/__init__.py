"""Intake's persistence: its tables, the identity vault's cipher, API keys, and identity resolution I/O.

- `tables`: the rows (vault, blind indexes, partner references, reviews, API keys) and the runtime tables.
- `vault`: encryption of identities, one data key per person wrapped by the master key.
- `identities`: who an identity or a partner's reference is, as a person_id, against the vault.
- `credentials`: issuing, revoking and checking structures' API keys.
- `events`: accepted partner events by (source, id), their content digest and published id.
"""
