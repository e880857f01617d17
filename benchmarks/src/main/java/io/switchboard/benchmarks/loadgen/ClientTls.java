package io.switchboard.benchmarks.loadgen;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import java.io.File;
import java.io.IOException;

/**
 * loadgen's side of wss:// (issue 19): one client {@link SslContext} for every connection, with
 * OpenSSL where netty-tcnative loads (loadgen's jar carries it: the client should cost less than the
 * server it measures), the JDK otherwise. Trusts the JDK's CAs, {@code --ca-file}'s, or, with
 * {@code --insecure}, anything, without checking the host name.
 */
final class ClientTls {

    private ClientTls() {
    }

    /** The provider loadgen uses: {@code openssl} or {@code jdk}. */
    static String providerName() {
        return provider() == SslProvider.OPENSSL ? "openssl" : "jdk";
    }

    private static SslProvider provider() {
        try {
            return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        } catch (LinkageError e) {
            return SslProvider.JDK;
        }
    }

    /** The context for {@code o}'s wss:// connections. */
    static SslContext context(Options o) throws IOException {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider()).protocols("TLSv1.3", "TLSv1.2");
        if (o.insecure) {
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        } else {
            b.endpointIdentificationAlgorithm("HTTPS");
            if (o.caFile != null) {
                b.trustManager(new File(o.caFile));
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException | IOException e) {
            throw new IOException("--ca-file " + o.caFile + ": " + e.getMessage(), e);
        }
    }
}
