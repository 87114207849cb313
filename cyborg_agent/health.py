"""Which units are healthy, judged every publication cycle.

A unit turns unhealthy at once, on any of: a problem its function (or its
SR-IOV PF, which takes its VFs with it) shows now (config space or driver
gone, a VF the kernel lost, a plugin's error state such as nvidia-smi's
pending page retirement), or a PCI AER fatal/non-fatal counter that grew
since the last cycle. It comes back only after ``[agent]
health_recovery_cycles`` cycles in a row without any, so a flapping device
is not offered between two errors.

The tracker's memory (counters, streaks, since when) is saved in
``[agent] state_dir`` (a :class:`saved_state.StateFile`) so a restarted
agent neither forgets an unhealthy unit nor mistakes the counters it finds
for new errors.
"""
import dataclasses
import datetime

from oslo_log import log as logging

from cyborg_agent import saved_state
from cyborg_agent.discovery import inventory
from cyborg_agent.discovery.sysfs import PciRecord
from cyborg_placement.vocabulary import Unit

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Observation:
    """What one cycle saw of a unit: problems now, and AER totals keyed
    ``<function address> <counter file>`` (its PF's included)."""

    problems: list[str] = dataclasses.field(default_factory=list)
    counters: dict[str, int] = dataclasses.field(default_factory=dict)


def _own(record: PciRecord, plugin_problems: dict[str, list[str]]
         ) -> Observation:
    return Observation(
        problems=list(record.problems) + plugin_problems.get(
            record.address, []),
        counters={f'{record.address} {name}': value
                  for name, value in record.aer.items()})


def observe(devices: list[inventory.Device],
            plugin_problems: dict[str, list[str]] | None = None
            ) -> dict[str, Observation]:
    """Unit address -> what this cycle saw of it and of its PF."""
    plugin_problems = plugin_problems or {}
    records = {device.record.address: device.record for device in devices}
    seen = {}
    for device in devices:
        for unit in device.units:
            found = _own(records[unit.address], plugin_problems)
            pf = records.get(unit.physfn) if unit.physfn else None
            if pf is not None:
                parent = _own(pf, plugin_problems)
                found.problems += [f'PF {pf.address}: {problem}'
                                   for problem in parent.problems]
                found.counters.update(parent.counters)
            seen[unit.address] = found
    return seen


@dataclasses.dataclass
class Health:
    """A unit's judged health; ``healthy_cycles`` counts the quiet cycles
    of an unhealthy unit towards its recovery, ``counters`` are the AER
    totals growth is measured from."""

    healthy: bool = True
    reason: str | None = None
    since: str | None = None
    healthy_cycles: int = 0
    counters: dict[str, int] = dataclasses.field(default_factory=dict)


def _growth(before: dict[str, int], now: dict[str, int]) -> list[str]:
    return [f'AER {key.split()[1]} of {key.split()[0]} grew from '
            f'{before[key]} to {value}'
            for key, value in sorted(now.items())
            if key in before and value > before[key]]


class Tracker:
    """Health per unit address across cycles."""

    def __init__(self, recovery_cycles: int,
                 saved: saved_state.StateFile | None = None) -> None:
        self.recovery_cycles = recovery_cycles
        self._saved = saved
        self.units: dict[str, Health] = self._load()

    def _judge(self, address: str, seen: Observation, now: str) -> Health:
        before = self.units.get(address)
        reasons = seen.problems + (_growth(before.counters, seen.counters)
                                   if before else [])
        if reasons:
            since = before.since if before and not before.healthy else now
            if before is None or before.healthy:
                LOG.warning('Unit %s is unhealthy: %s', address,
                            '; '.join(reasons))
            return Health(False, '; '.join(reasons)[:255], since, 0,
                          seen.counters)
        if before is None or before.healthy:
            return Health(True, None, before.since if before else now, 0,
                          seen.counters)
        streak = before.healthy_cycles + 1
        if streak >= self.recovery_cycles:
            LOG.info('Unit %s is healthy again after %d healthy cycle(s) '
                     '(was: %s)', address, streak, before.reason)
            return Health(True, None, now, 0, seen.counters)
        return Health(False, before.reason, before.since, streak,
                      seen.counters)

    def update(self, observations: dict[str, Observation]
               ) -> dict[str, Health]:
        """Judge this cycle; units no longer seen are forgotten."""
        now = datetime.datetime.now(datetime.UTC).isoformat()
        judged = {address: self._judge(address, seen, now)
                  for address, seen in observations.items()}
        if judged != self.units:
            self.units = judged
            if self._saved is not None:
                self._saved.write({a: dataclasses.asdict(h)
                                   for a, h in judged.items()})
        return judged

    def apply(self, units: list[Unit]) -> list[Unit]:
        """The units with the health last judged."""
        return [dataclasses.replace(
            unit, healthy=self.units[unit.address].healthy,
            health_reason=self.units[unit.address].reason)
            if unit.address in self.units else unit for unit in units]

    def _load(self) -> dict[str, Health]:
        saved = self._saved.read() if self._saved is not None else None
        if saved is None:
            return {}
        try:
            return {address: Health(**fields)
                    for address, fields in saved.items()}
        except TypeError as exc:
            self._saved.ignore(exc)
            return {}
