package io.sparkgate.client;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material of a client from PEM files: the CA that signed the server's certificate (a private CA;
 * without it the JVM's trust store is used) and, for mutual TLS, the client's certificate and its
 * unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}). Used for gRPC and for REST alike.
 *
 * @param caCert PEM certificates to trust instead of the JVM's trust store
 * @param clientCert the client's certificate chain (PEM), with {@code clientKey}
 * @param clientKey the client's private key (PEM, PKCS#8), with {@code clientCert}
 */
public record ClientTls(Optional<Path> caCert, Optional<Path> clientCert, Optional<Path> clientKey) {

    private static final Pattern PRIVATE_KEY = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    public ClientTls {
        requireNonNull(caCert, "caCert");
        requireNonNull(clientCert, "clientCert");
        requireNonNull(clientKey, "clientKey");
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw new IllegalArgumentException("a client certificate needs its key, and a key its certificate");
        }
    }

    /** The JVM's trust store, no client certificate. */
    public static ClientTls systemDefaults() {
        return new ClientTls(Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** Trust managers for the CA file; {@code null} (the JVM's defaults) without one. */
    public TrustManager[] trustManagers() {
        if (caCert.isEmpty()) {
            return null;
        }
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            List<Certificate> cas = certificates(caCert.get());
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            return factory.getTrustManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use CA certificate " + caCert.get() + ": " + e.getMessage(), e);
        }
    }

    /** Key managers for the client certificate; {@code null} without one. */
    public KeyManager[] keyManagers() {
        if (clientCert.isEmpty()) {
            return null;
        }
        try {
            char[] password = new char[0];
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            store.setKeyEntry("client", privateKey(clientKey.get()), password,
                    certificates(clientCert.get()).toArray(Certificate[]::new));
            KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            factory.init(store, password);
            return factory.getKeyManagers();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot use client certificate " + clientCert.get() + " / key "
                    + clientKey.get() + ": " + e.getMessage(), e);
        }
    }

    /** An SSL context with this material, e.g. for {@code java.net.http.HttpClient}. */
    public SSLContext sslContext() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(), trustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            List<Certificate> certs = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (certs.isEmpty()) {
                throw new GeneralSecurityException("no PEM certificate in " + file);
            }
            return certs;
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        Matcher m = PRIVATE_KEY.matcher(Files.readString(file, StandardCharsets.US_ASCII));
        if (!m.find()) {
            throw new GeneralSecurityException(file + " holds no unencrypted PKCS#8 key ('BEGIN PRIVATE KEY'); "
                    + "convert one with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException(file + " holds no RSA, EC or Ed25519 key");
    }
}
