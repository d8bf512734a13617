package io.sparkgate.server.api;

import io.sparkgate.server.values.Text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
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
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
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
    /** Guarded by itself; see {@link #unchangingJson}. */
    private static final Map<Message, byte[]> UNCHANGING_JSON = new WeakHashMap<>();
    /** The mark of a message written once, whose JSON was not kept. */
    private static final byte[] SEEN_ONCE = new byte[0];
    /** Longest parse error message returned. */
    private static final int MAX_MESSAGE = 300;

    @Override
    public <T> void serializeMessage(Marshaller<T> marshaller, T message, OutputStream os) throws IOException {
        Message m = (Message) message;
        byte[] unchanging = unchangingJson(m, true);
        if (unchanging != null) {
            os.write(unchanging);
            return;
        }
        // Once-only (so far) or changing: written straight into the response, no copy kept.
        try (JsonGenerator g = JSON.createGenerator(os)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            writeMessage(g, m, false);
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
        writeMessage(g, m, false);
    }

    /** With {@code keep}, the JSON of unchanging messages within is kept (see {@link #unchangingJson}). */
    private static void writeMessage(JsonGenerator g, Message m, boolean keep) throws IOException {
        byte[] unchanging = keep ? unchangingJson(m, false) : keptJson(m);
        if (unchanging != null) {
            g.writeRawValue(new Utf8Json(unchanging));
            return;
        }
        if (m instanceof Timestamp ts) {
            writeTimestamp(g, ts.getSeconds(), ts.getNanos());
            return;
        }
        writeFields(g, m, keep);
    }

    /** 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch seconds: the years written here with 4 digits. */
    private static final long FIRST_SECOND = -62135596800L;
    private static final long END_SECOND = 253402300800L;

    /**
     * A timestamp as {@link Instant#toString} writes it (RFC 3339: seconds always, a fraction in groups of
     * three digits when not zero), without its formatter: that made a tenth of what a list page allocated
     * (a page of 100 batches carries hundreds of timestamps). Years outside 1-9999 go by {@code Instant}.
     */
    static void writeTimestamp(JsonGenerator g, long seconds, int nanos) throws IOException {
        if (seconds < FIRST_SECOND || seconds >= END_SECOND || nanos < 0 || nanos > 999_999_999) {
            g.writeString(Instant.ofEpochSecond(seconds, nanos).toString());
            return;
        }
        LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(seconds, 86_400));
        int secondOfDay = (int) Math.floorMod(seconds, 86_400);
        char[] out = new char[30];
        int n = digits(out, 0, date.getYear(), 4);
        out[n++] = '-';
        n = digits(out, n, date.getMonthValue(), 2);
        out[n++] = '-';
        n = digits(out, n, date.getDayOfMonth(), 2);
        out[n++] = 'T';
        n = digits(out, n, secondOfDay / 3600, 2);
        out[n++] = ':';
        n = digits(out, n, secondOfDay / 60 % 60, 2);
        out[n++] = ':';
        n = digits(out, n, secondOfDay % 60, 2);
        if (nanos > 0) {
            out[n++] = '.';
            if (nanos % 1_000_000 == 0) {
                n = digits(out, n, nanos / 1_000_000, 3);
            } else if (nanos % 1_000 == 0) {
                n = digits(out, n, nanos / 1_000, 6);
            } else {
                n = digits(out, n, nanos, 9);
            }
        }
        out[n++] = 'Z';
        g.writeString(out, 0, n);
    }

    /** {@code value} (not negative) in {@code width} decimal digits, zero-padded, at {@code at}; returns the end. */
    private static int digits(char[] out, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            out[i] = (char) ('0' + value % 10);
            value /= 10;
        }
        return at + width;
    }

    /** A message as a JSON object, field by field. */
    private static void writeFields(JsonGenerator g, Message m, boolean keep) throws IOException {
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
                    writeValue(g, value, e.getField(value), keep);
                }
                g.writeEndObject();
            } else if (f.isRepeated()) {
                g.writeStartArray();
                for (Object v : (List<?>) m.getField(f)) {
                    writeValue(g, f, v, keep);
                }
                g.writeEndArray();
            } else if (f.hasPresence() && !m.hasField(f)) {
                g.writeNull();
            } else {
                writeValue(g, f, m.getField(f), keep);
            }
        }
        g.writeEndObject();
    }

    /**
     * The JSON of a message that cannot change (a final batch, a list page of final batches) once the same
     * instance is written a second time, as UTF-8; null for other messages, and for one written for the
     * first time ({@code top}: it is marked, to be kept if it comes again) or not at all yet (within
     * another message). {@link FinalBatchMessages} hands out the same instances while the batches are
     * unchanged, so a page or batch that clients ask for again and again is one copy of bytes, and the
     * batches of a kept page are kept too (a changed page is then mostly copies). A page asked for once
     * (anywhere deep in a long list) is written straight into its response and leaves nothing behind.
     * Weak keys: an entry goes when its message is no longer used. Messages are compared by protobuf's
     * equals, which answers at once for the same instance.
     */
    private static byte[] unchangingJson(Message m, boolean top) throws IOException {
        if (!isUnchanging(m)) {
            return null;
        }
        byte[] json;
        synchronized (UNCHANGING_JSON) {
            json = UNCHANGING_JSON.get(m);
            if (json == null && top) {
                UNCHANGING_JSON.put(m, SEEN_ONCE);
                return null;
            }
        }
        if (json != null && json != SEEN_ONCE) {
            return json;
        }
        // Asked for again, or within a message whose JSON is kept: kept from now on.
        ByteArrayBuilder out = new ByteArrayBuilder(1024);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            writeFields(g, m, true);
        }
        json = out.toByteArray();
        synchronized (UNCHANGING_JSON) {
            UNCHANGING_JSON.put(m, json);
        }
        return json;
    }

    /** The JSON kept for this message, if any; nothing is marked or kept. */
    private static byte[] keptJson(Message m) {
        if (!isUnchanging(m)) {
            return null;
        }
        byte[] json;
        synchronized (UNCHANGING_JSON) {
            json = UNCHANGING_JSON.get(m);
        }
        return json == SEEN_ONCE ? null : json;
    }

    private static boolean isUnchanging(Message m) {
        return m instanceof io.sparkgate.api.v1.Batch b && isFinal(b.getState())
               || m instanceof ListBatchesResponse l && l.getSessionsList().stream().allMatch(b -> isFinal(b.getState()));
    }

    /**
     * Kept JSON written raw into a generator: {@code UTF8JsonGenerator} copies UTF-8 bytes as they are;
     * the char forms, which that generator does not use, are decoded when asked for.
     */
    private record Utf8Json(byte[] utf8) implements SerializableString {
        @Override
        public String getValue() {
            return new String(utf8, StandardCharsets.UTF_8);
        }

        @Override
        public int charLength() {
            return getValue().length();
        }

        @Override
        public char[] asQuotedChars() {
            return new SerializedString(getValue()).asQuotedChars();
        }

        @Override
        public byte[] asUnquotedUTF8() {
            return utf8;
        }

        @Override
        public byte[] asQuotedUTF8() {
            return new SerializedString(getValue()).asQuotedUTF8();
        }

        @Override
        public int appendQuotedUTF8(byte[] buffer, int offset) {
            return new SerializedString(getValue()).appendQuotedUTF8(buffer, offset);
        }

        @Override
        public int appendQuoted(char[] buffer, int offset) {
            return new SerializedString(getValue()).appendQuoted(buffer, offset);
        }

        @Override
        public int appendUnquotedUTF8(byte[] buffer, int offset) {
            if (offset + utf8.length > buffer.length) {
                return -1;
            }
            System.arraycopy(utf8, 0, buffer, offset, utf8.length);
            return utf8.length;
        }

        @Override
        public int appendUnquoted(char[] buffer, int offset) {
            return new SerializedString(getValue()).appendUnquoted(buffer, offset);
        }

        @Override
        public int writeQuotedUTF8(OutputStream out) throws IOException {
            return new SerializedString(getValue()).writeQuotedUTF8(out);
        }

        @Override
        public int writeUnquotedUTF8(OutputStream out) throws IOException {
            out.write(utf8);
            return utf8.length;
        }

        @Override
        public int putQuotedUTF8(ByteBuffer buffer) throws IOException {
            return new SerializedString(getValue()).putQuotedUTF8(buffer);
        }

        @Override
        public int putUnquotedUTF8(ByteBuffer buffer) {
            if (utf8.length > buffer.remaining()) {
                return -1;
            }
            buffer.put(utf8);
            return utf8.length;
        }
    }

    static boolean isFinal(io.sparkgate.api.v1.BatchState s) {
        return s == io.sparkgate.api.v1.BatchState.BATCH_STATE_SUCCESS
               || s == io.sparkgate.api.v1.BatchState.BATCH_STATE_DEAD
               || s == io.sparkgate.api.v1.BatchState.BATCH_STATE_KILLED;
    }

    private static void writeValue(JsonGenerator g, FieldDescriptor f, Object v, boolean keep) throws IOException {
        switch (f.getJavaType()) {
            case INT -> g.writeNumber((Integer) v);
            case LONG -> g.writeNumber((Long) v);
            case FLOAT -> g.writeNumber((Float) v);
            case DOUBLE -> g.writeNumber((Double) v);
            case BOOLEAN -> g.writeBoolean((Boolean) v);
            case STRING -> g.writeString((String) v);
            case BYTE_STRING -> g.writeString(Base64.getEncoder().encodeToString(((ByteString) v).toByteArray()));
            case ENUM -> g.writeString(livyName((EnumValueDescriptor) v));
            case MESSAGE -> writeMessage(g, (Message) v, keep);
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
