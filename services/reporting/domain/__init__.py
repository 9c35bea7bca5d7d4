"""Reporting's rules, pure: the projection (what each event teaches the documents) and the report computed
from it, one module per group of report tables, plus the digest. No I/O, no clock, no store."""
