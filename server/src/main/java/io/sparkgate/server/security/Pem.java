package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigLoader.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM files named by config keys, read with the JDK alone: certificates, PKCS#8 private keys and
 * X.509 public keys. Every failure is a {@link ConfigException} that names the key.
 */
final class Pem {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519");

    private Pem() {}

    /** The certificates of a PEM file (at least one). */
    static List<X509Certificate> certificates(String key, Path file) {
        byte[] bytes = read(key, file);
        try {
            List<X509Certificate> certs = new ArrayList<>();
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            for (var cert : factory.generateCertificates(new ByteArrayInputStream(bytes))) {
                certs.add((X509Certificate) cert);
            }
            if (certs.isEmpty()) {
                throw new CertificateException("no certificate");
            }
            return certs;
        } catch (CertificateException e) {
            throw new ConfigException("bad value for " + key + ": " + file + " holds no PEM certificate ("
                    + e.getMessage() + ")");
        }
    }

    /** The private key of a PEM file: {@code BEGIN PRIVATE KEY} (PKCS#8, unencrypted), RSA, EC or Ed25519. */
    static PrivateKey privateKey(String key, Path file) {
        String text = new String(read(key, file), StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PRIVATE KEY")) {
                byte[] der = decode(key, file, m.group(2));
                for (String algorithm : KEY_ALGORITHMS) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                    } catch (GeneralSecurityException e) {
                        // try the next algorithm
                    }
                }
            } else if (m.group(1).endsWith("PRIVATE KEY")) {
                throw new ConfigException("bad value for " + key + ": " + file + " holds a '" + m.group(1)
                        + "'; convert it to an unencrypted PKCS#8 key ('BEGIN PRIVATE KEY') with "
                        + "openssl pkcs8 -topk8 -nocrypt -in old.pem -out new.pem");
            }
        }
        throw new ConfigException("bad value for " + key + ": " + file
                + " holds no PEM private key ('BEGIN PRIVATE KEY', RSA, EC or Ed25519)");
    }

    /** The public key of a PEM file: {@code BEGIN PUBLIC KEY} (X.509 SubjectPublicKeyInfo) or a certificate's. */
    static PublicKey publicKey(String key, Path file) {
        String text = new String(read(key, file), StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals("PUBLIC KEY")) {
                byte[] der = decode(key, file, m.group(2));
                for (String algorithm : KEY_ALGORITHMS) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
                    } catch (GeneralSecurityException e) {
                        // try the next algorithm
                    }
                }
            } else if (m.group(1).equals("CERTIFICATE")) {
                return certificates(key, file).get(0).getPublicKey();
            }
        }
        throw new ConfigException("bad value for " + key + ": " + file
                + " holds no PEM public key ('BEGIN PUBLIC KEY', RSA or EC) or certificate");
    }

    private static byte[] decode(String key, Path file, String base64) {
        try {
            return Base64.getMimeDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("bad value for " + key + ": " + file + " is not valid PEM");
        }
    }

    private static byte[] read(String key, Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException("bad value for " + key + ": cannot read " + file + " (" + e.getMessage() + ")");
        }
    }
}
