"""Alembic migrations of the history store (run by :mod:`xlplan.store`, never by hand)."""
