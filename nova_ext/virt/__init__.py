"""Nova virt drivers of this project."""
