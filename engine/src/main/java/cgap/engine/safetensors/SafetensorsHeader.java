package cgap.engine.safetensors;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, parsed and checked against the size of the data section
 * with the same rules as the reference Rust crate: known dtypes, non-negative shapes, byte lengths
 * that match shape x dtype, and tensors that tile the data section exactly, without gap or overlap.
 */
final class SafetensorsHeader {

    /** The reference implementation's bound on the header; it keeps a hostile length from costing memory. */
    static final long MAX_HEADER_BYTES = 100_000_000;

    static final String METADATA_KEY = "__metadata__";

    /** Strict JSON: a repeated key is an error (two tensors of one name), and so is anything after the object. */
    static final ObjectMapper STRICT_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Entries in the order their bytes lie in the data section. */
    final List<TensorInfo> tensors;
    final Map<String, String> metadata;

    private SafetensorsHeader(List<TensorInfo> tensors, Map<String, String> metadata) {
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Parses {@code headerBytes} (the bytes after the 8-byte length) of {@code file}, whose data
     * section holds {@code dataBytes} bytes.
     */
    static SafetensorsHeader parse(Path file, byte[] headerBytes, long dataBytes) {
        String text = decodeUtf8(file, headerBytes);
        // The reference crate insists the header starts with '{' (no leading whitespace); so do we.
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafetensorsException(file + ": header is not a JSON object (it does not start with '{')");
        }
        JsonNode root = readJson(file, "header", text);
        if (!root.isObject()) {
            throw new SafetensorsException(file + ": header is not a JSON object");
        }

        List<TensorInfo> tensors = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                tensors.add(parseEntry(file, field.getKey(), field.getValue()));
            }
        }
        checkLayout(file, tensors, dataBytes);
        return new SafetensorsHeader(List.copyOf(tensors), metadata);
    }

    /** Parses JSON text strictly; a syntax error becomes a one-line message with line and column. */
    static JsonNode readJson(Path file, String what, String text) {
        try {
            return STRICT_JSON.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
            throw new SafetensorsException(file + ": " + what + " is not valid JSON: "
                    + oneLine(e.getOriginalMessage()) + where, e);
        }
    }

    private static String decodeUtf8(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new SafetensorsException(file + ": header is not valid UTF-8 (bad byte at header offset "
                    + in.position() + ")");
        }
        return out.flip().toString();
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) {
        if (node.isNull()) {
            return Map.of(); // the reference crate reads a null __metadata__ as absent
        }
        if (!node.isObject()) {
            throw new SafetensorsException(file + ": " + METADATA_KEY + " is not a JSON object of strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (!field.getValue().isTextual()) {
                throw new SafetensorsException(file + ": " + METADATA_KEY + " key '" + oneLine(field.getKey())
                        + "' has a non-string value (" + field.getValue().getNodeType().name().toLowerCase() + ")");
            }
            metadata.put(field.getKey(), field.getValue().textValue());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode node) {
        String at = file + ": tensor '" + oneLine(name) + "': ";
        if (!node.isObject()) {
            throw new SafetensorsException(at + "header entry is not a JSON object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null) {
            throw new SafetensorsException(at + "missing 'dtype'");
        }
        if (!dtypeNode.isTextual() || FileDType.byName(dtypeNode.textValue()) == null) {
            throw new SafetensorsException(at + "unknown dtype " + oneLine(dtypeNode.toString()));
        }
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null) {
            throw new SafetensorsException(at + "missing 'shape'");
        }
        if (!shapeNode.isArray()) {
            throw new SafetensorsException(at + "'shape' is not an array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeInteger(shapeNode.get(i), at + "'shape' element " + i);
        }
        JsonNode offsetsNode = node.get("data_offsets");
        if (offsetsNode == null) {
            throw new SafetensorsException(at + "missing 'data_offsets'");
        }
        if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw new SafetensorsException(at + "'data_offsets' is not an array [begin, end]");
        }
        long begin = nonNegativeInteger(offsetsNode.get(0), at + "'data_offsets' begin");
        long end = nonNegativeInteger(offsetsNode.get(1), at + "'data_offsets' end");
        if (begin > end) {
            throw new SafetensorsException(at + "'data_offsets' [" + begin + ", " + end + "] ends before it begins");
        }
        return new TensorInfo(name, dtypeNode.textValue(), shape, begin, end);
    }

    private static long nonNegativeInteger(JsonNode node, String what) {
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
            throw new SafetensorsException(what + " is not an integer in range: " + oneLine(node.toString()));
        }
        long value = node.longValue();
        if (value < 0) {
            throw new SafetensorsException(what + " is negative: " + value);
        }
        return value;
    }

    /** The tensors must tile [0, dataBytes) exactly, each as long as its shape and dtype say. */
    private static void checkLayout(Path file, List<TensorInfo> tensors, long dataBytes) {
        tensors.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long next = 0; // where the next tensor must begin
        TensorInfo previous = null;
        for (TensorInfo t : tensors) {
            String at = file + ": tensor '" + oneLine(t.name()) + "': ";
            String offsets = "data_offsets [" + t.begin() + ", " + t.end() + "]";
            if (t.end() > dataBytes) {
                throw new SafetensorsException(at + offsets + " lie outside the data section (" + dataBytes + " bytes)");
            }
            if (t.begin() < next) {
                throw new SafetensorsException(at + offsets + " overlap tensor '" + oneLine(previous.name())
                        + "' (which ends at " + next + ")");
            }
            if (t.begin() > next) {
                throw new SafetensorsException(at + offsets + " leave a gap of " + (t.begin() - next)
                        + " unused bytes before this tensor");
            }
            long expected = expectedByteLength(at, FileDType.byName(t.dtype()), t.shape());
            if (t.byteLength() != expected) {
                throw new SafetensorsException(at + offsets + " hold " + t.byteLength() + " bytes but "
                        + t.dtype() + " " + t.shapeString() + " needs " + expected);
            }
            next = t.end();
            previous = t;
        }
        if (next != dataBytes) {
            throw new SafetensorsException(file + ": " + (dataBytes - next) + " trailing bytes after the last tensor"
                    + " (tensors end at data offset " + next + ", the data section has " + dataBytes + " bytes)");
        }
    }

    private static long expectedByteLength(String at, FileDType dtype, long[] shape) {
        long bits;
        try {
            long elements = 1;
            for (long d : shape) {
                elements = Math.multiplyExact(elements, d);
            }
            bits = Math.multiplyExact(elements, (long) dtype.bits);
        } catch (ArithmeticException e) {
            throw new SafetensorsException(at + "shape " + Arrays.toString(shape) + " of " + dtype
                    + " overflows a 64-bit size");
        }
        if (bits % 8 != 0) {
            throw new SafetensorsException(at + dtype + " " + Arrays.toString(shape)
                    + " is not a whole number of bytes (" + bits + " bits)");
        }
        return bits / 8;
    }

    /** Error messages are one line, even when a name or a parser message holds a line break. */
    static String oneLine(String s) {
        return s.replace("\r", "\\r").replace("\n", "\\n");
    }
}
