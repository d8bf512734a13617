package io.sparkgate.server.api;

import io.sparkgate.server.batch.Subscription;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A stream's link to its feed, made before the feed exists. grpc-java's manual-flow-control example
 * installs the call's cancel and ready handlers first and only then starts producing: a feed woken at once
 * by its first lines may otherwise finish, or its client cancel, before anyone listens. The handlers
 * forward to this object; a cancel that comes before {@link #set} cancels the feed as soon as it is set,
 * and a wake before it is not needed (a new feed sends what it can at once).
 */
final class LateSubscription implements Subscription {

    private final AtomicReference<Subscription> feed = new AtomicReference<>();
    private volatile boolean cancelled;

    void set(Subscription subscription) {
        feed.set(subscription);
        if (cancelled) {
            subscription.cancel();
        }
    }

    @Override
    public void wake() {
        Subscription s = feed.get();
        if (s != null) {
            s.wake();
        }
    }

    @Override
    public void cancel() {
        cancelled = true;
        Subscription s = feed.get();
        if (s != null) {
            s.cancel();
        }
    }
}
