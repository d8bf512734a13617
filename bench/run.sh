#!/usr/bin/env bash
# Sparkgate's performance suite, one command:
#   bench/run.sh                  full run (about 16 minutes; hard limit 25), writes BENCHMARKS.md
#   BENCH_QUICK=1 bench/run.sh    smoke run of the tooling with short phases (figures not to be quoted)
#   BENCH_PHASES=streaming,submission,replicas,api,burst,scale   pick phases (default: all; `memory` alone is
#                                 the idle-RSS figure of `api` without its throughput runs)
#   BENCH_OUT=FILE                write the report elsewhere (default: BENCHMARKS.md at the repository root)
# Builds what it needs, installs wrk from Debian if missing, starts every server as its own process on
# 127.0.0.1, drives it from the bench JVM. Exits non-zero if a phase errors; missed targets are printed
# loudly and listed at the top of the report.
set -euo pipefail
ROOT=$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
LIMIT_SECONDS=${BENCH_TIME_LIMIT:-1500}   # the whole run, build included (Bench.java reads what is left)
START=$SECONDS
OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}

echo "bench: building (./mvnw -B -q package -DskipTests)..."
./mvnw -B -q package -DskipTests

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk from Debian..."
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get install -y wrk >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y wrk >/dev/null; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sparkgate-bench.XXXXXX")
echo "bench: work dir $WORK (server logs and data; removed at the end unless BENCH_KEEP=1)"
cleanup() { [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"; }
trap cleanup EXIT

if [ -n "${JAVA_HOME:-}" ]; then JAVA=$JAVA_HOME/bin/java; else JAVA=java; fi
# The whole run is bounded; on the limit the bench JVM gets SIGTERM and its shutdown hook stops the servers.
# The bench itself plans its longest phase (scale) with what is left.
LEFT=$((LIMIT_SECONDS - (SECONDS - START) - 30))
[ "$LEFT" -gt 120 ] || { echo "bench: FAILED: only $LEFT s left after the build" >&2; exit 1; }
rc=0
BENCH_TIME_LIMIT=$LEFT timeout --kill-after=30 "$LEFT" "$JAVA" -Dbench.clk-tck="$(getconf CLK_TCK)" \
  -cp "bench/target/classes:bench/target/lib/*" io.sparkgate.bench.Bench "$ROOT" "$OUT" "$WORK" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "bench: FAILED: the run exceeded its limit of $LIMIT_SECONDS s (no report written)" >&2
fi
exit "$rc"
