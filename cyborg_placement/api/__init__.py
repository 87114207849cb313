"""The accelerator REST API: a Flask WSGI application (see :mod:`.app`)."""
