package io.sparkgate.server.store;

/**
 * A write fenced by a {@link Lease} found the batch held by someone else (or by this replica under a
 * later claim), or gone: nothing was written. The replica must let the batch go and stop acting on it.
 */
public final class LeaseLostException extends RuntimeException {

    private final transient Lease lease;

    public LeaseLostException(Lease lease) {
        super("batch " + lease.batchId() + ": the lease of " + lease.holder() + " (epoch " + lease.epoch()
              + ") is no longer held");
        this.lease = lease;
    }

    public Lease lease() {
        return lease;
    }
}
