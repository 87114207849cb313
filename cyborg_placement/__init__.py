"""Accelerators in OpenStack Placement: the API service and shared know-how."""
