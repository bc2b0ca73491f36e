#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian/Ubuntu machine:
# - the system libraries Qt needs offscreen (pytest-qt imports Qt in every pytest run),
#   only when one is missing (needs root or sudo);
# - torch's CPU build (754 MB installed) from PyTorch's CPU index, unless torch is installed:
#   from PyPI, torch on Linux x86_64 is the CUDA build, several GB with its nvidia-* wheels;
# - this package in editable mode with the test, frameworks and gui extras.
set -euo pipefail
cd "$(dirname "$0")/.."

qt_libs=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 fonts-dejavu-core)
if command -v dpkg >/dev/null 2>&1; then
    missing=()
    for pkg in "${qt_libs[@]}"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "installing system libraries for Qt: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
    fi
fi

if ! python -c "import torch" >/dev/null 2>&1; then
    # Where download.pytorch.org cannot be reached pip says so and takes torch from the other
    # indexes and find-links it is configured with.
    python -m pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu \
        --retries 1 --timeout 20 \
        || echo "note: the CPU build of torch could not be installed; pip will choose torch"
fi
python -m pip install -e ".[test,frameworks,gui]"
