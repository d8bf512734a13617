package io.sparkgate.server.launch;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Receives the output of {@code spark-submit} processes. {@code SparkLauncher} reads a child's merged
 * stdout/stderr on its own thread and logs each line to a {@code java.util.logging} logger named by
 * {@code redirectToLog}; one handler on the common parent logger routes each line to its batch.
 */
final class OutputCapture extends Handler {

    static final String PARENT_LOGGER = "io.sparkgate.batch-output";

    // Held so the JUL logger (weakly referenced by LogManager) keeps this handler.
    private final Logger parent;
    private final ConcurrentMap<String, Consumer<String>> sinks = new ConcurrentHashMap<>();

    OutputCapture() {
        parent = Logger.getLogger(PARENT_LOGGER);
        parent.setUseParentHandlers(false);
        parent.setLevel(Level.INFO);
        parent.addHandler(this);
    }

    /** Name of the logger whose lines go to {@code sink}. */
    String register(int batchId, String attempt, Consumer<String> sink) {
        String name = PARENT_LOGGER + ".batch-" + batchId + "-" + attempt;
        sinks.put(name, sink);
        return name;
    }

    void unregister(String loggerName) {
        sinks.remove(loggerName);
    }

    @Override
    public void publish(LogRecord record) {
        Consumer<String> sink = sinks.get(record.getLoggerName());
        if (sink != null && record.getThrown() == null) {
            sink.accept(record.getMessage());
        }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {
        parent.removeHandler(this);
    }
}
