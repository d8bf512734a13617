package io.sparkgate.server.api;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.core.FileAppender;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.logging.AccessLogWriter;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * The optional access log ({@code sparkgate.access-log.enabled}): Armeria's combined-format line per
 * request to the logger {@value #LOGGER}, which writes {@code access.log} in the log directory
 * ({@code $SPARKGATE_LOG_DIR}, else {@code logs}) through an asynchronous appender that drops lines
 * rather than slow requests down. Set up in code, only when enabled, so a server without it creates no
 * file; an operator's own logback.xml that gives the logger an appender is left alone.
 */
final class AccessLog {

    static final String LOGGER = "sparkgate.access";

    private AccessLog() {}

    static void enable(ServerBuilder sb) {
        Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);
        if (!logger.iteratorForAppenders().hasNext()) {
            LoggerContext context = logger.getLoggerContext();
            PatternLayoutEncoder encoder = new PatternLayoutEncoder();
            encoder.setContext(context);
            encoder.setPattern("%msg%n");
            encoder.start();
            FileAppender<ILoggingEvent> file = new FileAppender<>();
            file.setContext(context);
            file.setName("sparkgate-access-file");
            String dir = System.getenv().getOrDefault("SPARKGATE_LOG_DIR", "logs");
            file.setFile(Path.of(dir, "access.log").toString());
            file.setEncoder(encoder);
            file.start();
            AsyncAppender async = new AsyncAppender();
            async.setContext(context);
            async.setName("sparkgate-access");
            async.setQueueSize(8192);
            async.setNeverBlock(true);
            async.addAppender(file);
            async.start();
            logger.addAppender(async);
            logger.setAdditive(false);
        }
        sb.accessLogger(LOGGER);
        sb.accessLogWriter(AccessLogWriter.combined(), true);
    }
}
