"""acc_specs keep their shape through the table's columns."""
from cyborg_placement.db import accelerators
from cyborg_placement.db import models


def test_seed_spec_keys_map_to_columns_and_unknown_keys_are_kept():
    specs = {'remote': 1, 'num': 1, 'device_type': 'CRYPTO',
             'acc_capability': {'num': 2, 'ipsec': {'aes': {'3des': 50}}},
             'vendor_id': '8086', 'firmware': 'v2'}
    columns = accelerators.specs_to_columns(specs)
    assert columns['remotable'] == 1
    assert columns['extra_specs'] == {'num': 1, 'firmware': 'v2'}
    record = models.Accelerator(**columns)
    assert accelerators.specs_of(record) == specs


def test_empty_specs_still_have_the_required_columns():
    columns = accelerators.specs_to_columns({})
    assert columns == {'extra_specs': {}, 'device_type': '', 'remotable': 0}
