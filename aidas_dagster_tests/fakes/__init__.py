"""Local servers speaking the wire protocols of the external APIs, one module per service.

Each is `<service>_server.py` with a `<Service>Server` class whose `handle` (or routes) answer like
the service does, so the real clients are tested against them. Real local infrastructure
(PostgreSQL, Redis, SMTP) is started by the operations tests' own helpers.
"""
