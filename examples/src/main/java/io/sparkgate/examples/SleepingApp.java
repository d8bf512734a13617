package io.sparkgate.examples;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Starts a SparkContext, then prints {@code tick i} once a second for N seconds (default 60).
 * A long-running payload for testing cancellation and log streaming.
 */
public final class SleepingApp {

  private SleepingApp() {
  }

  public static void main(String[] args) throws InterruptedException {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;

    SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "Sparkgate SleepingApp");
    JavaSparkContext sc = new JavaSparkContext(conf);
    try {
      for (int i = 0; i < seconds; i++) {
        System.out.println("tick " + i);
        System.out.flush();
        Thread.sleep(1000L);
      }
    } finally {
      sc.stop();
    }
  }
}
