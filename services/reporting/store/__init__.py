"""Reporting's persistence: the document table (schema.py), reading and writing documents (documents.py),
the auditor's replay from the log (replay.py) and the hash-chained log archive (archive.py)."""

from services.reporting.store.documents import load_state, write_state
from services.reporting.store.schema import SERVICE, VERSIONS_DIR, metadata, tables

__all__ = ["SERVICE", "VERSIONS_DIR", "load_state", "metadata", "tables", "write_state"]
