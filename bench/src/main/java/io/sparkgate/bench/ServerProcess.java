package io.sparkgate.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the bench starts and measures: the real server ({@code java -jar server/target/sparkgate-server.jar
 * server ...}) or the baseline server. Everything it starts is stopped by a shutdown hook too, so a
 * run cut short by its time limit leaves no process behind.
 */
final class ServerProcess implements AutoCloseable {

    private static final List<Process> STARTED = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(ServerProcess::stop), "bench-cleanup"));
    }

    private final String name;
    private final Process process;
    private final int port;
    private final long startupNanos;

    private ServerProcess(String name, Process process, int port, long startupNanos) {
        this.name = name;
        this.process = process;
        this.port = port;
        this.startupNanos = startupNanos;
    }

    /**
     * Starts the real server on 127.0.0.1 as a user does, {@code ./sparkgate server} (its JVM defaults
     * included, SPARKGATE_JAVA_OPTS unset; the script execs the JVM, so the process measured is the
     * server's), and waits until it answers REST; {@code config} may be null.
     */
    static ServerProcess startSparkgate(String name, Path repo, int port, Path dataDir, Path config, Path logFile)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(repo.resolve("sparkgate").toString(),
                "server", "--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
        if (config != null) {
            cmd.add("--config");
            cmd.add(config.toString());
        }
        return start(name, cmd, repo, port, logFile);
    }

    /**
     * Starts the bench module's baseline server in its own JVM, with the JVM options {@code ./sparkgate}
     * gives the real server (read from the script, so the two never drift apart).
     */
    static ServerProcess startBaseline(Path repo, int port, Path payloadDir, Path logFile)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(javaBin()));
        cmd.addAll(defaultJavaOptions(repo));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                BaselineServer.class.getName(), Integer.toString(port), payloadDir.toString()));
        return start("baseline", cmd, repo, port, logFile);
    }

    private static ServerProcess start(String name, List<String> cmd, Path cwd, int port, Path logFile)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        Map<String, String> env = pb.environment();
        env.remove("SPARK_HOME");
        env.put("JAVA_HOME", System.getProperty("java.home")); // the same JVM as the bench and the baseline
        env.keySet().removeIf(k -> k.startsWith("SPARKGATE_"));
        long t0 = System.nanoTime();
        Process p = pb.start();
        STARTED.add(p);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/batches?size=0"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " server exited with " + p.exitValue() + " at start; see " + logFile);
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                stop(p);
                throw new IllegalStateException(name + " server did not answer within 90 s; see " + logFile);
            }
            Thread.sleep(20);
        }
        long startup = System.nanoTime() - t0;
        System.out.printf("[bench] %s server up on port %d, pid %d, in %d ms%n", name, port, p.pid(), startup / 1_000_000);
        return new ServerProcess(name, p, port, startup);
    }

    int port() {
        return port;
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** From process start until the first 200 from {@code GET /batches?size=0}. */
    long startupNanos() {
        return startupNanos;
    }

    /** User plus system CPU time of the server process so far, in clock ticks (/proc/PID/stat). */
    long cpuTicks() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after "pid (comm) ": state is field 3, utime 14, stime 15 (1-based, man proc)
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** Resident set size of the server process now, in bytes (VmRSS of /proc/PID/status). */
    long residentBytes() throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status")).stream()
                .filter(l -> l.startsWith("VmRSS:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")) * 1024)
                .findFirst().orElseThrow(() -> new IOException("no VmRSS for pid " + process.pid()));
    }

    /** Live heap after a full GC, in bytes: the total of {@code jcmd PID GC.class_histogram}. */
    long liveHeapBytes() throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid()), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes());
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IllegalStateException("jcmd GC.class_histogram failed: " + out.lines().limit(5).toList());
        }
        List<String> lines = out.lines().filter(l -> l.startsWith("Total")).toList();
        if (lines.isEmpty()) {
            throw new IllegalStateException("no Total line in jcmd output");
        }
        String[] parts = lines.get(lines.size() - 1).trim().split("\\s+");
        return Long.parseLong(parts[2]);
    }

    /** The processes this server started and that still run (its batches' drivers), e.g. to kill after a crash. */
    List<ProcessHandle> descendants() {
        return process.descendants().toList();
    }

    /**
     * SIGKILL, as a crash: no drain, nothing stopped on the way out (its children live on); returns when
     * the process is gone.
     */
    void crash() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
        STARTED.remove(process);
        System.out.printf("[bench] %s server killed (SIGKILL)%n", name);
    }

    @Override
    public void close() {
        stop(process);
        STARTED.remove(process);
        System.out.printf("[bench] %s server stopped%n", name);
    }

    private static void stop(Process p) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy(); // SIGTERM: the server stops its batches' applications on the way out
        try {
            // Room for the drain and, once per build, the class-data archive the JVM writes as it exits.
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The JVM options {@code ./sparkgate} gives the server by default: the array that
     * {@code dist/src/main/bin/jvm-defaults.sh} (the one place they are set) defines, as bash sees it.
     */
    static List<String> defaultJavaOptions(Path repo) throws IOException {
        Path defaults = repo.resolve("dist/src/main/bin/jvm-defaults.sh");
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", ". \"$1\" && printf '%s\\n' \"${SPARKGATE_JVM_DEFAULTS[@]}\"",
                "jvm-defaults", defaults.toString()).redirectErrorStream(true);
        pb.environment().remove("SPARKGATE_JAVA_OPTS"); // the defaults as a user gets them, not this shell's
        pb.environment().put("JAVA", javaBin()); // whether the JDK has an option depends on which JDK
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isBlank()) {
                throw new IllegalStateException("no JVM defaults from " + defaults + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
