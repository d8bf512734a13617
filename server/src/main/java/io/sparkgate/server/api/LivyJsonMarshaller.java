package io.sparkgate.server.api;

import io.sparkgate.server.values.Text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import com.linecorp.armeria.common.grpc.GrpcJsonMarshaller;
import io.sparkgate.api.v1.ListBatchesResponse;
import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON of Sparkgate's REST face, shaped like Apache Livy's, for every transcoded call.
 *
 * <p>Writing: every field is present, in the proto's order; a field with presence that is unset is
 * JSON {@code null} (Livy clients read {@code resp["appId"]}); integers are JSON numbers; enums are
 * Livy's lowercase names without the type prefix ({@code BATCH_STATE_SUCCESS} → {@code "success"});
 * timestamps are RFC 3339 strings.
 *
 * <p>Reading: protobuf's own JSON rules, strict: an unknown field is an error that names it, numbers
 * may come as strings ({@code "numExecutors": "10"}) and strings as numbers ({@code "args": [2000]}).
 */
final class LivyJsonMarshaller implements GrpcJsonMarshaller {

    private static final JsonFactory JSON = new JsonFactory();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    private static final Map<EnumValueDescriptor, String> LIVY_NAMES = new ConcurrentHashMap<>();
    private static final Map<Message, SerializedString> UNCHANGING_JSON = new WeakHashMap<>();
    /** Longest parse error message returned. */
    private static final int MAX_MESSAGE = 300;

    @Override
    public <T> void serializeMessage(Marshaller<T> marshaller, T message, OutputStream os) throws IOException {
        SerializedString unchanging = unchangingJson((Message) message);
        if (unchanging != null) {
            os.write(unchanging.asUnquotedUTF8());
            return;
        }
        try (JsonGenerator g = JSON.createGenerator(os)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            writeMessage(g, (Message) message);
        }
    }

    @Override
    public <T> T deserializeMessage(Marshaller<T> marshaller, InputStream is) throws IOException {
        @SuppressWarnings("unchecked")
        PrototypeMarshaller<T> prototypes = (PrototypeMarshaller<T>) marshaller;
        Message prototype = (Message) prototypes.getMessagePrototype();
        byte[] json = is.readAllBytes();
        Message flat = readFlat(json, prototype);
        if (flat != null) {
            @SuppressWarnings("unchecked")
            T built = (T) flat;
            return built;
        }
        Message.Builder builder = prototype.newBuilderForType();
        try {
            PARSER.merge(new String(json, StandardCharsets.UTF_8), builder);
        } catch (InvalidProtocolBufferException e) {
            throw new StatusRuntimeException(Status.INVALID_ARGUMENT.withDescription(describe(e)));
        }
        @SuppressWarnings("unchecked")
        T built = (T) builder.build();
        return built;
    }

    /**
     * The common case read directly: a flat object of int32 and string fields with plain values, as
     * transcoding makes of every GET ({@code {"id":5}}, {@code {"from":0,"size":100}}); protobuf's parser
     * costs more than the rest of such a call. Null for anything else (nesting, lists, other types,
     * numbers as strings, unknown or repeated names, bad JSON): protobuf's parser reads those, and its
     * rules and errors stay the only ones.
     */
    private static Message readFlat(byte[] json, Message prototype) throws IOException {
        Descriptor type = prototype.getDescriptorForType();
        Message.Builder builder = prototype.newBuilderForType();
        java.util.BitSet seen = new java.util.BitSet();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) {
                    return null;
                }
                FieldDescriptor f = field(type, p.currentName());
                if (f == null || f.isRepeated() || f.getRealContainingOneof() != null || seen.get(f.getIndex())) {
                    return null;
                }
                seen.set(f.getIndex());
                JsonToken value = p.nextToken();
                if (f.getType() == FieldDescriptor.Type.INT32 && value == JsonToken.VALUE_NUMBER_INT
                    && p.getNumberType() == JsonParser.NumberType.INT) {
                    builder.setField(f, p.getIntValue());
                } else if (f.getType() == FieldDescriptor.Type.STRING && value == JsonToken.VALUE_STRING) {
                    builder.setField(f, p.getText());
                } else {
                    return null;
                }
            }
            if (p.nextToken() != null) {
                return null;
            }
        } catch (JsonProcessingException e) {
            return null;
        }
        return builder.build();
    }

    /** A field by its JSON name or its proto name, as protobuf's parser accepts both. */
    private static FieldDescriptor field(Descriptor type, String name) {
        for (FieldDescriptor f : type.getFields()) {
            if (f.getJsonName().equals(name) || f.getName().equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** Protobuf's parse errors, in the words of a request's field names. */
    private static String describe(InvalidProtocolBufferException e) {
        String msg = e.getMessage() == null ? "malformed request" : e.getMessage();
        if (msg.startsWith("Cannot find field: ")) {
            String field = msg.substring("Cannot find field: ".length()).split(" ")[0];
            return "Unrecognized field \"" + abbreviate(field) + "\" in the request";
        }
        return "Bad request: " + abbreviate(msg);
    }

    /** Protobuf's messages quote the offending value whole: a 1 MB value must not come back as a 1 MB error. */
    static String abbreviate(String msg) {
        return Text.abbreviate(msg, MAX_MESSAGE);
    }

    static void writeMessage(JsonGenerator g, Message m) throws IOException {
        SerializedString unchanging = unchangingJson(m);
        if (unchanging != null) {
            g.writeRawValue(unchanging);
            return;
        }
        if (m instanceof Timestamp ts) {
            // RFC 3339 like protobuf's Timestamps.toString, without its String.format per value: a page
            // of 100 batches carries hundreds of timestamps.
            g.writeString(Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos()).toString());
            return;
        }
        writeFields(g, m);
    }

    /** A message as a JSON object, field by field. */
    private static void writeFields(JsonGenerator g, Message m) throws IOException {
        g.writeStartObject();
        for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
            if (f.getRealContainingOneof() != null && !m.hasField(f)) {
                continue;
            }
            g.writeFieldName(f.getJsonName());
            if (f.isMapField()) {
                g.writeStartObject();
                for (Object entry : (List<?>) m.getField(f)) {
                    Message e = (Message) entry;
                    FieldDescriptor key = e.getDescriptorForType().findFieldByNumber(1);
                    FieldDescriptor value = e.getDescriptorForType().findFieldByNumber(2);
                    g.writeFieldName(String.valueOf(e.getField(key)));
                    writeValue(g, value, e.getField(value));
                }
                g.writeEndObject();
            } else if (f.isRepeated()) {
                g.writeStartArray();
                for (Object v : (List<?>) m.getField(f)) {
                    writeValue(g, f, v);
                }
                g.writeEndArray();
            } else if (f.hasPresence() && !m.hasField(f)) {
                g.writeNull();
            } else {
                writeValue(g, f, m.getField(f));
            }
        }
        g.writeEndObject();
    }

    /**
     * The JSON of a message that cannot change, written once per message instance, or null for other
     * messages: a final batch, and a list page of final batches. {@link FinalBatchMessages} hands out the
     * same instances while the batches are unchanged, so a list page of finished batches is one copy of
     * bytes. Weak keys: an entry goes when its message is no longer used. Messages are compared by
     * protobuf's equals, which answers at once for the same instance.
     */
    private static SerializedString unchangingJson(Message m) throws IOException {
        if (m instanceof io.sparkgate.api.v1.Batch b && isFinal(b.getState())
            || m instanceof ListBatchesResponse l && l.getSessionsList().stream().allMatch(b -> isFinal(b.getState()))) {
            SerializedString json;
            synchronized (UNCHANGING_JSON) {
                json = UNCHANGING_JSON.get(m);
            }
            if (json == null) {
                StringWriter out = new StringWriter(1024);
                try (JsonGenerator g = JSON.createGenerator(out)) {
                    writeFields(g, m);
                }
                json = new SerializedString(out.toString());
                json.asUnquotedUTF8(); // encoded once, here, not by each reader
                synchronized (UNCHANGING_JSON) {
                    UNCHANGING_JSON.put(m, json);
                }
            }
            return json;
        }
        return null;
    }

    static boolean isFinal(io.sparkgate.api.v1.BatchState s) {
        return s == io.sparkgate.api.v1.BatchState.BATCH_STATE_SUCCESS
               || s == io.sparkgate.api.v1.BatchState.BATCH_STATE_DEAD
               || s == io.sparkgate.api.v1.BatchState.BATCH_STATE_KILLED;
    }

    private static void writeValue(JsonGenerator g, FieldDescriptor f, Object v) throws IOException {
        switch (f.getJavaType()) {
            case INT -> g.writeNumber((Integer) v);
            case LONG -> g.writeNumber((Long) v);
            case FLOAT -> g.writeNumber((Float) v);
            case DOUBLE -> g.writeNumber((Double) v);
            case BOOLEAN -> g.writeBoolean((Boolean) v);
            case STRING -> g.writeString((String) v);
            case BYTE_STRING -> g.writeString(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()));
            case ENUM -> g.writeString(livyName((EnumValueDescriptor) v));
            case MESSAGE -> writeMessage(g, (Message) v);
        }
    }

    /** {@code BATCH_STATE_NOT_STARTED} of enum {@code BatchState} → {@code not_started}; computed once per value. */
    static String livyName(EnumValueDescriptor value) {
        return LIVY_NAMES.computeIfAbsent(value, LivyJsonMarshaller::computeLivyName);
    }

    private static String computeLivyName(EnumValueDescriptor value) {
        String prefix = value.getType().getName().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT) + "_";
        String name = value.getName();
        return (name.startsWith(prefix) ? name.substring(prefix.length()) : name).toLowerCase(Locale.ROOT);
    }
}
