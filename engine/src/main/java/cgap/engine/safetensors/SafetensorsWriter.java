package cgap.engine.safetensors;

import cgap.engine.Tensor;
import cgap.kernels.DType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes f32 values as a safetensors file in one storage dtype (F32, BF16 rounded to nearest
 * even, or F16), readable by Python's safetensors. The file appears atomically: it is written to
 * a temporary file in the same directory, flushed, then moved over the target.
 *
 * <pre>
 * new SafetensorsWriter(DType.BF16)
 *         .add("resid.0", new long[] {tokens, hidden}, values)
 *         .metadata("model", "gemma-2-2b")
 *         .write(out);
 * </pre>
 *
 * {@link #writeAsStored} writes existing tensors byte for byte in their own dtypes.
 */
public final class SafetensorsWriter {

    /** Bytes encoded per write call: large enough to be fast, small enough to cost nothing. */
    private static final int CHUNK_BYTES = 1 << 20;

    private final DType storeAs;
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** One tensor to write: its header fields and a way to emit its bytes. */
    private record Entry(String name, DType dtype, long[] shape, long byteLength, Payload payload) {
    }

    @FunctionalInterface
    private interface Payload {
        void writeTo(ChunkedOutput out) throws IOException;
    }

    public SafetensorsWriter(DType storeAs) {
        this.storeAs = Objects.requireNonNull(storeAs, "storeAs");
    }

    /**
     * Adds a tensor of {@code values} (row-major, product(shape) of them), stored as this writer's
     * dtype. The array is not copied: it is read when {@link #write} runs.
     */
    public SafetensorsWriter add(String name, long[] shape, float[] values) {
        long[] shapeCopy = shape.clone();
        long elements = checkedElementCount(name, shapeCopy);
        if (elements != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shapeCopy)
                    + " holds " + elements + " values but " + values.length + " were given");
        }
        Payload payload = switch (storeAs) {
            case F32 -> out -> {
                for (float v : values) {
                    out.putFloat(v);
                }
            };
            case BF16 -> out -> {
                for (float v : values) {
                    out.putShort(Tensor.floatToBf16(v));
                }
            };
            case F16 -> out -> {
                for (float v : values) {
                    out.putShort(Float.floatToFloat16(v)); // round to nearest even, like torch
                }
            };
        };
        addEntry(new Entry(name, storeAs, shapeCopy, elements * storeAs.bytes, payload));
        return this;
    }

    /** Adds a {@code __metadata__} entry (string to string, as the format requires). */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "metadata key"), Objects.requireNonNull(value, "metadata value"));
        return this;
    }

    /** Writes all added tensors, in the order they were added, to {@code file}, replacing it atomically. */
    public void write(Path file) {
        writeFile(file, entries, metadata);
    }

    /**
     * Writes {@code tensors} byte for byte in their own dtypes (no rounding, no conversion), in list
     * order, with the given {@code __metadata__} (may be empty). Used to build synthetic checkpoints
     * from tensors already in F32, F16 or BF16.
     */
    public static void writeAsStored(Path file, List<Tensor> tensors, Map<String, String> metadata) {
        SafetensorsWriter writer = new SafetensorsWriter(DType.F32); // storeAs unused: each tensor keeps its dtype
        for (Tensor t : tensors) {
            MemorySegment bytes = t.data();
            writer.addEntry(new Entry(t.name(), t.dtype(), t.shape(), bytes.byteSize(), out -> out.putBytes(bytes)));
        }
        metadata.forEach(writer::metadata);
        writer.write(file);
    }

    private void addEntry(Entry entry) {
        Objects.requireNonNull(entry.name(), "tensor name");
        if (entry.name().equals(SafetensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("'" + SafetensorsHeader.METADATA_KEY + "' is reserved and cannot name a tensor");
        }
        if (!names.add(entry.name())) {
            throw new IllegalArgumentException("tensor '" + entry.name() + "' added twice");
        }
        entries.add(entry);
    }

    private static long checkedElementCount(String name, long[] shape) {
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        return elements;
    }

    private static void writeFile(Path file, List<Entry> entries, Map<String, String> metadata) {
        byte[] header = headerBytes(entries, metadata);
        Path target = file.toAbsolutePath();
        Path temp = null;
        try {
            temp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
            makeWorldReadable(temp);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ChunkedOutput out = new ChunkedOutput(channel);
                out.putLong(header.length);
                out.putBytes(MemorySegment.ofArray(header));
                for (Entry e : entries) {
                    e.payload().writeTo(out);
                }
                out.flush();
                channel.force(true); // the data must be on disk before the move makes it visible
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot write: " + SafetensorsException.describe(e), e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp); // only still there if something failed
                } catch (IOException ignored) {
                    // the original error matters more than a leftover temp file
                }
            }
        }
    }

    /** Temp files are created owner-only; the result should read like any other written file. */
    private static void makeWorldReadable(Path temp) throws IOException {
        if (Files.getFileStore(temp).supportsFileAttributeView(PosixFileAttributeView.class)) {
            Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    /** The JSON header, padded with spaces so the data section starts 8-byte aligned (as Python's writer does). */
    private static byte[] headerBytes(List<Entry> entries, Map<String, String> metadata) {
        ObjectNode root = SafetensorsHeader.STRICT_JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : entries) {
            ObjectNode node = root.putObject(e.name());
            node.put("dtype", e.dtype().name());
            ArrayNode shape = node.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(offset + e.byteLength());
            offset += e.byteLength();
        }
        byte[] json;
        try {
            json = SafetensorsHeader.STRICT_JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    /** Little-endian values into a file through one reusable buffer. */
    private static final class ChunkedOutput {
        private final FileChannel channel;
        private final byte[] bufferArray = new byte[CHUNK_BYTES];
        private final ByteBuffer buffer = ByteBuffer.wrap(bufferArray).order(ByteOrder.LITTLE_ENDIAN);
        private final MemorySegment bufferSegment = MemorySegment.ofArray(bufferArray);

        ChunkedOutput(FileChannel channel) {
            this.channel = channel;
        }

        void putLong(long v) throws IOException {
            room(8);
            buffer.putLong(v);
        }

        void putFloat(float v) throws IOException {
            room(4);
            buffer.putFloat(v);
        }

        void putShort(short v) throws IOException {
            room(2);
            buffer.putShort(v);
        }

        /** Copies bytes (of any size, 2 GB and beyond included) through the buffer. */
        void putBytes(MemorySegment bytes) throws IOException {
            long done = 0;
            while (done < bytes.byteSize()) {
                if (!buffer.hasRemaining()) {
                    flush();
                }
                int n = (int) Math.min(buffer.remaining(), bytes.byteSize() - done);
                MemorySegment.copy(bytes, done, bufferSegment, buffer.position(), n);
                buffer.position(buffer.position() + n);
                done += n;
            }
        }

        private void room(int bytes) throws IOException {
            if (buffer.remaining() < bytes) {
                flush();
            }
        }

        void flush() throws IOException {
            buffer.flip();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            buffer.clear();
        }
    }
}
