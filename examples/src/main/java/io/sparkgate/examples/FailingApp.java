package io.sparkgate.examples;

import java.util.Arrays;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Runs a tiny job and then fails on purpose, so spark-submit exits non-zero. Used to test how
 * failures are reported.
 */
public final class FailingApp {

  public static final String MESSAGE = "Sparkgate example failure: this app fails on purpose";

  private FailingApp() {
  }

  public static void main(String[] args) {
    SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "Sparkgate FailingApp");
    JavaSparkContext sc = new JavaSparkContext(conf);
    // The context is deliberately not stopped here: SparkSubmit's shutdown hook does it, the same
    // way as for a real application that dies with an exception.
    long n = sc.parallelize(Arrays.asList(1, 2, 3, 4, 5), 2).count();
    System.out.println("Counted " + n + " elements, now failing");
    System.out.flush();
    throw new IllegalStateException(MESSAGE);
  }
}
