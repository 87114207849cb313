"""Tools that serve the tests, the demo (tools/run-local.sh) and the
benchmarks: local servers, config files, sysfs trees of absent hardware, and
Nova's scheduling query. None of it is part of the service, and none of it
is installed with the package."""
