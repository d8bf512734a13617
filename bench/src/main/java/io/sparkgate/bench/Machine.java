package io.sparkgate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The machine and the code a run measured, for the report's header. */
final class Machine {

    private Machine() {
    }

    static String describe() {
        String cpu = "unknown CPU";
        String mem = "unknown memory";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
            mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024 / 1024 + " GiB RAM").findFirst().orElse(mem);
        } catch (IOException e) {
            // leave unknown
        }
        String load = "";
        try {
            load = ", load average at start " + Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            // leave out
        }
        return "nproc " + Runtime.getRuntime().availableProcessors() + ", " + cpu + ", " + mem + load
               + "; Java " + System.getProperty("java.runtime.version") + ", " + System.getProperty("os.name") + " "
               + System.getProperty("os.version");
    }

    static String gitCommit(Path repo) {
        String head = run(repo, "git", "rev-parse", "--short=12", "HEAD");
        String dirty = run(repo, "git", "status", "--porcelain", "--untracked-files=no");
        String branch = run(repo, "git", "rev-parse", "--abbrev-ref", "HEAD");
        return head + " (" + branch + ")" + (dirty.isBlank() ? "" : " with uncommitted changes");
    }

    private static String run(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }
}
