"""Publication of the host's units into Placement: pools, the desired
provider tree, and the sync that sends only the differences."""
