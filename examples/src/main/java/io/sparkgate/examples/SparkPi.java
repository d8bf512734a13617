package io.sparkgate.examples;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Monte Carlo estimate of Pi.
 *
 * <p>Usage: {@code SparkPi [slices]} (default 2). Master and app name come from the Spark conf
 * ({@code --master}, {@code --name} of spark-submit); the code only supplies a default name.
 */
public final class SparkPi {

  private static final int SAMPLES_PER_SLICE = 100_000;

  private SparkPi() {
  }

  public static void main(String[] args) {
    int slices = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    if (slices < 1) {
      throw new IllegalArgumentException("slices must be >= 1, got " + slices);
    }
    // long arithmetic: slices * samples may exceed Integer.MAX_VALUE for big inputs.
    long total = (long) slices * SAMPLES_PER_SLICE;
    int n = (int) Math.min(total, Integer.MAX_VALUE);

    SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "Sparkgate SparkPi");
    JavaSparkContext sc = new JavaSparkContext(conf);
    try {
      List<Integer> seeds = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        seeds.add(i);
      }
      int inside = sc.parallelize(seeds, slices)
          .map(i -> {
            double x = Math.random() * 2 - 1;
            double y = Math.random() * 2 - 1;
            return (x * x + y * y <= 1) ? 1 : 0;
          })
          .reduce(Integer::sum);
      System.out.println("Pi is roughly " + 4.0 * inside / n);
      // The user the application runs as: spark-submit --proxy-user shows here.
      System.out.println("Spark user: " + sc.sparkUser());
      System.out.flush();
    } finally {
      sc.stop();
    }
  }
}
