package io.sparkgate.server.security;

import io.sparkgate.server.config.ConfigKeys;

import com.linecorp.armeria.server.ServerBuilder;
import io.netty.handler.ssl.ClientAuth;
import io.sparkgate.server.config.AuthSettings;
import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The port: plaintext HTTP/1.1 + HTTP/2, or TLS ({@code sparkgate.tls.*}) with optional client
 * certificates. The PEM files are read here, at start, so a bad one stops the server with its key's name.
 */
public final class ServerTls {

    private ServerTls() {}

    /** Binds {@code address} on {@code sb}, with TLS when the settings have it. */
    public static void configure(ServerBuilder sb, InetSocketAddress address, AuthSettings settings) {
        if (settings.tls().isEmpty()) {
            sb.http(address);
            return;
        }
        AuthSettings.Tls tls = settings.tls().get();
        List<X509Certificate> chain = Pem.certificates(ConfigKeys.TLS_CERT_FILE.name(), tls.certFile());
        PrivateKey key = Pem.privateKey(ConfigKeys.TLS_KEY_FILE.name(), tls.keyFile());
        if (!sameKeyPair(key, chain.get(0))) {
            throw new io.sparkgate.server.config.ConfigLoader.ConfigException(ConfigKeys.TLS_KEY_FILE.name()
                    + " does not hold the private key of the certificate in " + ConfigKeys.TLS_CERT_FILE.name());
        }
        sb.https(address).tls(key, chain);
        if (tls.clientCaFile().isPresent()) {
            List<X509Certificate> cas = Pem.certificates(ConfigKeys.TLS_CLIENT_CA_FILE.name(), tls.clientCaFile().get());
            ClientAuth clientAuth = switch (tls.clientAuth()) {
                case NONE -> ClientAuth.NONE;
                case OPTIONAL -> ClientAuth.OPTIONAL;
                case REQUIRE -> ClientAuth.REQUIRE;
            };
            sb.tlsCustomizer(ssl -> ssl.trustManager(cas).clientAuth(clientAuth));
        }
    }

    /** Whether the key signs what the certificate's public key verifies. */
    private static boolean sameKeyPair(PrivateKey key, X509Certificate cert) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "Ed25519";
        };
        try {
            byte[] probe = "sparkgate".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            java.security.Signature signer = java.security.Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
    }
}
