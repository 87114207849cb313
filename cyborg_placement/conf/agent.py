"""Options of the per-host agent (``[agent]``)."""
from oslo_config import cfg

from cyborg_placement.conf import groups

GROUP = cfg.OptGroup(
    'agent', title='Agent options',
    help='How the per-host agent discovers accelerators and publishes them.')

OPTS = [
    cfg.StrOpt(
        'sysfs_root', default='/sys',
        help='Root of the sysfs tree to read PCI devices from. Tests and the '
             'sample host point this at a directory built to look like sysfs.'),
    cfg.StrOpt(
        'resource_provider_name',
        help='Name of the compute-node resource provider the accelerator '
             'providers are nested under. Defaults to the host name that '
             "Nova's libvirt driver reports for this host."),
    cfg.BoolOpt(
        'manage_root_provider', default=False,
        help='Create the root resource provider when it does not exist. Only '
             'for standalone use without Nova: with Nova the compute-node '
             'provider belongs to nova-compute and the agent waits for it.'),
    cfg.IntOpt(
        'report_interval', default=60, min=1,
        help='Seconds between two publication cycles of the agent daemon: '
             'discovery, the Placement sync and the device report to the '
             'accelerator API.'),
    cfg.IntOpt(
        'unchanged_report_interval', default=600, min=0,
        help='Seconds after which the device report is sent to the '
             'accelerator API again although it has not changed. A cycle '
             'whose report says what the last accepted one said, and whose '
             'feed says the API still holds it, sends nothing (with '
             'save_published_state, not after a restart either), so a host '
             'in steady state costs the API no request. An API that holds '
             'another report (a new database, one restored from a backup) '
             'gets it at once; this bounds how long the API can hold records '
             'that differ from the host with the same report (an acc_specs '
             'change over a reported field). 0 sends the report every '
             'cycle.'),
    cfg.IntOpt(
        'periodic_fuzzy_delay', default=60, min=0,
        help='Largest number of seconds the agent daemon waits at start, '
             'chosen at random, before its first publication cycle and its '
             'first reconcile pass; never more than one report_interval '
             '(reconcile_interval for the reconciler). A fleet of hosts '
             'started at once (a reboot, an upgrade) then spreads its '
             'cycles over the interval instead of sending every host\'s '
             'requests to Placement in the same second. The name and '
             "meaning are those of Nova's [DEFAULT] periodic_fuzzy_delay. "
             '0 starts at once. --once never waits.'),
    cfg.IntOpt(
        'reconcile_interval', default=5, min=1,
        help='Seconds between two passes of the attachment reconciler of the '
             'agent daemon (only with [accelerator_api]). A pass asks the '
             'accelerator API what changed on this host and performs new '
             'attach and detach requests, so a request waits about this '
             'long before the host acts on it. A pass with nothing '
             'new is one small GET. Independent of report_interval: a '
             'failing API does not delay publication to Placement, nor a '
             'failing Placement the attachments. Used without [DEFAULT] '
             'transport_url; with one, see woken_reconcile_interval.'),
    cfg.IntOpt(
        'woken_reconcile_interval', default=120, min=1,
        help='Seconds between two passes of the attachment reconciler when '
             'the agent is woken over the message bus ([DEFAULT] '
             'transport_url set): the accelerator API casts to this host\'s '
             'agent when an attachment on it changes, and the pass runs at '
             'once, so polling is only the safety net for a wake-up lost '
             'while the broker or the agent was away. At 1,000 hosts, 120 s '
             'is about 8 feed reads a second on the API, against 200 with '
             'reconcile_interval = 5 (docs/notifications.md, "Wake-ups").'),
    cfg.BoolOpt(
        'pool_by_numa', default=False,
        help='Add the NUMA node to the pool key, so that units on different '
             'NUMA nodes are published as different resource providers.'),
    cfg.MultiStrOpt(
        'device_rule', default=[],
        help='An operator rule for discovery, one JSON object per value; '
             'repeat the option for more rules. Rules are tried in order '
             'before the default classification table and the first that '
             'matches a PCI function wins. Match keys (all given must '
             'match): "vendor_id" and "product_id" (hex, such as "15b3"), '
             '"address" (a glob such as "0000:3b:00.*"), "class" (a hex '
             'prefix such as "0200"). Actions: "exclude": true (not an '
             'accelerator), or "device_type" (GPU, FPGA, CRYPTO, AI or NIC; '
             'default: the type the table gives), "resource_class" (a '
             'standard or CUSTOM_ resource class) and "traits" (a list of '
             'CUSTOM_ traits added to the pool). A VF is classified like its '
             'PF unless a rule matches the VF itself. "vgpu_profiles" puts '
             'a GPU in vGPU mode: an object of profile names, as the driver '
             'lists them, to the most vGPUs of that profile one GPU holds '
             "(NVIDIA's \"maximum vGPUs per GPU\"; null: as many as the "
             'driver lists); the GPU is then never offered whole, and each '
             'of its VFs is a unit of each profile, in one VGPU pool per '
             'profile (docs/operator-guide.md, "Sharing GPUs: vGPU"). '
             'Examples: {"vendor_id": "15b3", "product_id": "101d", '
             '"device_type": "NIC", "traits": ["CUSTOM_SMARTNIC"]}, '
             '{"address": "0000:6b:00.*", "exclude": true} and '
             '{"product_id": "2335", "vgpu_profiles": {"NVIDIA H200X-1-18C": '
             '7}}.'),
    cfg.StrOpt(
        'pci_ids_path',
        help='The pci.ids database that vendor and product names are read '
             'from, for display only. When unset, /usr/share/misc/pci.ids and '
             '/usr/share/hwdata/pci.ids are tried; without one, names are '
             'left out.'),
    cfg.FloatOpt(
        'enrichment_timeout', default=10.0, min=0.1,
        help='Seconds a discovery plugin may wait for the tool it runs (such '
             'as nvidia-smi) before its facts are left out for this cycle.'),
    cfg.IntOpt(
        'health_recovery_cycles', default=3, min=1,
        help='Publication cycles (report_interval apart) a unit that was '
             'unhealthy must be found healthy in a row before it is offered '
             'again. A unit turns unhealthy at once: its PCI AER error '
             'counters (aer_dev_fatal, aer_dev_nonfatal) grew since the '
             'last cycle, its config space or driver is gone, its SR-IOV PF '
             'is unhealthy, or a discovery plugin (nvidia-smi) reports an '
             'error state. Unhealthy units (and those an operator disabled) '
             'are reserved in Placement while free.'),
    cfg.StrOpt(
        'libvirt_uri', default='qemu:///system',
        help='The libvirt connection the attachment reconciler attaches and '
             'detaches PCI devices of instances (VM attachments) through. '
             'The instance UUID is the libvirt domain UUID, as Nova makes it.'),
    cfg.StrOpt(
        'state_dir', default='/var/lib/cyborg/agent',
        help='Directory where the attachment reconciler records, before it '
             'changes the host, what it needs to undo the change (such as the '
             'driver a unit was bound to before a host attachment), so a '
             'restarted agent can finish or roll back; where the agent '
             'keeps what it last published (see save_published_state); and '
             'where it always keeps its health memory (AER counters, '
             'recovery streaks), also without [accelerator_api].'),
    cfg.BoolOpt(
        'save_published_state', default=True,
        help='Keep in state_dir (under published/) what the agent last '
             'published to Placement, with the generations Placement gave '
             'it, and the digest of the last device report the accelerator '
             'API accepted. A restarted agent trusts what it saved while '
             "Placement's listing of the host's providers shows the same "
             'generations, so restarting an unchanged host costs one '
             'listing instead of a read of every provider, and no device '
             'report. A provider whose generation moved is read again; a '
             'missing or corrupt file is reported in the log and read from '
             'the services instead. false: keep nothing across restarts.'),
    cfg.StrOpt(
        'host_attach_driver', default='vfio-pci',
        help='The kernel driver a unit is bound to when it is attached to '
             'its host, unless a host_attach_rule names another.'),
    cfg.MultiStrOpt(
        'host_attach_rule', default=[],
        help='The driver for host attachments of some units, one JSON object '
             'per value; the first rule that matches wins. Match keys (all '
             'given must match): "vendor_id" and "product_id" (hex) and '
             '"address" (a glob); action: "driver" (a kernel driver name). '
             'Example: {"vendor_id": "8086", "product_id": "4941", '
             '"driver": "4xxx"}.'),
    cfg.ListOpt(
        'host_attach_allowed_drivers', default=[],
        help='More kernel drivers an attach request may name (its "driver"), '
             'besides host_attach_driver and the drivers of '
             'host_attach_rule. The agent refuses any other with a clear '
             'reason, and so does its privileged helper (oslo.privsep, '
             '[privsep_sysfs]), which reads this option from its own '
             'configuration file; a driver_override an operator set on a '
             'unit must be among them too, so that a detach can restore it.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register(conf, GROUP, OPTS)


def list_opts() -> dict:
    return {GROUP: OPTS}
