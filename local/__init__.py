"""The whole of Ariane on one machine: Kafka from its jars, the services as processes, drain and progress, sample data.

Development and test tooling; no service imports it.
"""
