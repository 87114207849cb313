"""Nova's own ``GET /allocation_candidates`` query for a flavor's extra specs.

Operators write extra specs; Nova's scheduler turns them into the query it sends
to Placement (``nova.scheduler.utils.ResourceRequest``). Showing or testing that
query with Nova's code, not a hand-written one, is the only way to know our
providers are found. Nova registers its options on oslo.config's global CONF,
where ours live too, so its code runs in a child process, as in nova-scheduler.
"""
import json
import subprocess
import sys

#: A flavor's extra specs and the request's root_required traits.
Request = tuple[dict[str, str], list[str]]

_CHILD = """
import json, sys, warnings
warnings.simplefilter('ignore')
from nova import objects
from nova.scheduler import utils
objects.register_all()
out = {}
for name, (specs, root_required, size) in json.load(sys.stdin).items():
    flavor = objects.Flavor(extra_specs=specs, ephemeral_gb=0, swap=0, **size)
    spec = objects.RequestSpec(
        flavor=flavor, is_bfv=False,
        request_level_params=objects.RequestLevelParams(
            root_required=set(root_required)))
    out[name] = utils.ResourceRequest.from_request_spec(spec).to_querystring()
print(json.dumps(out))
"""

DEFAULT_FLAVOR_SIZE = {'vcpus': 4, 'memory_mb': 8192, 'root_gb': 20}


class NovaUnavailable(RuntimeError):
    """The ``nova`` package is not installed where this Python runs."""


def allocation_candidate_queries(
        requests: dict[str, Request],
        flavor_size: dict[str, int] | None = None) -> dict[str, str]:
    """Return, per request name, the query string Nova sends for it."""
    size = flavor_size or DEFAULT_FLAVOR_SIZE
    payload = {name: (specs, roots, size)
               for name, (specs, roots) in requests.items()}
    result = subprocess.run(
        [sys.executable, '-c', _CHILD], input=json.dumps(payload),
        capture_output=True, text=True, timeout=300)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ['no output'])[-1]
        if 'ModuleNotFoundError' in last and 'nova' in last:
            raise NovaUnavailable('the nova package is not installed')
        raise RuntimeError(f"Nova's ResourceRequest failed: {last}")
    return json.loads(result.stdout)
