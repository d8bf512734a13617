# JVM defaults of the sparkgate command, the one place they are set: sourced by bin/sparkgate (the
# distribution) and by ./sparkgate (a source checkout), after they set JAVA (the java command to run). Sets
# the array SPARKGATE_JVM_DEFAULTS and, unless set already, exports MALLOC_ARENA_MAX (see below).
#
# Defaults for a small always-on service, not for a batch job: the JVM's own defaults size the heap by the
# machine (a quarter of its memory) and give little back, so an idle server held ~850 MB. The heap starts
# small, may grow to 1 GB (100,000 stored batches need a few tens of MB), and is given back when mostly free;
# after a collection it keeps 40-70% free (with 10-30% the old generation filled again within seconds
# whenever H2's page cache or a burst promoted objects).
#
# G1, not the serial collector: serving random list pages over 100,000 batches, H2's page cache churns the
# old generation, and the serial collector then stopped every request for a full collection (80-105 ms,
# 3 in 15 s), which made that list's p99 84 ms at 220 req/s; G1 collects the old generation concurrently
# (p99 14-18 ms at 300 req/s, same data and load, one run each on 2 cores). Its footprint is what the serial
# one saved, given back two ways: at most 2 malloc arenas (glibc makes one per thread that allocates, 64 MB
# each, and G1's worker threads all allocate), and G1PeriodicGCInterval, a concurrent cycle after a minute
# with no collection, so an idle server returns the heap a burst grew within a minute (a cycle that never runs
# under load). Not every second: each cycle costs ~70 ms of CPU, so an idle server then took 7% of a core
# (1,730 ms of CPU in 20 s against 340 ms without, measured with /proc/PID/stat), CPU taken from the Spark
# applications on the same cores. Idle 5 s after 100 finished batches (BENCH_PHASES=memory, one run each):
# serial 252 MB, G1 alone 298-302 MB, G1 with 2 arenas 265 MB. The arena cap is the server's own: the
# spark-submit wrapper takes it off again (SPARKGATE_MALLOC_ARENA_MAX says that it was ours), so an
# application runs as it would directly.
#
# And TrimNativeHeapInterval: every second the JVM hands glibc's freed memory back to the kernel
# (malloc_trim), chiefly what the JIT compilers' arenas freed after the first requests, which glibc keeps
# otherwise (same figure, two runs each: 258-270 MB without, 241-248 MB with; an idle server's CPU in 30 s
# 490-550 ms without, 540-570 ms with). Only where the JVM has the option (JDK 17.0.9+, 21.0.1+, 22+) and
# glibc's trim exists (Linux): an older JDK refuses to start on an option it does not know.
#
# SPARKGATE_JAVA_OPTS come after these on the command line, so any of them can be overridden there (e.g.
# SPARKGATE_JAVA_OPTS="-Xmx4g"); a collector named there (e.g. -XX:+UseSerialGC) replaces G1, since the JVM
# refuses to start with two (G1's own options are then ignored).
SPARKGATE_JVM_DEFAULTS=(-Xms32m -Xmx1g -XX:MinHeapFreeRatio=40 -XX:MaxHeapFreeRatio=70 -XX:G1PeriodicGCInterval=60000)
sparkgate_own_gc=false
for sparkgate_opt in ${SPARKGATE_JAVA_OPTS:-}; do
  case "$sparkgate_opt" in -XX:+Use*GC) sparkgate_own_gc=true ;; esac
done
if ! $sparkgate_own_gc; then
  SPARKGATE_JVM_DEFAULTS=(-XX:+UseG1GC "${SPARKGATE_JVM_DEFAULTS[@]}")
fi
unset sparkgate_own_gc sparkgate_opt

# sparkgate_jdk_trims JAVA: whether the JDK of the java command JAVA has -XX:TrimNativeHeapInterval (its
# release file's JAVA_VERSION, so no JVM is started to ask) and runs on Linux.
sparkgate_jdk_trims() {
  local bin release version major update
  [ "$(uname -s)" = Linux ] || return 1
  bin=$(command -v -- "$1") || return 1
  release=$(dirname -- "$(dirname -- "$(readlink -f -- "$bin")")")/release
  [ -f "$release" ] || return 1
  version=$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$release")
  IFS=. read -r major _ update _ <<<"$version"
  case "$major" in ''|*[!0-9]*) return 1 ;; esac
  case "$update" in ''|*[!0-9]*) update=0 ;; esac
  [ "$major" -ge 22 ] || { [ "$major" -eq 21 ] && [ "$update" -ge 1 ]; } || { [ "$major" -eq 17 ] && [ "$update" -ge 9 ]; }
}
if sparkgate_jdk_trims "${JAVA:-java}"; then
  SPARKGATE_JVM_DEFAULTS+=(-XX:TrimNativeHeapInterval=1000)
fi
unset -f sparkgate_jdk_trims
if [ -z "${MALLOC_ARENA_MAX+set}" ]; then
  export MALLOC_ARENA_MAX=2 SPARKGATE_MALLOC_ARENA_MAX=2
fi

# sparkgate_class_archive ARCHIVE JAR: sets the array SPARKGATE_CLASS_ARCHIVE to the options of class-data
# sharing for a server started from JAR. A server start loads ~10,000 classes (Armeria, gRPC, protobuf, H2,
# Flyway, Jackson); read from an archive of them, a start takes about half the CPU (measured on 2 cores:
# 12.5-13.2 s of CPU without, 5.4-7.0 s with), which is most of the start-up time on a small machine. The
# archive is written by a server's JVM as it exits (-XX:ArchiveClassesAtExit, to ARCHIVE.<its pid>, so two
# servers never write one file) and taken as ARCHIVE by the next start once that JVM is gone; it is used only
# while newer than JAR (a rebuild makes a new one; the JVM itself also refuses an archive of other jars or
# another JDK, and then starts without it). Nothing when ARCHIVE's directory is not writable.
#
# Not with an agent or a flight recording started with the JVM (in SPARKGATE_JAVA_OPTS): Java 17.0.15 was
# seen to crash (SIGSEGV in KlassFactory::check_shared_class_file_load_hook) starting from a dynamic
# archive with -XX:StartFlightRecording; such a JVM starts without sharing. (JFR.start by jcmd later is fine.)
sparkgate_class_archive() {
  local archive=$1 jar=$2 dump pid opt
  SPARKGATE_CLASS_ARCHIVE=()
  for opt in ${SPARKGATE_JAVA_OPTS:-}; do
    case "$opt" in -javaagent:*|-agentlib:*|-agentpath:*|-XX:StartFlightRecording*|-Xshare:*) return 0 ;; esac
  done
  for dump in "$archive".*; do
    [ -f "$dump" ] || continue
    pid=${dump##*.}
    case "$pid" in *[!0-9]*) continue ;; esac
    kill -0 "$pid" 2>/dev/null && continue # still running: its dump comes at its exit
    if [ "$dump" -nt "$jar" ]; then mv -f "$dump" "$archive" 2>/dev/null || true; else rm -f "$dump"; fi
  done
  # -Xlog:cds=off: the JVM's notes on classes it cannot archive are no news for an operator.
  if [ -f "$archive" ] && [ "$archive" -nt "$jar" ]; then
    SPARKGATE_CLASS_ARCHIVE=(-XX:SharedArchiveFile="$archive" -Xlog:cds=off -Xlog:cds+dynamic=off)
  elif [ -w "$(dirname -- "$archive")" ]; then
    SPARKGATE_CLASS_ARCHIVE=(-XX:ArchiveClassesAtExit="$archive.$BASHPID" -Xlog:cds=off -Xlog:cds+dynamic=off)
  fi
}
