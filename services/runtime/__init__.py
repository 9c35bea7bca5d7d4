"""What every Ariane service stands on: settings, store, inbox/outbox, relay, consumer, logs, metrics, health.

No domain knowledge lives here; a service plugs in its handler, its tables and its routes.
"""
