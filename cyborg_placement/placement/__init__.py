"""Placement know-how shared by the agent and the API: client, naming, sync."""
