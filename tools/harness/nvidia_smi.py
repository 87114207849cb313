"""An ``nvidia-smi`` executable for hosts without NVIDIA's driver.

It answers ``-q -x`` with the XML report nvidia-smi prints (the element
names and layout of its ``nvsmi_device`` DTD, as an H100 with row remapping
or an older GPU with page retirement prints them), for GPUs in the error
states a test chooses, the discovery plugin's CSV query with their ids,
and fails on any other arguments as the real tool does. The report is a
file beside the script, so a test changes the GPUs' states between two
agent cycles by writing it again.
"""
import dataclasses
import pathlib
import stat

SCRIPT = """#!/bin/sh
if [ "$1" = "-q" ] && [ "$2" = "-x" ] && [ $# -eq 2 ]; then
    exec cat "$(dirname "$0")/nvidia-smi-report.xml"
fi
if [ "$1" = "--query-gpu=pci.bus_id,uuid,memory.total,mig.mode.current" ] \\
   && [ "$2" = "--format=csv,noheader,nounits" ] && [ $# -eq 2 ]; then
    exec cat "$(dirname "$0")/nvidia-smi-query.csv"
fi
echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help." >&2
exit 2
"""


@dataclasses.dataclass
class GpuState:
    """One GPU's error state; the defaults are a healthy GPU."""

    address: str
    uuid: str = 'GPU-5c7d3e2a-9f1b-4c6e-8a3d-2b7f1e9c4a60'
    product: str = 'NVIDIA H100 80GB HBM3'
    dram_uncorrectable: int = 0
    remapped_row_pending: bool = False
    remapped_row_failure: bool = False
    #: Page retirement (pre-Ampere GPUs); None: N/A, as on an H100.
    pending_retirement: bool | None = None
    recovery_action: str = 'None'


def _yes(flag: bool | None) -> str:
    return 'N/A' if flag is None else ('Yes' if flag else 'No')


def _bus_id(address: str) -> str:
    """``0000:18:00.0`` -> ``00000000:18:00.0``, as nvidia-smi prints it."""
    return f'0000{address}'.upper()


def _gpu(state: GpuState) -> str:
    domain, bus, devfn = state.address.split(':')
    bus_id = _bus_id(state.address)
    return f"""	<gpu id="{bus_id}">
		<product_name>{state.product}</product_name>
		<uuid>{state.uuid}</uuid>
		<pci>
			<pci_bus>{bus.upper()}</pci_bus>
			<pci_device>{devfn.split('.')[0]}</pci_device>
			<pci_domain>{domain}</pci_domain>
			<pci_device_id>233010DE</pci_device_id>
			<pci_bus_id>{bus_id}</pci_bus_id>
		</pci>
		<ecc_mode>
			<current_ecc>Enabled</current_ecc>
			<pending_ecc>Enabled</pending_ecc>
		</ecc_mode>
		<ecc_errors>
			<volatile>
				<sram_correctable>0</sram_correctable>
				<sram_uncorrectable_parity>0</sram_uncorrectable_parity>
				<sram_uncorrectable_secded>0</sram_uncorrectable_secded>
				<dram_correctable>0</dram_correctable>
				<dram_uncorrectable>{state.dram_uncorrectable}</dram_uncorrectable>
			</volatile>
			<aggregate>
				<sram_correctable>0</sram_correctable>
				<sram_uncorrectable_parity>0</sram_uncorrectable_parity>
				<sram_uncorrectable_secded>0</sram_uncorrectable_secded>
				<dram_correctable>0</dram_correctable>
				<dram_uncorrectable>{state.dram_uncorrectable}</dram_uncorrectable>
				<sram_threshold_exceeded>No</sram_threshold_exceeded>
			</aggregate>
		</ecc_errors>
		<retired_pages>
			<multiple_single_bit_retirement>
				<retired_count>N/A</retired_count>
				<retired_pagelist>N/A</retired_pagelist>
			</multiple_single_bit_retirement>
			<double_bit_retirement>
				<retired_count>N/A</retired_count>
				<retired_pagelist>N/A</retired_pagelist>
			</double_bit_retirement>
			<pending_blacklist>{_yes(state.pending_retirement)}</pending_blacklist>
			<pending_retirement>{_yes(state.pending_retirement)}</pending_retirement>
		</retired_pages>
		<remapped_rows>
			<remapped_row_corr>0</remapped_row_corr>
			<remapped_row_unc>{state.dram_uncorrectable}</remapped_row_unc>
			<remapped_row_pending>{_yes(state.remapped_row_pending)}</remapped_row_pending>
			<remapped_row_failure>{_yes(state.remapped_row_failure)}</remapped_row_failure>
		</remapped_rows>
		<gpu_recovery_action>{state.recovery_action}</gpu_recovery_action>
	</gpu>
"""


def report(gpus: list[GpuState]) -> str:
    """``nvidia-smi -q -x`` of a host with these GPUs."""
    return ('<?xml version="1.0" ?>\n'
            '<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">\n'
            '<nvidia_smi_log>\n'
            '\t<timestamp>Tue Dec  1 06:00:00 2026</timestamp>\n'
            '\t<driver_version>550.90.07</driver_version>\n'
            '\t<cuda_version>12.4</cuda_version>\n'
            f'\t<attached_gpus>{len(gpus)}</attached_gpus>\n'
            + ''.join(_gpu(gpu) for gpu in gpus)
            + '</nvidia_smi_log>\n')


def install(directory: pathlib.Path, gpus: list[GpuState]) -> pathlib.Path:
    """Put ``nvidia-smi`` into ``directory`` reporting ``gpus``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / 'nvidia-smi'
    path.write_text(SCRIPT)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP
               | stat.S_IXOTH)
    set_states(directory, gpus)
    return path


def set_states(directory: pathlib.Path, gpus: list[GpuState]) -> None:
    """What the next ``nvidia-smi -q -x`` reports."""
    (directory / 'nvidia-smi-report.xml').write_text(report(gpus))
    (directory / 'nvidia-smi-query.csv').write_text(''.join(
        f'{_bus_id(gpu.address)}, {gpu.uuid}, 81559, Disabled\n'
        for gpu in gpus))
