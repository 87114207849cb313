"""Nova virt-driver extension performing acc-attach / acc-detach on instances."""
