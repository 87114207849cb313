# Sourced by tools/install-test-deps.sh and tools/run-local.sh: how both make
# a virtualenv and install into it.
#
# uv installs the requirements: the same wheels as pip, in about a third of
# the time (tools/constraints.txt keeps it where pip would choose otherwise).

# venv_create DIR [PACKAGES...]: a virtualenv at DIR with pip and uv (and
# PACKAGES) up to date.
venv_create() {
    local dir=$1
    shift
    if [ ! -x "$dir/bin/python" ]; then
        echo "==> creating $dir" >&2
        python3 -m venv "$dir"
    fi
    "$dir/bin/pip" install -q -U pip setuptools wheel uv "$@"
}

# venv_install VENV ARGS...: uv pip install ARGS into VENV, with the uv of
# .venv. Byte-compiled as installed, as pip does: without the .pyc files
# every process would compile what it imports again.
venv_install() {
    local venv=$1
    shift
    .venv/bin/uv pip install -q --compile-bytecode --python "$venv/bin/python" \
        -c tools/constraints.txt "$@"
}
