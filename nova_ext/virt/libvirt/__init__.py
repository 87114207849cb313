"""The libvirt driver with accelerator attach/detach (see driver.py)."""
from nova_ext.virt.libvirt.driver import LibvirtAcceleratorDriver

__all__ = ['LibvirtAcceleratorDriver']
