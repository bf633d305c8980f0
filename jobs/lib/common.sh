# Shared by jobs/run-local and tests/run: install missing Debian packages, configure and build.
# Source it; it defines LATDIFF_ROOT, latdiff_install_deps and latdiff_build.

LATDIFF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian 12 packages latdiff needs (README lists the equivalents on clusters).
LATDIFF_PACKAGES=(
  g++ cmake make pkg-config git
  openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
  libfftw3-dev libboost-program-options-dev librandom123-dev
  googletest libgtest-dev libbenchmark-dev
  python3-numpy python3-h5py python3-scipy python3-matplotlib python3-pytest
)

# The test suite's own single-node SLURM (tests/jobs).
LATDIFF_TEST_PACKAGES=(slurmctld slurmd slurm-client munge)

# latdiff_install_deps [extra packages...]: installs what is missing of LATDIFF_PACKAGES and the
# extra packages when running as root on a Debian-like system; elsewhere (clusters, no root) it
# does nothing and CMake uses whatever the loaded modules provide.
latdiff_install_deps() {
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=()
  for p in "${LATDIFF_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "latdiff: missing packages (${missing[*]}); not root, trying with what is installed" >&2
    return 0
  fi
  echo "latdiff: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# latdiff_build BUILD_DIR [extra cmake args...]: configure if needed, then build. The build is
# for this machine's CPU (-DLATDIFF_NATIVE=ON: the SIMD Metropolis sweep and the rest at full
# speed); LATDIFF_NATIVE=OFF in the environment builds binaries for any x86-64 node instead.
latdiff_build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  # Quiet when all is well; the log's tail when configuring or compiling fails.
  if { [ -f "$dir/CMakeCache.txt" ] ||
       cmake -S "$LATDIFF_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
         -DLATDIFF_NATIVE="${LATDIFF_NATIVE:-ON}" "$@"; } >"$dir/build.log" 2>&1 &&
     cmake --build "$dir" -j "$(nproc)" >>"$dir/build.log" 2>&1; then
    return 0
  fi
  tail -n 60 "$dir/build.log" >&2
  echo "latdiff: build failed; full log in $dir/build.log" >&2
  return 1
}

# OpenMPI refuses to run as root without these (containers, CI).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
