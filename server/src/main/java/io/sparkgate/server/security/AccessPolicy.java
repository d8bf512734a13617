package io.sparkgate.server.security;

import io.sparkgate.server.values.AccessDeniedException;

import static java.util.Objects.requireNonNull;

import io.sparkgate.server.values.Batch;
import io.sparkgate.server.values.BatchNotFoundException;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.config.AccessSettings;
import io.sparkgate.server.config.AccessSettings.OthersBatches;
import java.util.Optional;

/**
 * Who may do what with which batch, the same on every protocol. The authenticated caller owns the
 * batches they create; the owner, the batch's proxy user, superusers and the configured view / modify
 * users may read a batch's log and streams; the owner, proxy user, superusers and modify users may
 * delete it. Other callers see it in lists without its log, or not at all
 * ({@code sparkgate.access.others-batches}).
 *
 * <p>Without authentication (mode {@code none}, loopback only) every caller is the anonymous caller and
 * everything but impersonation is allowed: there is nobody to tell apart.
 */
public final class AccessPolicy {

    private final AccessSettings settings;

    public AccessPolicy(AccessSettings settings) {
        this.settings = requireNonNull(settings, "settings");
    }

    /**
     * The caller may use this server at all ({@code sparkgate.access.allowed-users}).
     *
     * @throws AccessDeniedException when they may not
     */
    public Caller admit(Caller caller) {
        if (caller.isAnonymous() || settings.allowedUsers().contains(AccessSettings.EVERYONE)
                || settings.allowedUsers().contains(caller.user()) || settings.superusers().contains(caller.user())) {
            return caller;
        }
        throw new AccessDeniedException("user '" + caller.user() + "' may not use this server "
                + "(not in sparkgate.access.allowed-users)");
    }

    /**
     * Livy's impersonation rule: the user a new batch runs as, given the {@code proxyUser} it asked for.
     * With impersonation enabled that is the proxy user (the caller themselves, or anyone for a
     * superuser) or, when none is given, the authenticated caller, so a kerberized Livy's users keep
     * running as themselves. With it disabled the batch runs as the server's own user; a proxy user
     * is then refused, where Livy drops it silently: nobody could rely on a proxy user that is ignored.
     *
     * @return the proxy user to run as; empty for the server's user
     * @throws InvalidBatchRequestException when a proxy user is given but impersonation is disabled
     * @throws AccessDeniedException when the caller may not run batches as that user
     */
    public String runAs(Caller caller, String proxyUser) {
        if (!settings.impersonation()) {
            if (!proxyUser.isEmpty()) {
                throw new InvalidBatchRequestException("'proxyUser' is not accepted: impersonation is disabled on "
                        + "this server (sparkgate.access.impersonation)");
            }
            return "";
        }
        if (proxyUser.isEmpty()) {
            return caller.isAnonymous() ? "" : caller.user();
        }
        if (caller.isAnonymous()) {
            throw new AccessDeniedException("'proxyUser' needs an authenticated caller: impersonation is refused "
                    + "while sparkgate.auth.mode is none");
        }
        if (!proxyUser.equals(caller.user()) && !isSuperuser(caller)) {
            throw new AccessDeniedException("user '" + caller.user() + "' may not run batches as '" + proxyUser
                    + "': only superusers (sparkgate.access.superusers) may impersonate another user");
        }
        return proxyUser;
    }

    /**
     * The batch as this caller may see it: {@code batch} itself.
     *
     * @throws BatchNotFoundException when other users' batches are hidden and this is one of them
     */
    public Batch visible(Caller caller, Batch batch) {
        if (settings.othersBatches() == OthersBatches.HIDDEN && !canRead(caller, batch)) {
            throw new BatchNotFoundException(batch.id());
        }
        return batch;
    }

    /**
     * The caller may read the batch's log and follow its streams: {@code batch} itself.
     *
     * @throws BatchNotFoundException when the batch is hidden from the caller
     * @throws AccessDeniedException when it is visible but not theirs to read
     */
    public Batch checkRead(Caller caller, Batch batch) {
        visible(caller, batch);
        if (!canRead(caller, batch)) {
            throw new AccessDeniedException("user '" + caller.user() + "' may not read batch " + batch.id()
                    + ": its log is for its owner, its proxy user and sparkgate.access.view-users");
        }
        return batch;
    }

    /**
     * The caller may delete (kill) the batch.
     *
     * @throws BatchNotFoundException when the batch is hidden from the caller
     * @throws AccessDeniedException when it is visible but not theirs to delete
     */
    public void checkModify(Caller caller, Batch batch) {
        visible(caller, batch);
        if (!canModify(caller, batch)) {
            throw new AccessDeniedException("user '" + caller.user() + "' may not delete batch " + batch.id()
                    + ": only its owner, its proxy user and sparkgate.access.modify-users may");
        }
    }

    /** Whether the caller may read the batch's log (else a Batch object shows it without log lines). */
    public boolean canRead(Caller caller, Batch batch) {
        return canModify(caller, batch) || settings.viewUsers().contains(caller.user());
    }

    /** Whose batches the caller may list: empty for all (possibly without logs), else that user's alone. */
    public Optional<String> listScope(Caller caller) {
        if (settings.othersBatches() == OthersBatches.LISTED || caller.isAnonymous() || isSuperuser(caller)
                || settings.viewUsers().contains(caller.user()) || settings.modifyUsers().contains(caller.user())) {
            return Optional.empty();
        }
        return Optional.of(caller.user());
    }

    /** Whether the caller may delete (kill) the batch. */
    public boolean canModify(Caller caller, Batch batch) {
        if (caller.isAnonymous()) {
            return true;
        }
        String user = caller.user();
        return user.equals(batch.owner()) || user.equals(batch.request().proxyUser()) || isSuperuser(caller)
                || settings.modifyUsers().contains(user);
    }

    private boolean isSuperuser(Caller caller) {
        return !caller.isAnonymous() && settings.superusers().contains(caller.user());
    }
}
