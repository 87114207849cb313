"""Accelerator discovery: sysfs -> PCI functions -> classified devices -> units."""
