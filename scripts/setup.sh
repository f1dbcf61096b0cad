#!/usr/bin/env bash
# Installs every Debian package bpsim needs. Idempotent and non-interactive;
# the single place in the project that installs system packages.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ccache git
  libsystemc-dev verilator
  libboost-program-options-dev
  libopenmpi-dev openmpi-bin  # MPI sweeps: the module libbpsim_mpi.so (Open MPI's C API) and mpirun
  catch2 libyaml-cpp-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libsimdjson-dev
  libprotobuf-dev protobuf-compiler python3-protobuf
  python3 python3-matplotlib python3-pandas python3-jsonschema
  # The Python package (README "Python"): its pybind11 module, a virtual environment over
  # Debian's python3 and setuptools to install into it, nbformat to run the example notebook.
  pybind11-dev python3-pybind11 python3-venv python3-setuptools python3-wheel python3-nbformat
  # The sanitized build (scripts/test_sanitized.sh) and the fuzzers (scripts/fuzz.sh): clang,
  # its ASan/UBSan/libFuzzer runtimes (not a dependency of clang-14) and llvm-symbolizer.
  clang clang-14 libclang-rt-14-dev llvm-14
  # scripts/lint.sh: the formatter and the linter (Debian 12: version 14, as clang).
  clang-format clang-tidy
  # The browser test of report.html (tests/browser/): headless chromium driven by chromedriver
  # through selenium (Debian's python3 imports it).
  chromium chromium-driver python3-selenium
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for the dpkg lock rather than failing when another apt run holds it.
APT_OPTS=(-o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
$SUDO apt-get "${APT_OPTS[@]:0:2}" update -q
$SUDO apt-get "${APT_OPTS[@]}" install "${missing[@]}"
