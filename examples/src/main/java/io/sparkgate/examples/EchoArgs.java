package io.sparkgate.examples;

/**
 * Prints each argument it was given on its own line, as {@code arg[i]=<value>}, exactly as received,
 * then the Spark properties named {@code spark.sparkgate.*} it runs with (spark-submit hands the
 * application's conf to its driver as system properties), as {@code conf <key>=<value>}.
 *
 * <p>Starts no SparkContext. Tests submit arguments full of shell metacharacters and check that the
 * application saw them unchanged: proof that no shell sits between a request and the application.
 */
public final class EchoArgs {

  private EchoArgs() {
  }

  public static void main(String[] args) {
    System.out.println("argc=" + args.length);
    for (int i = 0; i < args.length; i++) {
      System.out.println("arg[" + i + "]=" + args[i]);
    }
    new java.util.TreeMap<>(System.getProperties()).forEach((k, v) -> {
      if (k.toString().startsWith("spark.sparkgate.")) {
        System.out.println("conf " + k + "=" + v);
      }
    });
    System.out.flush();
  }
}
