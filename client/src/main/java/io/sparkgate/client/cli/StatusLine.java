package io.sparkgate.client.cli;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * A spinner with the elapsed time on the last line of a terminal while a command waits. Nothing at all
 * when the output is not a terminal, so logs and pipes get clean lines.
 */
final class StatusLine {

    private static final String SPINNER = "|/-\\";

    private final PrintWriter err;
    private final String what;
    private final long started = System.nanoTime();
    private final Thread thread;
    private boolean shown;

    private StatusLine(PrintWriter err, String what, boolean live) {
        this.err = err;
        this.what = what;
        this.thread = live ? new Thread(this::spin, "sparkgate-status") : null;
        if (thread != null) {
            thread.setDaemon(true);
            thread.start();
        }
    }

    static StatusLine start(PrintWriter err, String what) {
        return new StatusLine(err, what, System.console() != null);
    }

    /** Erases the status line so a log line can take its place. */
    synchronized void clear() {
        if (shown) {
            err.print("\r\033[K");
            err.flush();
            shown = false;
        }
    }

    void stop() {
        if (thread != null) {
            thread.interrupt();
        }
        clear();
    }

    private void spin() {
        int i = 0;
        while (!Thread.currentThread().isInterrupted()) {
            synchronized (this) {
                Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
                err.printf("\r\033[K%c following %s  %d:%02d", SPINNER.charAt(i++ % SPINNER.length()), what,
                        elapsed.toMinutes(), elapsed.toSecondsPart());
                err.flush();
                shown = true;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
