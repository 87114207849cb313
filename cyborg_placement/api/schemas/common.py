"""Schema pieces more than one resource uses, and what every string must be.

Limits are those of the columns the values end up in
(``cyborg_placement/db/models.py``): ``Integer`` is 32-bit signed on
PostgreSQL and MySQL, ``String(n)`` holds n characters. Strings must also be
text every backend stores: JSON (and Python) strings may hold lone surrogates,
which cannot be encoded to UTF-8, and NUL, which PostgreSQL text refuses.
"""
INT32_MAX = 2**31 - 1

#: Nesting of a JSON body, free-form acc_specs included.
MAX_DEPTH = 32

#: format uuid alone also takes braces and trailing dashes ("...606e}"); at
#: most 36 characters it is the canonical form, in either case.
UUID = {'type': 'string', 'format': 'uuid', 'maxLength': 36}
HEX4 = {'type': 'string', 'pattern': '^[0-9a-fA-F]{4}$'}
PCI_ADDRESS = {'type': 'string',
               'pattern': '^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}'
                          r'\.[0-7]$'}
HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255}
RESOURCE_CLASS = {'type': 'string', 'pattern': '^[A-Z0-9_]+$',
                  'maxLength': 255}
#: A kernel driver name, as in ``/sys/bus/pci/drivers/<name>``: it becomes
#: one path component on the host, so no '/' and no leading '.' ('..').
DRIVER = {'type': 'string', 'pattern': '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
          'maxLength': 64}


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text; None when it can."""
    if '\x00' in value:
        return 'contains a NUL character'
    try:
        value.encode('utf-8')
    except UnicodeEncodeError as exc:
        return (f'contains a lone surrogate ({value[exc.start]!r} at '
                f'character {exc.start}), which is not text')
    return None
