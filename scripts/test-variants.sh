#!/usr/bin/env bash
# Run the unit tests under conditions unlike the machine they were written on, one condition at a time,
# so that a test which only passes on its author's CPU, thread count, time zone, locale or calendar shows.
#
#   scripts/test-variants.sh                  # every variant below, one after the other
#   scripts/test-variants.sh tz date          # just those
#   scripts/test-variants.sh combined         # all the conditions at once, in one run (what CI runs)
#   PYTEST_ARGS="tests/los" scripts/test-variants.sh simd
#
# Variants:
#   simd       numpy's dispatched vector paths off (every name numpy.show_runtime() lists as found, so only
#              the baseline remains) and OpenBLAS on its plainest kernels: sums are taken in another order
#   threads-1  OpenMP, OpenBLAS and MKL on 1 thread (XGBoost, scikit-learn and BLAS reduce in another order)
#   threads-4  the same on 4 threads, more than this machine has cores
#   tz         TZ=Pacific/Kiritimati (UTC+14: local and UTC dates differ most of the day)
#   locale     LANG=C, LC_ALL=C (no UTF-8 locale, C collation and number formats)
#   date       the clock moved to 29 February 2028, 12:00 UTC (another year, a leap day) in every Python process
#              (time-machine); the monotonic clock stays real, so timeouts do. Tests that read "now" must pin it.
#
# The unit tests are the whole suite but the browser (e2e) tests. Exit status: non-zero if any variant failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
read -r -a EXTRA <<<"${PYTEST_ARGS:-}"
ALL=(simd threads-1 threads-4 tz locale date)

simd_env() {
  local found
  found=$("$PY" - <<'EOF'
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
print(",".join(f for f in __cpu_dispatch__ if __cpu_features__.get(f)))
EOF
)
  # OpenBLAS: Prescott is its SSE3 kernel set, the narrowest x86-64 one; ignored on other CPUs.
  echo "NPY_DISABLE_CPU_FEATURES=$found OPENBLAS_CORETYPE=Prescott"
}

threads_env() { echo "OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 MKL_NUM_THREADS=$1"; }

date_env() {
  # time-machine in every Python process of the run (scripts/clock_offset/sitecustomize.py). libfaketime was
  # tried first: its clock_nanosleep makes Python's time.sleep fail (EINVAL) when the monotonic clock is left
  # alone, and threading waits hang when it is faked too.
  "$PY" -c 'import time_machine' 2>/dev/null || { echo "date: time-machine is not installed" >&2; return 1; }
  local offset
  offset=$("$PY" -c 'import datetime as d, time; print(int(d.datetime(2028, 2, 29, 12, tzinfo=d.UTC).timestamp() - time.time()))')
  # PostgreSQL left out: its server keeps the real clock, and a store never sees two clocks in a hospital.
  # time-machine is also a pytest plugin, which pytest wants to import itself for assertion rewriting: the hook
  # imported it first, and the warning that says so is not a test failure.
  echo "PYTHONPATH=$PWD/scripts/clock_offset:$PWD MEDSPEAK_TEST_CLOCK_OFFSET_S=$offset MEDSPEAK_TEST_POSTGRES_URL= PYTEST_ADDOPTS=-Wignore::pytest.PytestAssertRewriteWarning"
}

variant_env() {
  case "$1" in
    simd) simd_env ;;
    threads-1) threads_env 1 ;;
    threads-4) threads_env 4 ;;
    tz) echo "TZ=Pacific/Kiritimati" ;;
    locale) echo "LANG=C LC_ALL=C" ;;
    date) date_env ;;
    combined) echo "$(simd_env) $(threads_env 1) TZ=Pacific/Kiritimati LANG=C LC_ALL=C $(date_env)" ;;
    *) echo "unknown variant: $1 (one of: ${ALL[*]} combined)" >&2; return 1 ;;
  esac
}

variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=("${ALL[@]}")
failed=()
for v in "${variants[@]}"; do
  settings=$(variant_env "$v") || { failed+=("$v"); continue; }
  echo "=== $v: $settings"
  # shellcheck disable=SC2086  # the settings are NAME=value words
  if ! env $settings "$PY" -m pytest -q -p no:cacheprovider -m "not e2e" "${EXTRA[@]}"; then
    failed+=("$v")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED under: ${failed[*]}"
  exit 1
fi
echo "All variants passed: ${variants[*]}"
