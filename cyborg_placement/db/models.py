"""SQLAlchemy models of the accelerators and attachments tables.

The migrations in ``migrations/versions`` create exactly these tables; a
functional test compares the two so they cannot drift apart.
"""
import datetime

import sqlalchemy as sa
from sqlalchemy import orm

#: Attachment states. The first three hold the accelerator (an "active"
#: attachment); the last two are history.
ATTACHING = 'attaching'
ATTACHED = 'attached'
DETACHING = 'detaching'
ATTACH_FAILED = 'attach_failed'
DETACHED = 'detached'
ACTIVE_STATES = (ATTACHING, ATTACHED, DETACHING)
FINAL_STATES = (ATTACH_FAILED, DETACHED)

#: Accelerator states: present on its host, or gone from the last report.
AVAILABLE = 'available'
MISSING = 'missing'

#: How a vGPU unit is made: vendor-specific VFIO (a type id written to the
#: VF's ``nvidia/current_vgpu_type``) or a mediated device.
VGPU_VFIO = 'vfio'
VGPU_MDEV = 'mdev'
VGPU_INTERFACES = (VGPU_VFIO, VGPU_MDEV)

#: A unit's health, as its agent last reported it.
HEALTHY = 'healthy'
UNHEALTHY = 'unhealthy'
HEALTH_STATES = (HEALTHY, UNHEALTHY)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    pass


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_now, nullable=False)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, onupdate=_now)


class Accelerator(TimestampMixin, Base):
    """One accelerator unit, made by an admin or by its host's device report.

    The seed spec's columns (``device_type`` .. ``remotable``) hold the
    ``acc_specs`` keys; ``extra_specs`` keeps the other keys a client sent.
    ``revision`` grows with every change of the record and is its ETag.
    """

    __tablename__ = 'accelerators'
    __table_args__ = (
        sa.UniqueConstraint(
            'host', 'pci_address', 'vgpu_type',
            name='uniq_accelerators0host0pci_address0vgpu_type'),
        sa.Index('accelerators_device_type_idx', 'device_type'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), unique=True, nullable=False)
    name: orm.Mapped[str] = orm.mapped_column(
        sa.String(255), unique=True, nullable=False)
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    pci_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    pool_provider_uuid: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(36))
    resource_class: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    numa_node: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    #: The CPU socket of ``numa_node`` (None: unknown).
    socket: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    driver: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    device_type: orm.Mapped[str] = orm.mapped_column(
        sa.String(32), nullable=False, default='')
    acc_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    acc_capability: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    vendor_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(8))
    product_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(8))
    remotable: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False, default=0)
    extra_specs: orm.Mapped[dict | None] = orm.mapped_column(sa.JSON)
    state: orm.Mapped[str] = orm.mapped_column(
        sa.String(16), nullable=False, default=AVAILABLE)
    revision: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False, default=1)
    #: What the unit's agent last reported, and since when (set by the
    #: API when the reported health changes).
    health: orm.Mapped[str] = orm.mapped_column(
        sa.String(16), nullable=False, default=HEALTHY,
        server_default=HEALTHY)
    health_reason: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    health_since: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    #: An operator took the unit out of service; only an operator puts it
    #: back (device reports never change these).
    disabled: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false())
    disabled_reason: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255))
    disabled_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime)
    #: A vGPU unit (all NULL for a whole device): one profile of one VF
    #: (``pci_address``) of the GPU at ``parent_address``. ``vgpu_type`` is
    #: what is written to create it (a vendor-VFIO type id, or an mdev type
    #: directory's name); ``mdev_uuid`` is the mdev's, for mdev units.
    vgpu_interface: orm.Mapped[str | None] = orm.mapped_column(sa.String(8))
    vgpu_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))
    vgpu_profile: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    parent_address: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    mdev_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))

    @property
    def schedulable(self) -> bool:
        """Whether a new holder may be given this unit: present, healthy
        and not disabled. A holder keeps a unit that stops being so."""
        return (self.state == AVAILABLE and self.health == HEALTHY
                and not self.disabled)


class Attachment(TimestampMixin, Base):
    """Who holds an accelerator, and the Placement claim made for it.

    ``active_accelerator_id`` equals ``accelerator_id`` while the attachment
    holds the accelerator and is NULL once it is history: its unique index is
    the rule that lets exactly one of concurrent attaches win.
    ``host_revision`` orders the changes a host's reconciler fetches.
    """

    __tablename__ = 'attachments'
    __table_args__ = (
        sa.Index('attachments_instance_uuid_idx', 'instance_uuid'),
        sa.Index('attachments_agent_host_revision_idx',
                 'agent_host', 'host_revision'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), unique=True, nullable=False)
    accelerator_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey('accelerators.id', ondelete='CASCADE'), nullable=False)
    active_accelerator_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.Integer, unique=True)
    agent_host: orm.Mapped[str] = orm.mapped_column(
        sa.String(255), nullable=False)
    instance_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    host: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    state: orm.Mapped[str] = orm.mapped_column(sa.String(16), nullable=False)
    reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    consumer_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    #: True when the API claimed the unit; False for a binding to an
    #: allocation someone else (Nova) made, which detach must not remove.
    api_claim: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, nullable=False, default=True)
    #: The claim is in Placement (an attach record is written first).
    claimed: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, nullable=False, default=False)
    #: For a finished API claim: its unit is gone from Placement (the
    #: release ran after the state was written). Until then the release is
    #: owed, and recovery re-runs it.
    released: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, nullable=False, default=False)
    #: Units of the pool the consumer held before, not counting the API's
    #: other claims (Nova's own): release and crash recovery compare them
    #: with what Placement holds now, so repeating either takes nothing
    #: that is not ours.
    base_units: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False, default=0)
    host_revision: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False, default=0)
    #: The host driver a host attach request names; NULL leaves the choice
    #: to the agent's rules.
    driver: orm.Mapped[str | None] = orm.mapped_column(sa.String(64))

    accelerator: orm.Mapped[Accelerator] = orm.relationship(lazy='joined')

    @property
    def holds_accelerator(self) -> bool:
        """Whether the unit is this attachment's (attaching, attached or
        detaching): the column the unique index guards says so."""
        return self.active_accelerator_id is not None


class HostRevision(Base):
    """A per-host counter, locked by every attachment change on that host.

    Writers of one host serialize on this row, so revisions are committed in
    increasing order and ``changes_since=N`` never misses a change.
    """

    __tablename__ = 'host_revisions'

    host: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                              primary_key=True)
    revision: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False, default=0)


class HostReport(Base):
    """What a host's last accepted device report said, by its digest
    (:func:`vocabulary.report_digest`): the feed says it, and the host's
    agent sends its report again when its own differs, so an API on a new
    or restored database gets the host's units at once."""

    __tablename__ = 'host_reports'

    host: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                              primary_key=True)
    digest: orm.Mapped[str] = orm.mapped_column(sa.String(64),
                                                nullable=False)
    reported_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_now, onupdate=_now, nullable=False)


#: Accelerator request states, Cyborg's names (Nova compares them).
ARQ_INITIAL = 'Initial'
ARQ_BOUND = 'Bound'
ARQ_BIND_FAILED = 'BindFailed'
ARQ_UNBOUND = 'Unbound'


class DeviceProfile(TimestampMixin, Base):
    """What a flavor's ``accel:device_profile=NAME`` asks for: groups of
    ``resources:RC``, ``trait:T`` and ``accel:*`` keys, one Placement request
    group each (Nova's ``device_profile_<i>``)."""

    __tablename__ = 'device_profiles'

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), unique=True, nullable=False)
    name: orm.Mapped[str] = orm.mapped_column(
        sa.String(255), unique=True, nullable=False)
    groups: orm.Mapped[list] = orm.mapped_column(sa.JSON, nullable=False)
    description: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class AcceleratorRequest(TimestampMixin, Base):
    """An accelerator request (ARQ): one unit a device profile group asks
    for, bound to a unit of the pool Placement allocated for the group.

    A bound ARQ points at the binding (an attachment without API claim) that
    holds its unit; the unique index on ``attachment_id`` gives a binding to
    at most one ARQ.
    """

    __tablename__ = 'accelerator_requests'
    __table_args__ = (
        sa.Index('accelerator_requests_instance_uuid_idx', 'instance_uuid'),
        sa.Index('accelerator_requests_project_id_idx', 'project_id'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), unique=True, nullable=False)
    device_profile_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey('device_profiles.id'), nullable=False)
    device_profile_group_id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, nullable=False)
    project_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    state: orm.Mapped[str] = orm.mapped_column(
        sa.String(16), nullable=False, default=ARQ_INITIAL)
    hostname: orm.Mapped[str | None] = orm.mapped_column(sa.String(255))
    device_rp_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    instance_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    attachment_id: orm.Mapped[int | None] = orm.mapped_column(
        sa.ForeignKey('attachments.id', ondelete='SET NULL'), unique=True)

    device_profile: orm.Mapped[DeviceProfile] = orm.relationship(
        lazy='joined')
    attachment: orm.Mapped[Attachment | None] = orm.relationship(
        lazy='joined')


class Attribute(TimestampMixin, Base):
    """A key and value an admin gave a unit (Cyborg's attribute of a
    deployable). The unit's resource class and traits are attributes too,
    derived from its report, not stored (``attach/attributes.py``)."""

    __tablename__ = 'attributes'
    __table_args__ = (
        sa.UniqueConstraint('accelerator_id', 'key',
                            name='uniq_attributes0accelerator_id0key'),
    )

    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(
        sa.String(36), unique=True, nullable=False)
    accelerator_id: orm.Mapped[int] = orm.mapped_column(
        sa.ForeignKey('accelerators.id', ondelete='CASCADE'), nullable=False)
    key: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), nullable=False)

    accelerator: orm.Mapped[Accelerator] = orm.relationship(lazy='joined')
