package io.sparkgate.server.store;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * Where and how a replica launched a batch, recorded before {@code spark-submit} starts: what a replica
 * taking the batch over needs to find its application rather than launch it a second time.
 *
 * @param home the launching replica's home, its host and data directory (a local-mode driver runs there)
 * @param tag the YARN tag the application is submitted with; empty in local mode
 */
public record LaunchStart(String home, Optional<String> tag) {

    public LaunchStart {
        requireNonNull(home, "home");
        requireNonNull(tag, "tag");
    }
}
