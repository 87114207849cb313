"""The document a restarted agent starts from: what it gives back, and the
documents it refuses (of another format, another root, or malformed)."""
import json

import pytest

from cyborg_agent.publish import state
from tests.unit.test_publish_state import _known


def test_the_saved_document_gives_back_what_was_known():
    known = _known(4)
    rules = {known.uuid: frozenset({'CUSTOM_NVLINK'})}
    document = state.saved_document('compute-1', 'root-uuid',
                                    {known.uuid: known}, rules)
    root, loaded, loaded_rules = state.from_saved(
        json.loads(json.dumps(document)), 'compute-1')
    assert (root, loaded_rules) == ('root-uuid', rules)
    (again,) = loaded.values()
    assert (again.uuid, again.name, again.generation, again.traits,
            again.inventories, again.owned) == (
        known.uuid, known.name, 3, known.traits, known.inventories, True)
    # Usages change without a generation bump: never saved, read again.
    assert again.usages is None


@pytest.mark.parametrize('change', [
    {'format': 2}, {'root_name': 'compute-2'}, {'providers': [1]},
    {'providers': {'p': {'name': 'x'}}}, {'root_uuid': None, 'format': None},
])
def test_a_saved_document_of_another_kind_is_refused(change):
    document = state.saved_document('compute-1', 'root-uuid',
                                    {'p': _known(4)}, {})
    with pytest.raises(ValueError):
        state.from_saved({**document, **change}, 'compute-1')
