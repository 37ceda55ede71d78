"""Real local infrastructure the operations tests start: PostgreSQL and Redis (servers.py), an SMTP sink."""
