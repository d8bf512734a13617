package io.sparkgate.server.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Keys and certificates made by the test, written as PEM files: a CA, certificates it signs (a server
 * certificate for 127.0.0.1 / localhost, client certificates with a CN), nothing kept in the repository.
 */
final class TestPki {

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A key pair, its certificate and where both were written. */
    record Issued(KeyPair keys, X509Certificate cert, Path certFile, Path keyFile) {}

    private TestPki() {}

    static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A self-signed CA named {@code name}, written to {@code dir/name.crt} and {@code .key}. */
    static Issued ca(Path dir, String name) {
        KeyPair keys = rsa();
        X509Certificate cert = sign(new X500Name("CN=" + name), keys, new X500Name("CN=" + name), keys, true, false);
        return write(dir, name, keys, cert);
    }

    /** A server certificate for 127.0.0.1 and localhost, signed by {@code ca}. */
    static Issued server(Path dir, Issued ca) {
        KeyPair keys = rsa();
        return write(dir, "server", keys, sign(new X500Name("CN=localhost"), keys,
                new X500Name(ca.cert().getSubjectX500Principal().getName()), ca.keys(), false, true));
    }

    /** A client certificate whose subject is {@code CN=cn,O=Sparkgate tests}, signed by {@code ca}. */
    static Issued client(Path dir, Issued ca, String cn) {
        KeyPair keys = rsa();
        return write(dir, "client-" + cn + "-" + SERIAL.incrementAndGet(), keys,
                sign(new X500Name("CN=" + cn + ",O=Sparkgate tests"), keys,
                        new X500Name(ca.cert().getSubjectX500Principal().getName()), ca.keys(), false, false));
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static Path writeString(Path file, String text) {
        try {
            return Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Issued write(Path dir, String name, KeyPair keys, X509Certificate cert) {
        try {
            Path certFile = writeString(dir.resolve(name + ".crt"), pem("CERTIFICATE", cert.getEncoded()));
            Path keyFile = writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
            return new Issued(keys, cert, certFile, keyFile);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X500Name subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys,
                                        boolean isCa, boolean serverNames) {
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(1))), subject, subjectKeys.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
            if (serverNames) {
                builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")}));
            }
            return new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withRSA").build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
