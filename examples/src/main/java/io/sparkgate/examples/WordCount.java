package io.sparkgate.examples;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaSparkContext;

import scala.Tuple2;

/**
 * Counts the words of a text file.
 *
 * <p>Usage: {@code WordCount <path> [top]} (top defaults to 10). Prints the most frequent words as
 * {@code word: count} lines, then {@code Distinct words: N}.
 */
public final class WordCount {

  private WordCount() {
  }

  /** Most frequent first, ties broken alphabetically, so the output is deterministic. */
  private static final class ByCountDesc implements Comparator<Tuple2<String, Integer>>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Tuple2<String, Integer> a, Tuple2<String, Integer> b) {
      int byCount = Integer.compare(b._2(), a._2());
      return byCount != 0 ? byCount : a._1().compareTo(b._1());
    }
  }

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("Usage: WordCount <path> [top]");
      System.exit(2);
    }
    String path = args[0];
    int top = args.length > 1 ? Integer.parseInt(args[1]) : 10;

    SparkConf conf = new SparkConf().setIfMissing("spark.app.name", "Sparkgate WordCount");
    JavaSparkContext sc = new JavaSparkContext(conf);
    try {
      JavaPairRDD<String, Integer> counts = sc.textFile(path)
          .flatMap(line -> Arrays.asList(line.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}']+"))
              .iterator())
          .map(word -> word.replaceAll("^'+|'+$", ""))
          .filter(word -> !word.isEmpty())
          .mapToPair(word -> new Tuple2<>(word, 1))
          .reduceByKey(Integer::sum)
          .cache();

      List<Tuple2<String, Integer>> topWords = counts.takeOrdered(top, new ByCountDesc());
      for (Tuple2<String, Integer> t : topWords) {
        System.out.println(t._1() + ": " + t._2());
      }
      System.out.println("Distinct words: " + counts.count());
      System.out.flush();
    } finally {
      sc.stop();
    }
  }
}
