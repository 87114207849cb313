"""A PCI function's ``uevent``: most of what discovery needs, in one read.

The kernel's ``pci_uevent`` prints ``PCI_CLASS``, ``PCI_ID``,
``PCI_SUBSYS_ID`` and ``PCI_SLOT_NAME``, and the driver core adds
``DRIVER`` while a driver is bound::

    DRIVER=nvidia
    PCI_CLASS=30200
    PCI_ID=10DE:2330
    PCI_SUBSYS_ID=10DE:16C1
    PCI_SLOT_NAME=0000:18:00.0

That is the ``vendor``, ``device``, ``class``, ``subsystem_vendor`` and
``subsystem_device`` files and the ``driver`` link in one read instead of
six (the reads, not the classification, are what a scan costs). A key it
lacks, or a value that does not parse, is read from its own file instead
(:func:`cyborg_agent.discovery.sysfs.read_function`), so the facts are the
same either way.
"""
import re

_LINE = re.compile(r'^([A-Z_]+)=(.*)$', re.MULTILINE)
_ID_PAIR = re.compile(r'[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}')
#: Printed with %04X: a class below 0x100000 has fewer than 6 digits.
_CLASS = re.compile(r'[0-9A-Fa-f]{1,6}')
#: The ids ``uevent`` gives in pairs, and the files that hold each half.
_PAIRS = (('PCI_ID', 'vendor', 'device'),
          ('PCI_SUBSYS_ID', 'subsystem_vendor', 'subsystem_device'))


def facts(text: str, address: str) -> tuple[dict[str, str], list[str]]:
    """The facts ``text`` gives of the function at ``address``, keyed by
    the name of the file that holds each (ids in lower-case hex, 4 digits,
    the class in 6), and what is wrong with it.

    A ``uevent`` that names another function (``PCI_SLOT_NAME``) gives
    nothing: its facts are not this function's.
    """
    pairs = dict(_LINE.findall(text))
    slot = pairs.get('PCI_SLOT_NAME')
    if slot is not None and slot != address:
        return {}, [f'PCI_SLOT_NAME {slot!r} is another function']
    found, problems = {}, []
    for key, first, second in _PAIRS:
        value = pairs.get(key)
        if value is None:
            continue
        if _ID_PAIR.fullmatch(value):
            found[first], found[second] = value.lower().split(':')
        else:
            problems.append(f'malformed {key} {value!r}')
    klass = pairs.get('PCI_CLASS')
    if klass is not None:
        if _CLASS.fullmatch(klass):
            found['class'] = klass.lower().zfill(6)
        else:
            problems.append(f'malformed PCI_CLASS {klass!r}')
    if pairs.get('DRIVER'):
        found['driver'] = pairs['DRIVER']
    return found, problems
