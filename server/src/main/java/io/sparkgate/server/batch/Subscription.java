package io.sparkgate.server.batch;

/** A follower's link to a batch's feed. */
public interface Subscription {

    /** The sink can take more: resume sending. */
    void wake();

    /** The client is gone: stop and free everything at once. */
    void cancel();
}
