"""The payloads of our notifications: oslo.versionedobjects, as Nova's.

A consumer (billing, monitoring, audit) reads ``cyborg_object.name`` and
``cyborg_object.version`` and knows the shape of ``cyborg_object.data``.
A field added is a minor version, a field changed or removed a major one;
``tests/unit/test_notifications_objects.py`` holds the hash of each
version, so a change without a new version fails there.
"""
from oslo_versionedobjects import base
from oslo_versionedobjects import fields


class NotificationObjectRegistry(base.VersionedObjectRegistry):
    """Our payload classes, apart from any other project's objects."""


class NotificationObject(base.VersionedObject):
    OBJ_SERIAL_NAMESPACE = 'cyborg_object'
    OBJ_PROJECT_NAMESPACE = 'cyborg'

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Made on the fly for one notification: every field would show as
        # changed, which says nothing to a consumer.
        self.obj_reset_changes(recursive=True)


@NotificationObjectRegistry.register
class AcceleratorPayload(NotificationObject):
    """The unit, where it is (host, PCI address) and its pool."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'uuid': fields.UUIDField(),
        'name': fields.StringField(),
        'host': fields.StringField(nullable=True),
        'pci_address': fields.StringField(nullable=True),
        'device_type': fields.StringField(),
        'vendor_id': fields.StringField(nullable=True),
        'product_id': fields.StringField(nullable=True),
        'resource_class': fields.StringField(nullable=True),
        'pool_provider_uuid': fields.UUIDField(nullable=True),
        'numa_node': fields.IntegerField(nullable=True),
        'state': fields.StringField(),
        'health': fields.StringField(),
        'health_reason': fields.StringField(nullable=True),
        'disabled': fields.BooleanField(),
        'disabled_reason': fields.StringField(nullable=True),
    }

    @classmethod
    def of(cls, unit) -> 'AcceleratorPayload':
        """From a ``models.Accelerator``."""
        return cls(**{name: getattr(unit, name) for name in cls.fields})


@NotificationObjectRegistry.register
class AttachmentPayload(NotificationObject):
    """Who holds the unit: an instance (``instance_uuid``) or a host."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'uuid': fields.UUIDField(),
        'state': fields.StringField(),
        #: ``attach`` (a claim the API made) or ``binding`` (Nova's own
        #: allocation holds the unit).
        'kind': fields.StringField(),
        'instance_uuid': fields.UUIDField(nullable=True),
        'host': fields.StringField(nullable=True),
        'project_id': fields.StringField(nullable=True),
        'user_id': fields.StringField(nullable=True),
        'reason': fields.StringField(nullable=True),
    }

    @classmethod
    def of(cls, record) -> 'AttachmentPayload':
        """From a ``models.Attachment``."""
        return cls(
            uuid=record.uuid, state=record.state,
            kind='attach' if record.api_claim else 'binding',
            instance_uuid=record.instance_uuid, host=record.host,
            project_id=record.project_id, user_id=record.user_id,
            reason=record.reason)


@NotificationObjectRegistry.register
class AcceleratorActionPayload(NotificationObject):
    """The payload of every ``accelerator.*`` event: the unit, and for
    attach, detach, bind and release the attachment it is about."""

    # Version 1.0: Initial version
    VERSION = '1.0'

    fields = {
        'accelerator': fields.ObjectField('AcceleratorPayload'),
        'attachment': fields.ObjectField('AttachmentPayload', nullable=True),
        #: Why it failed, for the ``*.error`` events.
        'fault': fields.StringField(nullable=True),
    }

    @classmethod
    def of(cls, unit, record=None, fault: str | None = None
           ) -> 'AcceleratorActionPayload':
        return cls(accelerator=AcceleratorPayload.of(unit),
                   attachment=(None if record is None
                               else AttachmentPayload.of(record)),
                   fault=fault)
