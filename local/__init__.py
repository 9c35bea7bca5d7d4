"""The whole of Ariane on one machine, for development, the demo and the tests; no service imports it.

``kafka`` (a real broker from Kafka's jars), ``catalogue`` (which services exist, from their definitions),
``supervisor`` (the services as processes), ``pipeline`` (broker, services and drain check together),
``drain`` (the one definition of "the pipeline has drained"), ``sample`` (a small seeded story for reporting),
``chaos`` (several instances per service, and faults injected on purpose: kills, broker, store).
"""
