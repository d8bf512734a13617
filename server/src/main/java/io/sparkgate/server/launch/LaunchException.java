package io.sparkgate.server.launch;

/** An application could not be started; the message says why. */
public final class LaunchException extends RuntimeException {
    public LaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}
