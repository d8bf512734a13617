package io.sparkgate.server.yarn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.yarn.api.records.ApplicationAttemptId;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.ApplicationReport;
import org.apache.hadoop.yarn.api.records.ContainerReport;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.api.records.YarnApplicationState;

/** A ResourceManager of simulated applications, counting the calls made to it. */
final class StubResourceManager implements ResourceManagerClient {

    private static final long CLUSTER_TS = 1_700_000_000_000L;

    private record App(ApplicationId id, String tag, YarnApplicationState state, FinalApplicationStatus status,
                       String diagnostics) {}

    private final Map<ApplicationId, App> apps = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    final AtomicLong listCalls = new AtomicLong();
    final AtomicLong kills = new AtomicLong();

    /** An application with {@code tag}, ACCEPTED. */
    String submit(String tag) {
        ApplicationId id = ApplicationId.newInstance(CLUSTER_TS, nextId.getAndIncrement());
        apps.put(id, new App(id, tag, YarnApplicationState.ACCEPTED, FinalApplicationStatus.UNDEFINED, ""));
        return id.toString();
    }

    void set(String appId, YarnApplicationState state, FinalApplicationStatus status, String diagnostics) {
        apps.computeIfPresent(ApplicationId.fromString(appId),
                (k, a) -> new App(a.id(), a.tag(), state, status, diagnostics));
    }

    YarnApplicationState state(String appId) {
        return apps.get(ApplicationId.fromString(appId)).state();
    }

    @Override
    public List<ApplicationReport> applicationsTagged(Set<String> tags) {
        listCalls.incrementAndGet();
        List<ApplicationReport> out = new ArrayList<>();
        for (App a : apps.values()) {
            if (tags.contains(a.tag())) {
                ApplicationReport r = ApplicationReport.newInstance(a.id(), null, "user", "default", "app",
                        "localhost", 0, null, a.state(), a.diagnostics(), "http://rm/proxy/" + a.id(), 0L, 0L, 0L,
                        a.status(), null, "", 0f, "SPARK", null);
                r.setApplicationTags(Set.of(a.tag()));
                out.add(r);
            }
        }
        return out;
    }

    @Override
    public Optional<ContainerReport> amContainer(ApplicationAttemptId attempt) {
        return Optional.empty();
    }

    @Override
    public void kill(ApplicationId appId) {
        kills.incrementAndGet();
        apps.computeIfPresent(appId, (k, a) -> new App(a.id(), a.tag(), YarnApplicationState.KILLED,
                FinalApplicationStatus.KILLED, "killed"));
    }

    @Override
    public void close() {}
}
