"""Body of ``PUT /attachments/{uuid}/state``: the reconciler's result."""

ATTACHMENT_STATE = {
    'type': 'object',
    'properties': {
        'state': {'type': 'string',
                  'enum': ['attached', 'attach_failed', 'detached']},
        'reason': {'type': 'string', 'maxLength': 1024},
    },
    'required': ['state'],
    'additionalProperties': False,
}
