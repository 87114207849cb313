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
  directory is gone (found where the PF's links are read,
  :func:`cyborg_agent.discovery.sysfs.read_function`).

Absent files are not signals (kernels without AER, trees without
``config``): only what is there and wrong is.
"""
import os

#: The line of the per-kind counts that holds their sum.
AER_TOTALS = {'aer_dev_fatal': 'TOTAL_ERR_FATAL',
              'aer_dev_nonfatal': 'TOTAL_ERR_NONFATAL'}


def read_bytes(path: str, size: int) -> bytes:
    """Up to ``size`` bytes of a sysfs file. Through a descriptor, not a
    file object: a scan reads tens of thousands of small files."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        return os.read(descriptor, size)
    finally:
        os.close(descriptor)


def parse_aer(text: str, total_key: str) -> int | None:
    """The total of an AER counter file; None when it makes no sense."""
    last = text.rstrip().rpartition('\n')[2].split()
    if len(last) == 2 and last[0] == total_key and last[1].isdigit():
        return int(last[1])  # where the kernel prints it
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
            text = read_bytes(f'{device}/{name}', 8192)
        except OSError:
            continue
        total = parse_aer(text.decode('ascii', errors='replace'), total_key)
        if total is not None:
            found[name] = total
    return found


def config_problem(device: str) -> str | None:
    """Why the function's config space is gone, or None."""
    try:
        head = read_bytes(f'{device}/config', 4)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f'config space unreadable ({exc.strerror or exc})'
    if head[:2] == b'\xff\xff':
        return 'config space reads all ones: the function does not answer'
    return None


def driver_problem(device: str) -> str | None:
    link = f'{device}/driver'
    if os.path.islink(link) and not os.path.exists(link):
        return f'driver {os.path.basename(os.readlink(link))} is gone'
    return None


def problems(device: str, driver_link: bool) -> list[str]:
    """What is wrong with the function now, regardless of history
    (``driver_link``: whether to look at a ``driver`` link)."""
    found = [config_problem(device)]
    if driver_link:
        found.append(driver_problem(device))
    return [problem for problem in found if problem]
