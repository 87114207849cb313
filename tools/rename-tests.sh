#!/bin/bash
# One-off (issue 12, "tests mirror the code"): rename each test module after
# the module it tests, as tests/<tier>/test_<package path without the top
# package>[_<aspect>].py, and fix the references to it (imports in tests,
# paths in docs). Run once from a clean tree, review `git diff --stat`, commit,
# then delete this script. Modules already named so are not listed.
set -euo pipefail
cd "$(dirname "$0")/.."

while read -r old new _; do
    [ -z "$old" ] || [ "${old:0:1}" = '#' ] && continue
    git mv "tests/$old" "tests/$new"
    o=${old%.py} n=${new%.py}
    { git grep -lE "\\b${o##*/}\\b" -- ':!tools/rename-tests.sh' || true; } |
        xargs -r sed -i -E "s#tests/$old#tests/$new#g; s#\\btests\\.${o/\//\\.}\\b#tests.${n/\//.}#g; s#\\b${o##*/}\\.py\\b#${n##*/}.py#g"
done <<'EOF'
unit/test_api_wsgi.py            unit/test_wsgi.py
unit/test_classification.py      unit/test_discovery_classify.py   # and discovery/rules.py
unit/test_config.py              unit/test_conf.py                 # the conf package, through conf/opts.py
unit/test_db_specs.py            unit/test_db_accelerators.py
unit/test_discovery_broken.py    unit/test_discovery_sysfs_broken.py
unit/test_discovery_units.py     unit/test_discovery_inventory.py
unit/test_naming.py              unit/test_publish_pools.py        # and vocabulary.py (classes, owned traits)
unit/test_reconciler_journal.py  unit/test_journal.py
unit/test_sync_retry.py          unit/test_retry.py
unit/test_sync_state.py          unit/test_publish_state.py
unit/test_sysfs_tree.py          unit/test_harness_sysfs_tree.py   # tools/harness/sysfs_tree.py
unit/test_tree.py                unit/test_publish_tree.py
functional/test_agent_daemon.py              functional/test_daemon.py
functional/test_agent_reconcile_cadence.py   functional/test_daemon_reconcile_cadence.py
functional/test_api_accelerators.py          functional/test_api_handlers_accelerators.py
functional/test_api_agent_report.py          functional/test_report.py                # cyborg_agent/report.py
functional/test_api_attach.py                functional/test_attach_flow.py           # and attach/claims.py
functional/test_api_crash.py                 functional/test_attach_flow_crash.py
functional/test_api_keystone.py              functional/test_api_auth.py
functional/test_api_placement_down.py        functional/test_api_app_placement_down.py
functional/test_api_startup.py               functional/test_cmd_api.py
functional/test_cli.py                       functional/test_osc_v1.py
functional/test_cli_coexistence.py           functional/test_osc_plugin.py
functional/test_cli_keystone.py              functional/test_osc_client.py
functional/test_db_layer.py                  functional/test_db.py                    # the db package on every backend
functional/test_discover_cli.py              functional/test_cmd_discover.py
functional/test_nova_ext_driver.py           functional/test_virt_libvirt_driver.py   # nova_ext/virt/libvirt/driver.py
functional/test_nova_scheduling.py           functional/test_publish_tree_scheduling.py
functional/test_placement_keystone.py        functional/test_placement_client_keystone.py
functional/test_publish_outage.py            functional/test_publish_sync_outage.py
# It needs no server process: the in-process tier runs it unchanged, faster.
functional/test_publish.py                   inprocess/test_publish_sync.py
EOF
