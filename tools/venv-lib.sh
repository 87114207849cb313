# Sourced by tools/install-test-deps.sh and tools/run-local.sh: how both make
# a virtualenv and install into it.
#
# uv installs the requirements: the same wheels as pip, in about a third of
# the time (tools/constraints.txt keeps it where pip would choose otherwise).

# venv_create DIR [PACKAGES...]: a virtualenv at DIR with uv (and PACKAGES)
# in it. Its pip only fetches uv: uv builds with isolated build tools, so
# neither pip nor setuptools need upgrading first (5 s).
venv_create() {
    local dir=$1
    shift
    if [ ! -x "$dir/bin/python" ]; then
        echo "==> creating $dir" >&2
        python3 -m venv "$dir"
    fi
    "$dir/bin/pip" install -q uv "$@"
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
