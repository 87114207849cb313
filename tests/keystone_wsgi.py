"""Keystone's WSGI application for gunicorn.

Keystone parses ``sys.argv`` with oslo.config when it starts, and gunicorn's own
arguments are not Keystone's: hand it a bare argv.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ['application']
