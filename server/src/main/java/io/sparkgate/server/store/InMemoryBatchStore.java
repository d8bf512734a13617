package io.sparkgate.server.store;

import io.sparkgate.server.batch.Batch;
import io.sparkgate.server.launch.LaunchInfo;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/** Batches in memory: lost when the server stops. For tests that need no durability. */
public final class InMemoryBatchStore implements BatchStore {

    private final ConcurrentSkipListMap<Integer, Batch> batches = new ConcurrentSkipListMap<>();
    private final Map<String, Integer> requestIds = new ConcurrentHashMap<>();
    private final Map<Integer, LaunchInfo> launches = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> exitCodes = new ConcurrentHashMap<>();
    private int nextId;

    @Override
    public synchronized int insert(Batch batch, String requestId) {
        int id = nextId;
        if (!requestId.isEmpty() && requestIds.putIfAbsent(requestId, id) != null) {
            throw new RequestIdTakenException(requestId, null);
        }
        nextId++;
        batches.put(id, new Batch(id, batch.request(), batch.owner(), batch.appId(), batch.sparkUiUrl(),
                batch.driverLogUrl(), batch.history(), batch.createdTime()));
        return id;
    }

    @Override
    public void save(Batch batch) {
        batches.computeIfPresent(batch.id(), (id, old) -> batch);
    }

    @Override
    public Optional<Batch> get(int id) {
        return Optional.ofNullable(batches.get(id));
    }

    @Override
    public Optional<Batch> findByRequestId(String requestId) {
        return Optional.ofNullable(requestIds.get(requestId)).flatMap(this::get);
    }

    @Override
    public List<Batch> list(int from, int size) {
        return batches.values().stream().skip(from).limit(size).toList();
    }

    @Override
    public int count() {
        return batches.size();
    }

    @Override
    public List<Batch> listUnfinished() {
        return batches.values().stream().filter(b -> !b.state().isFinal()).toList();
    }

    @Override
    public List<Integer> finishedBefore(Instant time) {
        return batches.values().stream()
                .filter(b -> b.state().isFinal() && b.lastChange().time().isBefore(time))
                .map(Batch::id)
                .toList();
    }

    @Override
    public void saveLaunch(int id, LaunchInfo launch) {
        launches.put(id, launch);
    }

    @Override
    public Optional<LaunchInfo> launch(int id) {
        return Optional.ofNullable(launches.get(id));
    }

    @Override
    public void saveExitCode(int id, int exitCode) {
        exitCodes.put(id, exitCode);
    }

    @Override
    public OptionalInt exitCode(int id) {
        Integer code = exitCodes.get(id);
        return code == null ? OptionalInt.empty() : OptionalInt.of(code);
    }

    @Override
    public boolean delete(int id) {
        requestIds.values().remove(id);
        launches.remove(id);
        exitCodes.remove(id);
        return batches.remove(id) != null;
    }
}
