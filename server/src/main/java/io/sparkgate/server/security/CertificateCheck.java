package io.sparkgate.server.security;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The TLS client certificate as the caller's identity: the user is the common name (CN) of its subject.
 * The TLS handshake already checked that the certificate chains to the configured client CA.
 */
final class CertificateCheck {

    static final String REQUIRED = "client certificate required";
    static final String NO_NAME = "client certificate has no subject CN";

    private CertificateCheck() {}

    /** The caller of a TLS session; refuses a session without a client certificate or without a CN. */
    static Caller check(SSLSession session) {
        if (session == null) {
            throw new AuthenticationException(REQUIRED);
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            throw new AuthenticationException(REQUIRED);
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            throw new AuthenticationException(REQUIRED);
        }
        return commonName(cert).map(Caller::of).orElseThrow(() -> new AuthenticationException(NO_NAME));
    }

    /** The most specific CN of the subject, e.g. {@code alice} of {@code CN=alice,OU=data,O=Example}. */
    static Optional<String> commonName(X509Certificate cert) {
        try {
            LdapName name = new LdapName(cert.getSubjectX500Principal().getName());
            // LdapName lists RDNs from the least specific; the last CN is the leaf's own name.
            String cn = null;
            for (Rdn rdn : name.getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = rdn.getValue().toString();
                }
            }
            return Optional.ofNullable(cn).map(String::strip).filter(s -> !s.isEmpty());
        } catch (InvalidNameException e) {
            return Optional.empty();
        }
    }
}
