"""oslo.policy defaults, one module per resource (``oslo.policy.policies``)."""
import itertools

from cyborg_placement.api.policies import accelerator_requests
from cyborg_placement.api.policies import accelerators
from cyborg_placement.api.policies import attachments
from cyborg_placement.api.policies import attributes
from cyborg_placement.api.policies import base
from cyborg_placement.api.policies import device_profiles
from cyborg_placement.api.policies import devices
from cyborg_placement.api.policies import disabled
from cyborg_placement.api.policies import hosts
from cyborg_placement.api.policies import instances


def list_rules() -> list:
    return list(itertools.chain(base.list_rules(), accelerators.list_rules(),
                                hosts.list_rules(), attachments.list_rules(),
                                instances.list_rules(),
                                disabled.list_rules(),
                                device_profiles.list_rules(),
                                accelerator_requests.list_rules(),
                                devices.list_rules(),
                                attributes.list_rules()))
