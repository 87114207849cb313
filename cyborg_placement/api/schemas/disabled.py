"""Body of ``PUT /accelerators/{uuid}/disabled``: take a unit out of
service, or put it back."""

#: ``reason`` says why (shown with the accelerator); it goes with disabling.
UPDATE = {
    'type': 'object',
    'properties': {
        'disabled': {'type': 'boolean'},
        'reason': {'type': ['string', 'null'], 'maxLength': 255},
    },
    'required': ['disabled'],
    'additionalProperties': False,
}
