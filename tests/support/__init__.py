"""Shared test support: real databases, topic namespaces, in-process services."""
