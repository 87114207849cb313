"""The attach flow: attachments as records in our database and claims in
Placement. It knows nothing of HTTP; :mod:`cyborg_placement.api` calls it and
turns its :mod:`.exceptions` into error codes."""
