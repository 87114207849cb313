"""Servers booted through Nova onto a host whose GPUs our agent publishes.

Run by tests/functional/test_nova_boot.py in a process of its own (see
tests/nova_services.py); each case asserts on the guest's libvirt XML in
Nova's fake libvirt and on Placement.
"""
from tests import nova_services
from tests.nova_services import GPUS


class AcceleratorBootTest(nova_services.AcceleratorServicesTestBase):

    def setUp(self):
        super().setUp()
        self.host = self.start_accelerator_compute()

    def test_two_gpu_flavor_gets_two_units_of_the_pool(self):
        flavor = self.accelerator_flavor(2)

        server = self.boot(flavor)

        hostdevs = self.guest_hostdevs(server)
        self.assertEqual(2, len(hostdevs), hostdevs)
        self.assertLessEqual(set(hostdevs), set(GPUS))
        self.assertEqual(2, sum(self.pgpu_allocations(server['id']).values()))
