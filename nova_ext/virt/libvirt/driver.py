"""Nova's libvirt driver, plus acc-attach / acc-detach of PCI accelerators.

The hostdev itself (its XML, finding it in a domain, persistent or live) is
:mod:`nova_ext.libvirt_hostdev`'s, the module the agent's reconciler uses for
REST attaches, so both paths write and remove the same device. What the driver
adds is Nova's way of waiting for a running guest to let go: a live detach
goes through Nova's ``_detach_with_retry`` (device-removed events, retries,
timeouts from ``[libvirt] device_detach_*``). The accelerators the API bound
to an instance enter the guest XML through Nova's own ``accel_info`` path,
the one Cyborg's ARQs take. Every guest XML Nova builds (spawn, hard reboot,
power on, rebuild, unshelve, evacuate, rescue, resize and migration on the
destination, revert on the source) passes through ``_get_guest_config``, so
that is the one place units are bound (``PUT /instances/{uuid}/bindings``)
and added. Where the instance leaves the host (``cleanup``, and the source of
a confirmed migration) they are released; an instance holding accelerators
is not live-migrated.
"""
import functools
import typing

import libvirt
from nova import exception
from nova.compute import task_states
import nova.conf
from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import guest as libvirt_guest
from oslo_log import log as logging

from nova_ext import accelerator
from nova_ext import bindings
from nova_ext import conf as ext_conf
from nova_ext import libvirt_hostdev
from nova_ext import vgpu
from nova_ext.virt.libvirt import numa_affinity

CONF = nova.conf.CONF
LOG = logging.getLogger(__name__)

ext_conf.register_opts(CONF)

_HostdevPCI = vconfig.LibvirtConfigGuestHostdevPCI
_HostdevMDEV = vconfig.LibvirtConfigGuestHostdevMDEV


class LibvirtAcceleratorDriver(libvirt_driver.LibvirtDriver):
    """``[DEFAULT] compute_driver = accelerator_libvirt.LibvirtAcceleratorDriver``
    (see docs/nova-ext.md for why the name is relative to ``nova.virt``)."""

    def __init__(self, virtapi, read_only: bool = False) -> None:
        super().__init__(virtapi, read_only)
        self._accelerator_api = ext_conf.load_adapter(CONF)
        #: The agent command that makes this host's vGPUs, read with the
        #: rest of this service's [accelerator_api] (one per compute
        #: service, as its API adapter is).
        self._vgpu_command: list[str] = CONF.accelerator_api.vgpu_command
        #: Instances whose destroy() now is a hard reboot's.
        self._guest_stays: set[str] = set()
        if self._accelerator_api is None:
            LOG.warning('[accelerator_api] has no auth_type: guests get no '
                        'accelerators bound through the accelerator API.')

    def attach_accelerator(self, context, instance, accel: typing.Any) -> bool:
        """Put the unit into the guest's definition, and live if it runs.

        :returns: False when it was there already.
        :raises HostdevError: no domain, unit held by another guest, or
            libvirt refused (its reason and code kept); nothing changed.
        """
        accel = accelerator.Accelerator.coerce(accel)
        changed = libvirt_hostdev.attach(self._host.get_connection(),
                                         instance.uuid, accel)
        if changed:
            LOG.info('Attached accelerator %s', accel.pci_address,
                     instance=instance)
        return changed

    def detach_accelerator(self, context, instance, accel: typing.Any) -> bool:
        """Take the unit out of the definition and, waiting for the guest's
        device-removed event with Nova's retries, out of the running guest.

        :returns: False when it was not there.
        :raises HostdevError: no domain, libvirt refused, or the guest did
            not release the device.
        """
        address = accelerator.Accelerator.coerce(accel).pci_address
        changed = libvirt_hostdev.detach(
            self._host.get_connection(), instance.uuid, accel,
            detach_live=functools.partial(self._nova_detach, instance.uuid))
        if changed:
            LOG.info('Detached accelerator %s', address, instance=instance)
        return changed

    def _nova_detach(self, instance_uuid: str, domain: libvirt.virDomain,
                     accel: accelerator.Accelerator) -> None:
        """Nova's detach, for the live leg :mod:`libvirt_hostdev` leaves to
        its caller: it waits for libvirt's device-removed event (matched by
        the alias the live element carries), fails at once on a
        removal-failed event, and retries as ``[libvirt]
        device_detach_attempts`` and ``device_detach_timeout`` say. The
        device is the one :func:`libvirt_hostdev.find_hostdev` finds."""

        def get_device_conf(from_persistent_config=False):
            xml = libvirt_hostdev.find_hostdev(domain, accel.device,
                                               from_persistent_config)
            if xml is None:
                return None
            dev = _HostdevMDEV() if accel.is_mdev else _HostdevPCI()
            dev.parse_str(xml)
            return dev

        try:
            self._detach_with_retry(libvirt_guest.Guest(domain),
                                    instance_uuid, get_device_conf,
                                    str(accel.device))
        except exception.DeviceNotFound:
            return  # the guest let go meanwhile
        except exception.DeviceDetachFailed as ex:
            raise accelerator.HostdevError(
                accelerator.DETACH_FAILED, str(ex)) from ex

    def _get_guest_config(self, instance, network_info, image_meta,
                          disk_info, rescue=None, block_device_info=None,
                          context=None, mdevs=None, accel_info=None,
                          share_info=None, old_guest=None):
        accel_info = self._with_bound_accelerators(instance, image_meta,
                                                   accel_info)
        # Nova adds an MDEV ARQ's mdev from ``mdevs`` only (spawn fills it
        # from Nova's own ARQs): ours join them.
        mdevs = list(mdevs or [])
        mdevs += [arq['attach_handle_uuid'] for arq in accel_info
                  if arq['attach_handle_type'] == bindings.MDEV
                  and arq['attach_handle_uuid'] not in mdevs]
        return super()._get_guest_config(
            instance, network_info, image_meta, disk_info, rescue,
            block_device_info, context, mdevs, accel_info, share_info,
            old_guest)

    def _with_bound_accelerators(self, instance, image_meta,
                                 accel_info) -> list[dict]:
        """Nova's ARQs, the units bound from the instance's allocation on
        this host, and those attached by REST: each device once."""
        arqs = list(accel_info or [])
        seen = {bindings.device_of(arq) for arq in arqs}
        for record in self._bound_records(instance, image_meta):
            arq = bindings.to_arq(record)
            if bindings.device_of(arq) not in seen:
                seen.add(bindings.device_of(arq))
                arqs.append(arq)
        return arqs

    def _guest_add_accel_pci_devices(self, guest, accel_info):
        """Nova's PCI hostdevs of PCI ARQs (managed: libvirt binds each to
        vfio-pci), but a vendor-VFIO vGPU's VF unmanaged: it must stay on
        the vendor driver that holds its vGPU (only our bindings have such
        units; the API refuses them to Nova's ARQs)."""
        managed = [arq for arq in accel_info if bindings.managed(arq)]
        super()._guest_add_accel_pci_devices(guest, managed)
        for arq in accel_info:
            if not bindings.managed(arq):
                dev = _HostdevPCI()
                info = arq['attach_handle_info']
                dev.domain, dev.bus, dev.slot, dev.function = (
                    info['domain'], info['bus'], info['device'],
                    info['function'])
                dev.managed = 'no'
                guest.add_device(dev)

    def _bound_records(self, instance, image_meta) -> list[dict]:
        """Bind (or find bound) the units the instance's allocation holds in
        this host's pools, near the host NUMA cells Nova fitted the guest
        onto as its policy says (:mod:`numa_affinity`), then add those
        attached by REST. Not its bindings on other hosts: a migration's
        source keeps them until the migration is confirmed."""
        if self._accelerator_api is None:
            return []
        numa = numa_affinity.of_guest(instance, image_meta,
                                      self._get_host_numa_topology)
        try:
            bound = bindings.bind(self._accelerator_api, instance.uuid,
                                  self._agent_host(), numa)
            attached = bindings.attached_records(self._accelerator_api,
                                                 instance.uuid)
            vgpu.ensure(bound + attached, self._vgpu_command)
            return bound + attached
        except vgpu.NotCreatable as ex:
            # Placement offered a vGPU the GPU cannot hold any more (a
            # boot took its last room meanwhile): another host may.
            raise exception.ComputeResourcesUnavailable(reason=str(ex)) from ex
        except vgpu.VgpuError as ex:
            raise exception.AcceleratorRequestOpFailed(
                op='create vGPU', msg=str(ex)) from ex
        except bindings.NotEnoughUnits as ex:
            # Placement allocated units the host cannot give (one went away
            # since scheduling), or not near the guest's NUMA cells as its
            # policy requires: another host may, so Nova reschedules.
            raise exception.ComputeResourcesUnavailable(reason=str(ex)) from ex
        except bindings.BindingError as ex:
            # Booting without the bound device would look like success to
            # the user; fail the operation as Nova does when Cyborg fails.
            raise exception.AcceleratorRequestOpFailed(
                op='bind', msg=str(ex)) from ex

    def _agent_host(self) -> str:
        return CONF.accelerator_api.agent_host or self._host.get_hostname()

    def _hard_reboot(self, context, instance, *args, **kwargs):
        # Its destroy() is not the instance leaving the host.
        self._guest_stays.add(instance.uuid)
        try:
            return super()._hard_reboot(context, instance, *args, **kwargs)
        finally:
            self._guest_stays.discard(instance.uuid)

    def cleanup(self, context, instance, network_info, *args, **kwargs):
        """Nova's cleanup, then the instance's units on this host go back to
        their pools: every caller but two means the instance leaves the host
        (delete, shelve offload, a failed or rescheduled build, a reverted
        resize's destination, an evacuated instance's old host). The two
        are hard reboot (and power on) and a rebuild here, which build the
        guest again on the same units."""
        super().cleanup(context, instance, network_info, *args, **kwargs)
        if (instance.uuid not in self._guest_stays
                and instance.task_state != task_states.REBUILDING):
            self._release(instance)

    def confirm_migration(self, context, migration, instance, network_info):
        """The source of a confirmed resize or migration lets its units go
        (a resize on the same host keeps what the destination bound)."""
        super().confirm_migration(context, migration, instance, network_info)
        if migration.source_compute != migration.dest_compute:
            self._release(instance)

    def _release(self, instance) -> None:
        """The instance's vGPUs on this host are deleted, then its units
        released (a vGPU a failure here leaves is logged; the next bind of
        its unit finds it there and uses it)."""
        if self._accelerator_api is None:
            return
        host = self._agent_host()
        try:
            failed = vgpu.delete([
                record for record in bindings.bindings(
                    self._accelerator_api, instance.uuid)
                if record.get('host') == host], self._vgpu_command)
            for reason in failed:
                LOG.error('Could not delete vGPU %s', reason,
                          instance=instance)
            bindings.release(self._accelerator_api, instance.uuid, host)
        except bindings.BindingError as ex:
            # The instance is gone from this host whatever the API says;
            # failing here would only hide why it went.
            LOG.error('Could not release the accelerators bound to the '
                      'instance on this host: %s', ex, instance=instance)

    def check_can_live_migrate_source(self, context, instance,
                                      dest_check_data,
                                      block_device_info=None):
        """Refuse to live-migrate an instance holding accelerators: a PCI
        device cannot follow a running guest, and refusing here comes
        before anything moved (allocations, the destination's guest)."""
        held = self._held_accelerators(instance)
        if held:
            raise exception.MigrationPreCheckError(reason=(
                'the instance holds PCI accelerators, which cannot be live '
                'migrated: ' + ', '.join(held) + '; cold-migrate or resize '
                'it instead'))
        return super().check_can_live_migrate_source(
            context, instance, dest_check_data, block_device_info)

    def _held_accelerators(self, instance) -> list[str]:
        """'name (pci address)' of each unit bound or attached to it."""
        if self._accelerator_api is None:
            return []
        try:
            records = (bindings.bindings(self._accelerator_api, instance.uuid)
                       + bindings.attached_records(self._accelerator_api,
                                                   instance.uuid))
        except bindings.BindingError as ex:
            raise exception.MigrationPreCheckError(reason=(
                'cannot tell whether the instance holds accelerators: '
                f'{ex}')) from ex
        named = {}
        for record in records:
            named.setdefault(record.get('uuid') or record['pci_address'],
                             f"{record.get('name')} ({record['pci_address']})")
        return sorted(named.values())
