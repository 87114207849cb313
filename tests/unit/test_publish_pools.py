"""Names operators put in flavors and that must survive agent restarts."""
from cyborg_agent.publish import pools
from cyborg_placement import vocabulary
from cyborg_placement.vocabulary import Unit

H100 = Unit('0000:18:00.0', '10de', '2330', 'GPU', numa_node=0)
QAT_VF = Unit('0000:6b:01.0', '8086', '4941', 'CRYPTO', numa_node=1,
              physfn='0000:6b:00.0')


def test_resource_classes_per_type():
    assert vocabulary.resource_class(H100) == 'PGPU'
    assert vocabulary.resource_class(QAT_VF) == 'CUSTOM_ACCEL_CRYPTO'
    fpga = Unit('0000:3b:00.0', '8086', '09c4', 'FPGA')
    assert vocabulary.resource_class(fpga) == 'FPGA'


def test_traits_use_the_units_own_ids_in_upper_case():
    assert vocabulary.standard_traits(QAT_VF) == {
        'OWNER_CYBORG', 'CUSTOM_ACCEL_CRYPTO', 'CUSTOM_ACCEL_VENDOR_8086',
        'CUSTOM_ACCEL_PRODUCT_8086_4941'}
    assert 'CUSTOM_ACCEL_PRODUCT_10DE_2330' in vocabulary.standard_traits(H100)
    assert 'OWNER_NOVA' not in vocabulary.standard_traits(H100)


def test_provider_names_and_stable_uuids():
    key = pools.pool_key(H100)
    name = pools.provider_name('compute-1', key)
    assert name == 'compute-1_GPU_10DE_2330'
    assert pools.provider_uuid(name) == pools.provider_uuid(
        'compute-1_GPU_10DE_2330')
    assert pools.provider_uuid(name) != pools.provider_uuid(
        'compute-2_GPU_10DE_2330')


def test_numa_pooling_adds_the_node():
    key = pools.pool_key(QAT_VF, pool_by_numa=True)
    assert pools.provider_name('c1', key) == 'c1_CRYPTO_8086_4941_NUMA1'
    assert pools.pool_key(QAT_VF).numa_node is None


def test_operator_traits_split_the_pool_with_a_stable_hash():
    tagged = Unit('0000:19:00.0', '10de', '2330', 'GPU',
                  extra_traits=frozenset({'CUSTOM_NVLINK'}))
    plain, split = pools.pool_key(H100), pools.pool_key(tagged)
    assert plain != split
    assert split.extra_traits == {'CUSTOM_NVLINK'}
    name = pools.provider_name('c1', split)
    assert name.startswith('c1_GPU_10DE_2330_') and len(name) == len(
        'c1_GPU_10DE_2330_') + 8
    assert name == pools.provider_name('c1', pools.pool_key(tagged))


def test_owned_traits():
    assert vocabulary.is_owned_trait('OWNER_CYBORG')
    assert vocabulary.is_owned_trait('CUSTOM_ACCEL_VENDOR_8086')
    assert not vocabulary.is_owned_trait('CUSTOM_OPERATOR_TAG')
    assert not vocabulary.is_owned_trait('HW_GPU_API_CUDA_V12_0')
