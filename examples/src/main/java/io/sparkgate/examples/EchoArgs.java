package io.sparkgate.examples;

/**
 * Prints each argument it was given on its own line, as {@code arg[i]=<value>}, exactly as received.
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
    System.out.flush();
  }
}
