package io.sparkgate.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Starts a SparkContext, then prints {@code tick i} once a second for N seconds (default 60), or until
 * the file named by the optional second argument exists (on the driver's machine): then it ends with
 * success. A long-running payload for testing cancellation, log streaming and restarts.
 */
public final class SleepingApp {

  private SleepingApp() {
  }

  public static void main(String[] args) throws InterruptedException {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    Path stopFile = args.length > 1 ? Path.of(args[1]) : null;

    SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "Sparkgate SleepingApp");
    JavaSparkContext sc = new JavaSparkContext(conf);
    try {
      for (int i = 0; i < seconds && (stopFile == null || !Files.exists(stopFile)); i++) {
        System.out.println("tick " + i);
        System.out.flush();
        Thread.sleep(1000L);
      }
    } finally {
      sc.stop();
    }
  }
}
