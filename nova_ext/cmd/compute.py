"""``nova-compute-accelerator``: nova-compute that can load our driver.

Nova 34 imports ``compute_driver`` only as ``nova.virt.<compute_driver>``, so a
driver outside Nova's tree needs a name under ``nova.virt``. This command adds
one, ``nova.virt.accelerator_libvirt``, as an import alias of
:mod:`nova_ext.virt.libvirt`, then runs Nova's own nova-compute ``main``.
The alias resolves lazily, so Nova still sets up its concurrency mode before
any driver code is imported.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys

ALIAS = 'nova.virt.accelerator_libvirt'
TARGET = 'nova_ext.virt.libvirt'
#: The value of ``[DEFAULT] compute_driver`` in nova.conf.
COMPUTE_DRIVER = 'accelerator_libvirt.LibvirtAcceleratorDriver'


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers for ALIAS with a module re-exporting TARGET's public names."""

    def find_spec(self, fullname, path, target=None):
        if fullname != ALIAS:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        target = importlib.import_module(TARGET)
        for name in target.__all__:
            setattr(module, name, getattr(target, name))


def install_driver_alias() -> None:
    """Make ``nova.virt.accelerator_libvirt`` importable; idempotent."""
    if not any(isinstance(finder, _AliasFinder) for finder in sys.meta_path):
        sys.meta_path.append(_AliasFinder())


def main() -> None:
    install_driver_alias()
    from nova.cmd import compute
    compute.main()
