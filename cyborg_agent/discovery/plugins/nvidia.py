"""NVIDIA GPU facts and error states from ``nvidia-smi``.

sysfs knows a GPU's ids but not its memory size, its UUID (what NVIDIA tools and
MIG use to name it) or whether MIG is on. ``nvidia-smi`` knows, when the driver
is installed; hosts without it simply get no such facts.

Health: ``nvidia-smi -q -x`` (its XML report) says when a GPU must not be
given to anyone new: retired pages or remapped rows pending (they take
effect at the next reset), a row remapping failure, volatile uncorrectable
(double-bit) ECC errors, or a recovery action (reset, reboot, drain) the
driver asks for.
"""
import shutil
import subprocess
from xml.etree import ElementTree

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


HEALTH_QUERY = ('-q', '-x')

#: Yes/No fields of a GPU in the XML report whose "Yes" means: do not use.
_YES_MEANS_UNHEALTHY = {
    'retired_pages/pending_retirement': 'retired pages pending',
    'retired_pages/pending_blacklist': 'retired pages pending',
    'remapped_rows/remapped_row_pending': 'remapped rows pending',
    'remapped_rows/remapped_row_failure': 'row remapping failed',
    'gpu_reset_status/reset_required': 'GPU requires reset',
    'gpu_reset_status/drain_and_reset_recommended':
        'drain and reset recommended',
}
#: Volatile uncorrectable ECC counts, by driver generation.
_VOLATILE_UNCORRECTABLE = (
    'ecc_errors/volatile/double_bit/total',
    'ecc_errors/volatile/dram_uncorrectable',
    'ecc_errors/volatile/sram_uncorrectable',
    'ecc_errors/volatile/sram_uncorrectable_parity',
    'ecc_errors/volatile/sram_uncorrectable_secded',
)
#: ``gpu_recovery_action`` values that ask for nothing.
_NO_ACTION = ('None', 'N/A', '')


def _gpu_problems(gpu: ElementTree.Element) -> list[str]:
    found = []
    for path, problem in _YES_MEANS_UNHEALTHY.items():
        if (gpu.findtext(path) or '').strip() == 'Yes' and (
                problem not in found):
            found.append(problem)
    for path in _VOLATILE_UNCORRECTABLE:
        count = (gpu.findtext(path) or '').strip()
        if count.isdigit() and int(count) > 0:
            found.append(f'{count} volatile uncorrectable (double-bit) ECC '
                         f'error(s) ({path.rsplit("/", 1)[-1]})')
    action = (gpu.findtext('gpu_recovery_action') or '').strip()
    if action not in _NO_ACTION:
        found.append(f'recovery action required: {action}')
    return found


def parse_health(xml: str) -> dict[str, list[str]]:
    """The XML report -> {PCI address: problems} for GPUs with problems.

    Raises ``ValueError`` for output that is not the report.
    """
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ValueError(f'not XML: {exc}') from None
    if root.tag != 'nvidia_smi_log':
        raise ValueError(f'unexpected XML root <{root.tag}>')
    found = {}
    for gpu in root.iter('gpu'):
        address = pci_address(gpu.findtext('pci/pci_bus_id')
                              or gpu.get('id') or '')
        problems = _gpu_problems(gpu)
        if address and problems:
            found[address] = [f'nvidia-smi: {p}' for p in problems]
    return found


class NvidiaSmiEnricher(plugins.Enricher):
    """Adds ``gpu_uuid``, ``memory_total_mib`` and ``mig_mode`` to NVIDIA
    GPUs, and reports their error states."""

    def _query(self, executable: str, arguments=QUERY) -> str | None:
        timeout = self.conf.agent.enrichment_timeout
        try:
            result = subprocess.run(
                [executable, *arguments], capture_output=True, text=True,
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

    def health(self, records: list[PciRecord]) -> dict[str, list[str]]:
        """Error states of the GPUs among ``records``.

        Without nvidia-smi, or when it fails, there are no such signals
        (logged): sysfs signals still apply.
        """
        executable = shutil.which(EXECUTABLE)
        if executable is None or not any(r.vendor_id == '10de'
                                         for r in records):
            return {}
        output = self._query(executable, HEALTH_QUERY)
        if output is None:
            return {}
        try:
            found = parse_health(output)
        except ValueError as exc:
            LOG.warning('%s -q -x printed no usable report (%s); GPU error '
                        'states are left out', executable, exc)
            return {}
        present = {record.address for record in records}
        return {address: problems for address, problems in found.items()
                if address in present}
