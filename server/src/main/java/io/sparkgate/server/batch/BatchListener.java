package io.sparkgate.server.batch;

/** Told of each saved change of a batch (state, app id). */
@FunctionalInterface
public interface BatchListener {
    void stateChanged(Batch batch);
}
