"""The API's database: models, engine set-up, data access and migrations.

Nothing here knows about HTTP; handlers call the data-access modules
(:mod:`.accelerators`, :mod:`.attachments`) and turn their exceptions into
error bodies.
"""
