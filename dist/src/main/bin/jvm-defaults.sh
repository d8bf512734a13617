# JVM defaults of the sparkgate command, the one place they are set: sourced by bin/sparkgate (the
# distribution) and by ./sparkgate (a source checkout). Sets the array SPARKGATE_JVM_DEFAULTS.
#
# Defaults for a small always-on service, not for a batch job: the JVM's own defaults size the heap by
# the machine (a quarter of its memory) and give little back, so an idle server held ~850 MB. The serial
# collector has the smallest footprint and no concurrent threads competing with requests on a few cores;
# the heap starts small, may grow to 1 GB (100,000 stored batches need a few tens of MB), and is given back
# when mostly free. SPARKGATE_JAVA_OPTS come after these on the command line, so any of them can be
# overridden there (e.g. SPARKGATE_JAVA_OPTS="-Xmx4g"); a collector named there (e.g. -XX:+UseG1GC)
# replaces the serial one, since the JVM refuses to start with two.
SPARKGATE_JVM_DEFAULTS=(-Xms32m -Xmx1g -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30)
sparkgate_own_gc=false
for sparkgate_opt in ${SPARKGATE_JAVA_OPTS:-}; do
  case "$sparkgate_opt" in -XX:+Use*GC) sparkgate_own_gc=true ;; esac
done
if ! $sparkgate_own_gc; then
  SPARKGATE_JVM_DEFAULTS=(-XX:+UseSerialGC "${SPARKGATE_JVM_DEFAULTS[@]}")
fi
unset sparkgate_own_gc sparkgate_opt
