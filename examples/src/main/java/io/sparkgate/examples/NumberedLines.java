package io.sparkgate.examples;

/**
 * Prints {@code line 0} .. {@code line n-1} (default n = 100), optionally sleeping delayMillis
 * between lines.
 *
 * <p>Deliberately starts no SparkContext: it goes through spark-submit like any application but
 * finishes in about a JVM start-up, which makes it a cheap payload for output-streaming tests.
 */
public final class NumberedLines {

  private NumberedLines() {
  }

  public static void main(String[] args) throws InterruptedException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    long delayMillis = args.length > 1 ? Long.parseLong(args[1]) : 0L;
    for (int i = 0; i < n; i++) {
      System.out.println("line " + i);
      System.out.flush();
      if (delayMillis > 0 && i < n - 1) {
        Thread.sleep(delayMillis);
      }
    }
  }
}
