package io.sparkgate.server.api;

import com.google.api.AnnotationsProto;
import com.google.api.HttpRule;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.annotation.Nullable;
import com.linecorp.armeria.common.grpc.protocol.GrpcHeaderNames;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerMethodDefinition;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import java.util.HashMap;
import java.util.Map;

/**
 * How {@link DirectTranscoding} builds one method's request from an HTTP request, as Armeria's transcoding
 * would: a {@code GET}'s from its path variables and query parameters, a {@code body: "*"} method's from
 * its JSON body alone. Which requests it builds and which it leaves to Armeria is decided here, in one
 * place per kind.
 */
final class TranscodingRoute {

    /** What a method's rule makes of it. */
    enum Kind {
        /** Not served directly: every request goes to Armeria's transcoding. */
        NONE,
        /** A {@code GET}: the request from path variables and query parameters. */
        PARAMETERS,
        /** A {@code body: "*"} {@code POST}: the request is the JSON body. */
        BODY
    }

    static final TranscodingRoute NONE = new TranscodingRoute(Kind.NONE, null, Map.of());

    final Kind kind;
    @Nullable
    private final Message prototype;
    private final Map<String, FieldDescriptor> fields;
    /** Bytes to allocate for an answer; racy by design (any recent answer's size will do). */
    volatile int sizeHint = 256;

    private TranscodingRoute(Kind kind, @Nullable Message prototype, Map<String, FieldDescriptor> fields) {
        this.kind = kind;
        this.prototype = prototype;
        this.fields = fields;
    }

    static TranscodingRoute of(ServerMethodDefinition<?, ?> method) {
        MethodDescriptor<?, ?> md = method.getMethodDescriptor();
        if (md.getType() != MethodDescriptor.MethodType.UNARY
            || !(md.getSchemaDescriptor() instanceof ProtoMethodDescriptorSupplier schema)
            || !(md.getRequestMarshaller() instanceof PrototypeMarshaller<?> requests)
            || !(requests.getMessagePrototype() instanceof Message prototype)) {
            return NONE;
        }
        HttpRule rule = schema.getMethodDescriptor().getOptions().getExtension(AnnotationsProto.http);
        if (rule.getAdditionalBindingsCount() > 0) {
            return NONE;
        }
        if (rule.getPatternCase() == HttpRule.PatternCase.POST && rule.getBody().equals("*")) {
            return new TranscodingRoute(Kind.BODY, prototype, Map.of());
        }
        if (rule.getPatternCase() != HttpRule.PatternCase.GET) {
            return NONE;
        }
        Descriptor type = prototype.getDescriptorForType();
        Map<String, FieldDescriptor> fields = new HashMap<>();
        for (FieldDescriptor f : type.getFields()) {
            boolean scalar = !f.isRepeated() && (f.getType() == FieldDescriptor.Type.INT32
                                                 || f.getType() == FieldDescriptor.Type.STRING);
            fields.put(f.getName(), scalar ? f : null);
            fields.putIfAbsent(lowerCamel(f.getName()), scalar ? f : null);
        }
        return new TranscodingRoute(Kind.PARAMETERS, prototype, fields);
    }

    /**
     * Whether a body method's request can be read from its body alone, as Armeria would read it: a JSON
     * content type and a body, no path variables or query parameters (Armeria would merge them into the
     * body), no gRPC encoding (which Armeria refuses). Anything else goes to Armeria, for its answer.
     */
    static boolean bodyAlone(ServiceRequestContext ctx, RequestHeaders headers) {
        MediaType type = headers.contentType();
        return type != null && type.isJson() && headers.get(GrpcHeaderNames.GRPC_ENCODING) == null
               && ctx.pathParams().isEmpty() && ctx.query() == null;
    }

    /** A {@code GET}'s request, or null when Armeria's transcoding must build it (or refuse it). */
    @Nullable
    Message request(ServiceRequestContext ctx) {
        if (kind != Kind.PARAMETERS) {
            return null;
        }
        Message.Builder b = prototype.newBuilderForType();
        for (Map.Entry<String, String> p : ctx.pathParams().entrySet()) {
            if (!set(b, p.getKey(), p.getValue())) {
                return null;
            }
        }
        for (Map.Entry<String, String> q : ctx.queryParams()) {
            if (!set(b, q.getKey(), q.getValue())) {
                return null;
            }
        }
        return b.build();
    }

    /** Sets one parameter as Armeria's transcoding would; false when it should do it itself. */
    private boolean set(Message.Builder b, String name, String value) {
        if (!fields.containsKey(name)) {
            return true; // unknown parameters are ignored
        }
        FieldDescriptor f = fields.get(name);
        if (f == null) {
            return false;
        }
        if (f.getType() == FieldDescriptor.Type.STRING) {
            b.setField(f, value);
            return true;
        }
        try {
            b.setField(f, Integer.parseInt(value));
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String lowerCamel(String name) {
        StringBuilder out = new StringBuilder(name.length());
        boolean up = false;
        for (char c : name.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                out.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return out.toString();
    }
}
