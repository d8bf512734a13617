package io.sparkgate.server.security;

import io.sparkgate.server.values.AccessDeniedException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.BatchRequest;
import io.sparkgate.server.values.BatchState;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.values.StateChange;
import io.sparkgate.server.config.AccessSettings;
import io.sparkgate.server.config.AccessSettings.OthersBatches;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The access rules one by one; AccessControlTest checks them over the wire with real batches. */
class AccessPolicyTest {

    private static final Caller ALICE = Caller.of("alice");
    private static final Caller BOB = Caller.of("bob");
    private static final Caller ROOT = Caller.of("root");
    private static final Caller VIEWER = Caller.of("viewer");
    private static final Caller OPERATOR = Caller.of("operator");

    private static AccessSettings settings(boolean impersonation, OthersBatches others) {
        return new AccessSettings(impersonation, Set.of("root"), Set.of(AccessSettings.EVERYONE), Set.of("viewer"),
                Set.of("operator"), others);
    }

    private static Batch batch(String owner, String proxyUser) {
        BatchRequest request = new BatchRequest("/jobs/app.jar", "", proxyUser, "", List.of(), List.of(), List.of(),
                List.of(), List.of(), "", OptionalInt.empty(), "", OptionalInt.empty(), OptionalInt.empty(), "",
                Map.of());
        Instant t = Instant.parse("2026-11-26T00:00:00Z");
        return new Batch(7, request, owner, "", "", "", List.of(new StateChange(BatchState.RUNNING, t, "up")), t);
    }

    @Test
    void impersonationFollowsLivysRule() {
        AccessPolicy on = new AccessPolicy(settings(true, OthersBatches.LISTED));
        assertThat(on.runAs(ALICE, "alice")).isEqualTo("alice");
        assertThat(on.runAs(ROOT, "alice")).isEqualTo("alice");
        // Without a proxy user the batch runs as its caller, as on Livy with impersonation enabled.
        assertThat(on.runAs(ALICE, "")).isEqualTo("alice");
        assertThat(on.runAs(Caller.ANONYMOUS, "")).isEmpty();
        assertThatThrownBy(() -> on.runAs(ALICE, "bob"))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("'alice' may not run batches as 'bob'")
                .hasMessageContaining("sparkgate.access.superusers");
        // Modify and view users are not superusers: they may not impersonate.
        assertThatThrownBy(() -> on.runAs(OPERATOR, "bob")).isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> on.runAs(Caller.ANONYMOUS, "bob"))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("sparkgate.auth.mode is none");

        AccessPolicy off = new AccessPolicy(settings(false, OthersBatches.LISTED));
        assertThatThrownBy(() -> off.runAs(ROOT, "root"))
                .isInstanceOf(InvalidBatchRequestException.class)
                .hasMessageContaining("impersonation is disabled");
        assertThat(off.runAs(ALICE, "")).isEmpty();
    }

    @Test
    void ownerProxyUserAndAdminsReadOthersSeeTheBatchWithoutItsLog() {
        AccessPolicy policy = new AccessPolicy(settings(true, OthersBatches.LISTED));
        Batch alicesAsBob = batch("alice", "bob");
        for (Caller reader : List.of(ALICE, BOB, ROOT, VIEWER, OPERATOR)) {
            assertThat(policy.canRead(reader, alicesAsBob)).as(reader.user()).isTrue();
            assertThatCode(() -> policy.checkRead(reader, alicesAsBob)).doesNotThrowAnyException();
        }
        Caller carol = Caller.of("carol");
        assertThat(policy.canRead(carol, alicesAsBob)).isFalse();
        assertThat(policy.visible(carol, alicesAsBob)).isSameAs(alicesAsBob);
        assertThatThrownBy(() -> policy.checkRead(carol, alicesAsBob))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("'carol' may not read batch 7");
        assertThat(policy.listScope(carol)).isEmpty();
    }

    @Test
    void onlyOwnerProxyUserSuperusersAndModifyUsersDelete() {
        AccessPolicy policy = new AccessPolicy(settings(true, OthersBatches.LISTED));
        Batch alicesAsBob = batch("alice", "bob");
        for (Caller deleter : List.of(ALICE, BOB, ROOT, OPERATOR)) {
            assertThatCode(() -> policy.checkModify(deleter, alicesAsBob)).as(deleter.user()).doesNotThrowAnyException();
        }
        assertThatThrownBy(() -> policy.checkModify(VIEWER, alicesAsBob))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("may not delete batch 7");
    }

    @Test
    void hiddenBatchesDoNotExistForOthers() {
        AccessPolicy policy = new AccessPolicy(settings(false, OthersBatches.HIDDEN));
        Batch alices = batch("alice", "");
        Caller carol = Caller.of("carol");
        assertThatThrownBy(() -> policy.visible(carol, alices)).isInstanceOf(BatchNotFoundException.class);
        assertThatThrownBy(() -> policy.checkModify(carol, alices)).isInstanceOf(BatchNotFoundException.class);
        assertThat(policy.listScope(carol)).isEqualTo(Optional.of("carol"));
        assertThat(policy.listScope(VIEWER)).isEmpty();
        assertThat(policy.listScope(ROOT)).isEmpty();
        assertThat(policy.visible(VIEWER, alices)).isSameAs(alices);
    }

    @Test
    void withoutAuthenticationEveryoneIsTheSameAnonymousCaller() {
        AccessPolicy policy = new AccessPolicy(settings(false, OthersBatches.HIDDEN));
        Batch anonymous = batch("", "");
        assertThatCode(() -> policy.checkModify(Caller.ANONYMOUS, anonymous)).doesNotThrowAnyException();
        assertThat(policy.listScope(Caller.ANONYMOUS)).isEmpty();
        // A batch created without authentication belongs to nobody: an authenticated user cannot read it.
        assertThat(policy.canRead(ALICE, anonymous)).isFalse();
    }

    @Test
    void usersOutsideTheAllowedListAreRefusedEverything() {
        AccessPolicy policy = new AccessPolicy(new AccessSettings(false, Set.of("root"), Set.of("alice"), Set.of(),
                Set.of(), OthersBatches.LISTED));
        assertThat(policy.admit(ALICE)).isEqualTo(ALICE);
        assertThat(policy.admit(ROOT)).isEqualTo(ROOT);
        assertThatThrownBy(() -> policy.admit(BOB))
                .isInstanceOf(AccessDeniedException.class)
                .hasMessageContaining("sparkgate.access.allowed-users");
    }
}
