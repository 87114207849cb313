"""Health signals of one PCI function, read from sysfs every cycle.

What the kernel shows of a function in trouble:

- PCI AER counters: ``aer_dev_fatal`` and ``aer_dev_nonfatal`` hold one
  ``<error name> <count>`` line per uncorrectable error kind and a
  ``TOTAL_ERR_FATAL`` / ``TOTAL_ERR_NONFATAL`` line. A count alone says
  little (it survives the error); growth between two cycles is the signal,
  judged by :mod:`cyborg_agent.health`. Correctable errors are not counted.
- Config space: a function that fell off the bus still has its directory,
  but ``config`` reads all ones (vendor ``ffff``) or fails with EIO.
- Driver: a ``driver`` link left dangling (the driver went away under it).
- A VF the kernel lost: its PF still links ``virtfnN`` to it, the VF's
  directory is gone.

Absent files are not signals (kernels without AER, trees without
``config``): only what is there and wrong is.
"""
import os

#: The line of the per-kind counts that holds their sum.
AER_TOTALS = {'aer_dev_fatal': 'TOTAL_ERR_FATAL',
              'aer_dev_nonfatal': 'TOTAL_ERR_NONFATAL'}


def parse_aer(text: str, total_key: str) -> int | None:
    """The total of an AER counter file; None when it makes no sense."""
    counts = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    if total_key in counts:
        return counts[total_key]
    kinds = [n for name, n in counts.items() if not name.startswith('TOTAL_')]
    return sum(kinds) if kinds else None


def read_aer(device: str) -> dict[str, int]:
    """``{'aer_dev_fatal': n, 'aer_dev_nonfatal': m}``, for the files there."""
    found = {}
    for name, total_key in AER_TOTALS.items():
        try:
            with open(os.path.join(device, name), encoding='ascii',
                      errors='replace') as handle:
                total = parse_aer(handle.read(8192), total_key)
        except OSError:
            continue
        if total is not None:
            found[name] = total
    return found


def config_problem(device: str) -> str | None:
    """Why the function's config space is gone, or None."""
    path = os.path.join(device, 'config')
    try:
        with open(path, 'rb') as handle:
            head = handle.read(4)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f'config space unreadable ({exc.strerror or exc})'
    if head[:2] == b'\xff\xff':
        return 'config space reads all ones: the function does not answer'
    return None


def driver_problem(device: str) -> str | None:
    link = os.path.join(device, 'driver')
    if os.path.islink(link) and not os.path.exists(link):
        return f'driver {os.path.basename(os.readlink(link))} is gone'
    return None


def problems(device: str) -> list[str]:
    """What is wrong with the function now, regardless of history."""
    return [p for p in (config_problem(device), driver_problem(device)) if p]


def lost_virtfns(device: str) -> list[str]:
    """Addresses of VFs the PF links to whose directories are gone."""
    try:
        entries = sorted(os.listdir(device))
    except OSError:
        return []
    lost = []
    for entry in entries:
        link = os.path.join(device, entry)
        if (entry.startswith('virtfn') and os.path.islink(link)
                and not os.path.exists(link)):
            lost.append(os.path.basename(os.readlink(link)))
    return lost
