package io.sparkgate.server.api;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpResponseWriter;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.sparkgate.server.values.Batch;
import io.sparkgate.server.batch.BatchManager;
import io.sparkgate.server.values.InvalidBatchRequestException;
import io.sparkgate.server.logs.LogPage;
import io.sparkgate.server.security.AccessPolicy;
import io.sparkgate.server.security.Callers;
import java.util.OptionalInt;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * {@code GET /batches/{id}/log/text}: the whole log as it is now, as a text file to download (a Sparkgate
 * route beside Livy's; Livy has no such route). Streamed a page at a time, the next page read only once
 * the connection took the previous one: a log of any length costs one page of memory.
 */
final class LogTextRoute {

    /** Lines read and written in one go. */
    private static final int PAGE = 4096;

    private final BatchManager manager;
    private final AccessPolicy access;

    LogTextRoute(BatchManager manager, AccessPolicy access) {
        this.manager = requireNonNull(manager, "manager");
        this.access = requireNonNull(access, "access");
    }

    void addTo(ServerBuilder sb, Function<? super HttpService, ? extends HttpService> decorator) {
        HttpService text = (ctx, req) -> serve(ctx);
        sb.service("/batches/{id}/log/text", text.decorate(decorator));
    }

    private HttpResponse serve(ServiceRequestContext ctx) {
        int id;
        try {
            id = Integer.parseInt(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            throw new InvalidBatchRequestException("'id' must be an integer");
        }
        Batch batch = access.checkRead(access.admit(Callers.of(ctx)), manager.get(id));
        // The lines there are now: a running batch's log keeps growing, the file ends where it was asked for.
        long total = manager.log(batch, OptionalInt.of(0), OptionalInt.of(0)).total();
        ctx.clearRequestTimeout();
        HttpResponseWriter res = HttpResponse.streaming();
        res.write(ResponseHeaders.builder(HttpStatus.OK)
                .contentType(MediaType.PLAIN_TEXT_UTF_8)
                .set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"batch-" + id + ".log\"")
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .build());
        writeFrom(ctx.blockingTaskExecutor(), res, batch, 0, total);
        return res;
    }

    private void writeFrom(Executor executor, HttpResponseWriter res, Batch batch, long from, long total) {
        executor.execute(() -> {
            try {
                if (from >= total || !res.isOpen()) {
                    res.close();
                    return;
                }
                LogPage page = manager.log(batch, OptionalInt.of(Math.toIntExact(from)),
                        OptionalInt.of((int) Math.min(PAGE, total - from)));
                if (page.lines().isEmpty()) {
                    res.close();
                    return;
                }
                StringBuilder chunk = new StringBuilder(page.lines().size() * 80);
                for (String line : page.lines()) {
                    chunk.append(line).append('\n');
                }
                if (!res.tryWrite(HttpData.ofUtf8(chunk.toString()))) {
                    return; // the client left
                }
                long next = from + page.lines().size();
                res.whenConsumed().thenRun(() -> writeFrom(executor, res, batch, next, total));
            } catch (RuntimeException e) {
                res.close(e); // e.g. deleted while downloading
            }
        });
    }
}
