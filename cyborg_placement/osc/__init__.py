"""The ``openstack accelerator ...`` commands: an OpenStackClient plugin."""
