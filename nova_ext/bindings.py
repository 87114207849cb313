"""Which accelerators the API has bound to an instance, as Nova's ARQs.

Placement only says how many units of a pool an instance holds; the API
records which concrete unit that is (the binding), so the guest gets the same
device on every spawn, reboot or rebuild. Nova's libvirt driver already puts
Cyborg's accelerator requests (ARQs) with a PCI attach handle into the guest
XML; bindings are turned into that shape so the same code path applies.
"""
import typing

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc

from cyborg_placement import error_body
from nova_ext.accelerator import Accelerator

#: The state of an attachment that still holds the unit, but on its way out:
#: a guest built now goes without it.
_DETACHING = 'detaching'


class BindingLookupError(Exception):
    """The API could not say which accelerators an instance holds."""


def bound_records(adapter: ks_adapter.Adapter,
                  instance_uuid: str) -> list[dict]:
    """``GET /accelerators?instance_uuid=``: the units the instance holds
    and keeps (the API says which it holds; detaching ones are left out)."""
    try:
        resp = adapter.get('/accelerators',
                           params={'instance_uuid': instance_uuid},
                           raise_exc=False)
    except ks_exc.ClientException as ex:
        raise BindingLookupError(f'accelerator API unreachable: {ex}') from ex
    if resp.status_code != 200:
        detail, _code = error_body.detail_and_code(resp)
        raise BindingLookupError(
            f'accelerator API answered {resp.status_code} to '
            f'GET /accelerators?instance_uuid={instance_uuid}: {detail}')
    return [record for record in resp.json()['accelerator']
            if _kept(record.get('attachment') or {})]


def _kept(attachment: dict) -> bool:
    return (bool(attachment.get('holds_accelerator'))
            and attachment.get('state') != _DETACHING)


def to_arq(accel: typing.Any) -> dict:
    """The ARQ fields Nova's ``_get_guest_config`` reads for a PCI device."""
    accel = Accelerator.coerce(accel)
    return {'uuid': accel.uuid,
            'attach_handle_type': 'PCI',
            'attach_handle_info': accel.pci_address.hex_fields()}
