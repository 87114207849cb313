"""Accelerators published into OpenStack Placement: the API service and shared know-how."""
