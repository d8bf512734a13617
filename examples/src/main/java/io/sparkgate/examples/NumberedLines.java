package io.sparkgate.examples;

/**
 * Prints {@code line 0} .. {@code line n-1} (default n = 100), optionally sleeping delayMillis
 * between lines and padding each line to at least {@code width} characters.
 *
 * <p>Deliberately starts no SparkContext: it goes through spark-submit like any application but
 * finishes in about a JVM start-up, which makes it a cheap payload for output-streaming tests.
 * With {@code --timestamps}, each line ends with the wall-clock time it was written in epoch
 * microseconds, for measuring how long a line takes to reach a follower.
 */
public final class NumberedLines {

  private NumberedLines() {
  }

  public static void main(String[] args) throws InterruptedException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    long delayMillis = args.length > 1 ? Long.parseLong(args[1]) : 0L;
    int width = args.length > 2 ? Integer.parseInt(args[2]) : 0;
    boolean timestamps = args.length > 3 && args[3].equals("--timestamps");
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < n; i++) {
      line.setLength(0);
      line.append("line ").append(i);
      if (timestamps) {
        java.time.Instant now = java.time.Instant.now();
        line.append(" t=").append(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000);
      }
      while (line.length() < width) {
        line.append(line.length() == width - 1 ? '|' : '.');
      }
      System.out.println(line);
      System.out.flush();
      if (delayMillis > 0 && i < n - 1) {
        Thread.sleep(delayMillis);
      }
    }
  }
}
