"""NVIDIA GPU facts from ``nvidia-smi``: memory, UUID and MIG mode.

sysfs knows a GPU's ids but not its memory size, its UUID (what NVIDIA tools and
MIG use to name it) or whether MIG is on. ``nvidia-smi`` knows, when the driver
is installed; hosts without it simply get no such facts.
"""
import shutil
import subprocess

from oslo_log import log as logging

from cyborg_agent.discovery import plugins
from cyborg_agent.discovery import sysfs
from cyborg_agent.discovery.sysfs import PciRecord

LOG = logging.getLogger(__name__)

EXECUTABLE = 'nvidia-smi'
QUERY = ('--query-gpu=pci.bus_id,uuid,memory.total,mig.mode.current',
         '--format=csv,noheader,nounits')


def pci_address(bus_id: str) -> str | None:
    """``00000000:18:00.0`` (nvidia-smi) -> ``0000:18:00.0`` (sysfs)."""
    try:
        domain, bus, devfn = bus_id.strip().lower().split(':')
        address = f'{int(domain, 16):04x}:{bus}:{devfn}'
    except ValueError:
        return None
    return address if sysfs.ADDRESS.match(address) else None


def _optional(value: str) -> str | None:
    """nvidia-smi writes ``[N/A]`` or ``[Not Supported]`` for unknown values."""
    return None if value.startswith('[') or not value else value


def parse(output: str) -> tuple[dict[str, dict], list[str]]:
    """CSV lines -> {address: facts}, plus the lines that made no sense."""
    facts, bad = {}, []
    for line in output.splitlines():
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(',')]
        address = pci_address(fields[0]) if len(fields) == 4 else None
        memory = _optional(fields[2]) if address else None
        if address is None or (memory is not None and not memory.isdigit()):
            bad.append(line)
            continue
        facts[address] = {
            'gpu_uuid': _optional(fields[1]),
            'memory_total_mib': int(memory) if memory else None,
            'mig_mode': _optional(fields[3]),
        }
    return facts, bad


class NvidiaSmiEnricher(plugins.Enricher):
    """Adds ``gpu_uuid``, ``memory_total_mib`` and ``mig_mode`` to NVIDIA GPUs."""

    def _query(self, executable: str) -> str | None:
        timeout = self.conf.agent.enrichment_timeout
        try:
            result = subprocess.run(
                [executable, *QUERY], capture_output=True, text=True,
                timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            LOG.warning('%s did not answer within %s s; GPU facts are left '
                        'out', executable, timeout)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            LOG.warning('%s could not be run (%s); GPU facts are left out',
                        executable, exc)
            return None
        if result.returncode != 0:
            LOG.warning('%s exited with status %d (%s); GPU facts are left out',
                        executable, result.returncode,
                        result.stderr.strip() or result.stdout.strip())
            return None
        return result.stdout

    def enrich(self, records: list[PciRecord]) -> None:
        executable = shutil.which(EXECUTABLE)
        if executable is None:
            LOG.debug('%s is not on PATH: no NVIDIA facts', EXECUTABLE)
            return
        output = self._query(executable)
        if output is None:
            return
        facts, bad = parse(output)
        if bad:
            LOG.warning('%s printed lines that are not GPU records, ignored: %s',
                        executable, '; '.join(bad))
        for record in records:
            if record.address in facts:
                record.facts.update(facts[record.address])
