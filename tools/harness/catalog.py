"""Real accelerator and bystander PCI functions, by their real ids.

Used to build sysfs trees for tests, benchmarks and the demo's sample host. Each
factory returns a :class:`PciFunction` as the kernel shows that product.
"""
import dataclasses

from tools.harness.sysfs_tree import MdevType
from tools.harness.sysfs_tree import PciFunction
from tools.harness.sysfs_tree import VgpuType

#: Two vGPU types of an H200 (vGPU 17+, vendor-specific VFIO), with the ids
#: the vGPU manager lists them under and NVIDIA's "maximum vGPUs per GPU":
#: the MIG-backed 1g.18gb slice (7 per GPU) and the whole card.
H200_1_18C = VgpuType('1414', 'NVIDIA H200X-1-18C', 7)
H200_141C = VgpuType('1428', 'NVIDIA H200X-141C', 1)
#: Two time-sliced mdev types of an A100 PCIe 40GB (one per VF; 10 and 8
#: per GPU by frame buffer).
A100_4C = MdevType('nvidia-468', 1, 'vfio-pci', 'GRID A100-4C', 10)
A100_5C = MdevType('nvidia-469', 1, 'vfio-pci', 'GRID A100-5C', 8)


def _vf_address(pf_address: str, index: int) -> str:
    """VFs follow the PF on the same bus: device = 1 + index // 8."""
    domain_bus, devfn = pf_address.rsplit(':', 1)
    slot = int(devfn.split('.')[0], 16) + 1 + index // 8
    return f'{domain_bus}:{slot:02x}.{index % 8}'


def nvidia_h100_sxm(address: str, numa_node: int = 0,
                    iommu_group: int | None = None) -> PciFunction:
    return PciFunction(address, '10de', '2330', '030200', '10de', '16c1',
                       'a1', numa_node, 'nvidia', iommu_group)


def nvidia_h200_vgpu(address: str, numa_node: int = 0, vfs: int = 16,
                     types: tuple[VgpuType, ...] = (H200_1_18C, H200_141C)
                     ) -> PciFunction:
    """An H200 SXM 141GB (10de:2335, subsystem 10de:18bf) whose vGPU
    manager enabled its SR-IOV VFs (``sriov-manage -e``): the PF stays on
    ``nvidia``, and so does each VF, with ``nvidia/creatable_vgpu_types``
    and ``current_vgpu_type``."""
    pf = PciFunction(address, '10de', '2335', '030200', '10de', '18bf',
                     'a1', numa_node, 'nvidia', sriov_totalvfs=vfs)
    pf.vfs = [PciFunction(_vf_address(address, i), '10de', '2335', '030200',
                          '10de', '18bf', 'a1', numa_node, 'nvidia',
                          vgpu_types=list(types))
              for i in range(vfs)]
    return pf


def nvidia_a100_mdev(address: str, numa_node: int = 0, vfs: int = 16,
                     types: tuple[MdevType, ...] = (A100_4C, A100_5C)
                     ) -> PciFunction:
    """An A100 PCIe 40GB (10de:20f1) in vGPU mode: SR-IOV VFs on
    ``nvidia``, each the parent of one mdev of the types it lists."""
    pf = PciFunction(address, '10de', '20f1', '030200', '10de', '145f',
                     'a1', numa_node, 'nvidia', sriov_totalvfs=vfs)
    pf.vfs = [PciFunction(_vf_address(address, i), '10de', '20f1', '030200',
                          '10de', '145f', 'a1', numa_node, 'nvidia',
                          mdev_types=[dataclasses.replace(t) for t in types])
              for i in range(vfs)]
    return pf


def nvidia_t4(address: str, numa_node: int = 0,
              iommu_group: int | None = None) -> PciFunction:
    return PciFunction(
        address, '10de', '1eb8', '030200', '10de', '12a2', 'a1', numa_node,
        'nvidia', iommu_group,
        mdev_types=[MdevType('nvidia-222', 16, 'vfio-pci', 'GRID T4-1B'),
                    MdevType('nvidia-230', 1, 'vfio-pci', 'GRID T4-16Q')])


def aspeed_bmc_vga(address: str = '0000:03:00.0') -> PciFunction:
    return PciFunction(address, '1a03', '2000', '030000', '1a03', '2000',
                       '52', -1, 'ast')


def intel_qat_4xxx(address: str, numa_node: int = 0, vfs: int = 16,
                   iommu_group: int | None = None) -> PciFunction:
    pf = PciFunction(address, '8086', '4940', '0b4000', '8086', '0000',
                     '40', numa_node, '4xxx', iommu_group, sriov_totalvfs=16)
    pf.vfs = [PciFunction(_vf_address(address, i), '8086', '4941', '0b4000',
                          '8086', '0000', '40', numa_node, '4xxxvf')
              for i in range(vfs)]
    return pf


def intel_pac_arria10(address: str, numa_node: int = 0) -> PciFunction:
    return PciFunction(address, '8086', '09c4', '120000', '8086', '0000',
                       '01', numa_node, 'dfl-pci')


def habana_gaudi2(address: str, numa_node: int = 0) -> PciFunction:
    return PciFunction(address, '1da3', '1020', '120000', '1da3', '1020',
                       '01', numa_node, 'habanalabs')


def mellanox_connectx6_dx(address: str, numa_node: int = 0) -> PciFunction:
    return PciFunction(address, '15b3', '101d', '020000', '15b3', '0040',
                       '00', numa_node, 'mlx5_core', sriov_totalvfs=8)


def virtio_net(address: str) -> PciFunction:
    return PciFunction(address, '1af4', '1041', '020000', '1af4', '1100',
                       '01', -1, 'virtio-pci')


def samsung_nvme(address: str, numa_node: int = 0) -> PciFunction:
    return PciFunction(address, '144d', 'a808', '010802', '144d', 'a801',
                       '00', numa_node, 'nvme')


def host_bridge(address: str = '0000:00:00.0') -> PciFunction:
    return PciFunction(address, '8086', '1237', '060000', '1af4', '1100', '02')


def gpu_server(gpus: int = 8, qat_pfs: int = 2, qat_vfs: int = 16
               ) -> list[PciFunction]:
    """A typical accelerator host: H100s and QATs split over two NUMA nodes."""
    functions = [host_bridge(), aspeed_bmc_vga()]
    for index in range(gpus):
        numa = index * 2 // max(gpus, 1)
        functions.append(nvidia_h100_sxm(
            f'0000:{0x18 + index * 0x10:02x}:00.0', numa, 100 + index))
    for index in range(qat_pfs):
        functions.append(intel_qat_4xxx(
            f'0000:{0x6b + index * 0x10 % 0x80:02x}:00.0', index % 2,
            qat_vfs))
    functions.append(samsung_nvme('0000:c1:00.0', 1))
    return functions
