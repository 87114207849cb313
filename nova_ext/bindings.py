"""Which accelerators the API has bound to an instance, as Nova's ARQs.

Placement only says how many units of a pool an instance holds; the API
binds concrete units to it (``PUT /instances/{uuid}/bindings``, from the
instance's allocation on the host's pools) and keeps that record, so the guest
gets the same devices on every spawn, reboot or rebuild, until the instance
leaves the host (``DELETE``). Units attached by REST
(``GET /accelerators?instance_uuid=``) go into the guest too. Nova's libvirt
driver already puts Cyborg's accelerator requests (ARQs) with a PCI attach
handle into the guest XML; both are turned into that shape so the same code
path applies.
"""
import typing

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc

from cyborg_placement import error_body
from nova_ext.accelerator import Accelerator

#: The state of an attachment that still holds the unit, but on its way out:
#: a guest built now goes without it.
_DETACHING = 'detaching'
#: An attachment's ``claim`` when the API claimed the unit (a REST attach);
#: a binding's is ``existing_allocation``.
_API_CLAIM = 'api'
#: The API's code for a pool that cannot bind as many units as allocated.
NOT_ENOUGH_UNITS = 'accelerator.bind.not_enough_units'
#: ... and for one that cannot where the guest's NUMA affinity allows.
NUMA_AFFINITY = 'accelerator.bind.numa_affinity'


class BindingError(Exception):
    """The API could not say, bind or release what an instance holds."""


class NotEnoughUnits(BindingError):
    """A pool of the host has fewer bindable units than the instance's
    allocation in Placement says: nothing was bound."""


class NumaAffinityUnmet(NotEnoughUnits):
    """A pool of the host has the units, but fewer where the guest's NUMA
    affinity policy allows (near its host NUMA nodes): nothing was bound.
    Another host may have them, as for :class:`NotEnoughUnits`."""


_ERRORS = {NOT_ENOUGH_UNITS: NotEnoughUnits, NUMA_AFFINITY: NumaAffinityUnmet}


def _call(adapter: ks_adapter.Adapter, method: str, url: str,
          expected: int, **kwargs) -> typing.Any:
    """The answer's JSON (None for a 204), or BindingError saying why not."""
    try:
        resp = adapter.request(url, method, raise_exc=False, **kwargs)
    except ks_exc.ClientException as ex:
        raise BindingError(f'accelerator API unreachable: {ex}') from ex
    if resp.status_code == expected:
        return resp.json() if resp.content else None
    detail, code = error_body.detail_and_code(resp)
    error = _ERRORS.get(code, BindingError)
    raise error(f'accelerator API answered {resp.status_code} to {method} '
                f'{url}: {detail}')


def attached_records(adapter: ks_adapter.Adapter,
                     instance_uuid: str) -> list[dict]:
    """``GET /accelerators?instance_uuid=``, less the bindings: the units
    attached to the instance by REST with an API claim, which it holds and
    keeps (the API says which it holds; detaching ones are left out).

    Bindings are left out because they are the binding calls' (:func:`bind`
    answers a host's): this list spans every host, and during a resize or
    cold migration the source keeps its bindings for a revert, which a guest
    on the destination must not get.
    """
    body = _call(adapter, 'GET', '/accelerators', 200,
                 params={'instance_uuid': instance_uuid})
    return [record for record in body['accelerator']
            if _kept(record.get('attachment') or {})]


def bind(adapter: ks_adapter.Adapter, instance_uuid: str, host: str,
         numa: dict | None = None) -> list[dict]:
    """``PUT /instances/{uuid}/bindings``: concrete units of ``host``'s pools
    for what the instance's Placement allocation holds there, bound now or
    earlier (the API follows the allocation, so asking again is safe).
    ``numa`` (the guest's host NUMA nodes, their sockets and the policy)
    makes the units it adds the nearest the policy allows.

    :raises NotEnoughUnits: a pool cannot give that many; nothing bound.
    :raises NumaAffinityUnmet: not where the policy allows; nothing bound.
    """
    body = {'host': host} if numa is None else {'host': host, 'numa': numa}
    return _call(adapter, 'PUT', f'/instances/{instance_uuid}/bindings', 200,
                 json=body)['bindings']


def bindings(adapter: ks_adapter.Adapter, instance_uuid: str) -> list[dict]:
    """``GET /instances/{uuid}/bindings``: the units bound to the instance,
    on every host."""
    return _call(adapter, 'GET', f'/instances/{instance_uuid}/bindings',
                 200)['bindings']


def release(adapter: ks_adapter.Adapter, instance_uuid: str,
            host: str) -> None:
    """``DELETE /instances/{uuid}/bindings?host=``: the instance's units on
    ``host`` go back to their pools (nothing bound there is not an error)."""
    _call(adapter, 'DELETE', f'/instances/{instance_uuid}/bindings', 204,
          params={'host': host})


def _kept(attachment: dict) -> bool:
    return (bool(attachment.get('holds_accelerator'))
            and attachment.get('state') != _DETACHING
            and attachment.get('claim') == _API_CLAIM)


#: Nova's attach handle types.
PCI = 'PCI'
MDEV = 'MDEV'
#: Ours, in an ARQ made of a binding: False for a PCI function libvirt must
#: leave on its driver (a vendor-VFIO vGPU's VF). Nova reads no such key.
MANAGED = 'managed'


def to_arq(accel: typing.Any) -> dict:
    """The ARQ fields Nova's ``_get_guest_config`` reads for a device: a PCI
    function (and, ours, whether libvirt manages it), or an mdev as the API
    hands stock Nova an mdev vGPU unit's ARQ."""
    accel = Accelerator.coerce(accel)
    info = accel.pci_address.hex_fields()
    if accel.is_mdev:
        return {'uuid': accel.uuid, 'attach_handle_type': MDEV,
                'attach_handle_uuid': accel.device,
                'attach_handle_info': info}
    return {'uuid': accel.uuid, 'attach_handle_type': PCI,
            'attach_handle_info': info, MANAGED: accel.managed}


def managed(arq: dict) -> bool:
    """Whether a PCI ARQ's hostdev is managed (all of Nova's are)."""
    return arq.get(MANAGED, True)


def device_of(arq: dict) -> tuple:
    """What an ARQ puts into the guest, to add each device once: an mdev
    by its UUID, a PCI function by its address."""
    if arq.get('attach_handle_type') == MDEV:
        return MDEV, arq['attach_handle_uuid'].lower()
    return PCI, tuple(sorted(
        (k, v) for k, v in arq['attach_handle_info'].items()
        if k != 'asked_type'))
