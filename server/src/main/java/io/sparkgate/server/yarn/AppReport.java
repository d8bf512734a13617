package io.sparkgate.server.yarn;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * What YARN says about one application, as far as a batch cares.
 *
 * @param appId e.g. {@code application_1700000000000_0001}
 * @param phase the batch-level meaning of {@code yarnState} and {@code finalStatus}
 * @param yarnState YARN's application state, e.g. {@code RUNNING}
 * @param finalStatus YARN's final application status, e.g. {@code SUCCEEDED}; {@code UNDEFINED} while running
 * @param trackingUrl the Spark UI through the ResourceManager's proxy (or the history link); may be empty
 * @param diagnostics YARN's diagnostics; may be empty
 * @param amContainer the current attempt's ApplicationMaster container, once known
 * @param user the user the application runs as (the proxy user, if any); its aggregated logs are filed under it
 */
public record AppReport(String appId, AppPhase phase, String yarnState, String finalStatus, String trackingUrl,
                        String diagnostics, Optional<AmContainer> amContainer, String user) {
    public AppReport {
        requireNonNull(appId, "appId");
        requireNonNull(phase, "phase");
        requireNonNull(yarnState, "yarnState");
        requireNonNull(finalStatus, "finalStatus");
        requireNonNull(trackingUrl, "trackingUrl");
        requireNonNull(diagnostics, "diagnostics");
        requireNonNull(amContainer, "amContainer");
        requireNonNull(user, "user");
    }
}
