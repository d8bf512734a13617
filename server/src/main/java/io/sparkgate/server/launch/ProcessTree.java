package io.sparkgate.server.launch;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a {@code spark-submit} process tree is stopped, for both launchers: SIGTERM to the process and all
 * its descendants now (the driver JVM is a child of our {@code bin/spark-submit}), SIGKILL to whatever is
 * left after the grace period. Returns at once; the SIGKILL runs on the given scheduler.
 */
public final class ProcessTree {

    private static final Logger log = LoggerFactory.getLogger(ProcessTree.class);

    private ProcessTree() {}

    public static void kill(int batchId, ProcessHandle root, Duration grace, ScheduledExecutorService scheduler) {
        root.descendants().forEach(ProcessHandle::destroy);
        root.destroy();
        scheduler.schedule(() -> {
            root.descendants().forEach(ProcessHandle::destroyForcibly);
            if (root.isAlive()) {
                log.info("batch {}: spark-submit still alive {} ms after SIGTERM, killing it", batchId, grace.toMillis());
                root.destroyForcibly();
            }
        }, grace.toMillis(), TimeUnit.MILLISECONDS);
    }
}
