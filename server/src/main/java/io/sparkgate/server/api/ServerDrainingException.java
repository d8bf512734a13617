package io.sparkgate.server.api;

/** Ends open streams when the server drains: their clients resume on another server. */
final class ServerDrainingException extends RuntimeException {

    ServerDrainingException() {
        super("the server is shutting down; resume on another server", null, false, false);
    }
}
