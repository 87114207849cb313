"""Alembic's script directory, a package so that installs ship it.

Alembic loads ``env.py`` and ``versions/`` by path (see
:mod:`cyborg_placement.db.migration`), never by import.
"""
