package cgap.engine.safetensors;

import cgap.engine.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static cgap.engine.safetensors.SafetensorsHeader.oneLine;

/**
 * One memory-mapped, validated {@code .safetensors} file.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing every
 * tensor (dtype, shape, byte range in the data section), then the data section. The whole file is
 * mapped once into a shared arena, so tensors are views of the page cache that any thread may
 * read, nothing is copied to the heap, and files past 2 GB are fine. Tensors stay valid until
 * {@link #close()}.
 *
 * <p>With {@link Residence#MEMORY} ({@code -Dcgap.weights=memory}) each tensor is read from the file into
 * anonymous memory when first asked for, as llama.cpp's --no-mmap does (so a multimodal checkpoint's vision
 * tower, never asked for, is never read), and the file stays open, unmapped, until {@link #close()}. Why: some
 * VMs page out cold page-cache pages but not anonymous ones (one here ran DAMON "pageout" on unmapped file pages
 * idle for 60 s), and then every run re-reads the mapped weights from disk, at 1-5 GB/s instead of memory's 15
 * (bench/RESULTS.md).
 */
public final class SafetensorsFile implements AutoCloseable {

    private static final ValueLayout.OfLong U64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    /** The mapped data section (MAPPED); null when tensors are read into memory. */
    private final MemorySegment dataSection;
    /** MEMORY: the open file, where the data section starts in it, and the tensors read so far. */
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, MemorySegment> inMemory = new ConcurrentHashMap<>();
    private final Map<String, TensorInfo> tensors; // in the order their bytes lie in the file
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment dataSection, FileChannel channel, long dataStart,
                            SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.dataSection = dataSection;
        this.channel = channel;
        this.dataStart = dataStart;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : header.tensors) {
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.metadata = header.metadata;
    }

    /** Where a file's tensors live while it is open. */
    public enum Residence {
        /** Views of the mapped file (the page cache): nothing copied, the default. */
        MAPPED,
        /** One copy in anonymous memory, read from the file at open. */
        MEMORY;

        /** The residence the system property {@code cgap.weights} names ({@code mapped} or {@code memory}), MAPPED when unset. */
        public static Residence fromSystemProperty() {
            String value = System.getProperty("cgap.weights", "mapped").trim();
            return switch (value) {
                case "mapped" -> MAPPED;
                case "memory" -> MEMORY;
                default -> throw new IllegalArgumentException(
                        "system property cgap.weights must be 'mapped' or 'memory', got '" + value + "'");
            };
        }
    }

    /** {@link #open(Path, Residence)} where {@code -Dcgap.weights} says (mapped by default). */
    public static SafetensorsFile open(Path file) {
        return open(file, Residence.fromSystemProperty());
    }

    /** Maps {@code file} and validates its header; any defect is a {@link SafetensorsException} naming the file. */
    public static SafetensorsFile open(Path file, Residence residence) {
        if (!Files.exists(file)) {
            throw new SafetensorsException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new SafetensorsException(file + ": not a regular file");
        }
        Arena arena = Arena.ofShared();
        // The mapping lives in the file's arena, or (MEMORY) only while the header is read.
        Arena mapping = residence == Residence.MAPPED ? arena : Arena.ofConfined();
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
            long fileBytes = channel.size();
            if (fileBytes < 8) {
                throw new SafetensorsException(file + ": " + fileBytes
                        + " bytes is too short for a safetensors file (the header length alone takes 8)");
            }
            MemorySegment whole = nativeView(channel.map(FileChannel.MapMode.READ_ONLY, 0, fileBytes, mapping), mapping);
            long headerBytes = whole.get(U64_LE, 0); // unsigned on disk: a huge value reads as negative
            if (headerBytes < 0 || headerBytes > SafetensorsHeader.MAX_HEADER_BYTES) {
                throw new SafetensorsException(file + ": header length " + Long.toUnsignedString(headerBytes)
                        + " exceeds the limit of " + SafetensorsHeader.MAX_HEADER_BYTES + " bytes");
            }
            if (headerBytes > fileBytes - 8) {
                throw new SafetensorsException(file + ": header length " + headerBytes
                        + " runs past the end of the file (" + fileBytes + " bytes)");
            }
            byte[] headerJson = whole.asSlice(8, headerBytes).toArray(ValueLayout.JAVA_BYTE);
            long dataStart = 8 + headerBytes;
            SafetensorsHeader header = SafetensorsHeader.parse(file, headerJson, fileBytes - dataStart);
            if (residence == Residence.MEMORY) {
                SafetensorsFile opened = new SafetensorsFile(file, arena, null, channel, dataStart, header);
                channel = null; // the file's now, closed by close()
                return opened;
            }
            ResidentWeights.lockIfRequested(whole, file);
            return new SafetensorsFile(file, arena, whole.asSlice(dataStart), null, dataStart, header);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new SafetensorsException(file + ": no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(file + ": cannot read: " + SafetensorsException.describe(e), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        } finally {
            if (mapping != arena) mapping.close();
            closeQuietly(channel); // the channel is only kept by a MEMORY file; a mapping outlives it
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing was written through it, so nothing can be lost
        }
    }

    /**
     * Tensor {@code info}'s bytes read into anonymous memory from the arena (a native segment like {@link #nativeView}'s,
     * so the kernels see one segment class either way), placed as far past a cache line as they lie in the mapped file, so
     * that every tensor starts at the same offset within its cache line in both residences. Read with large positional
     * reads (safe from several threads) rather than copied from a mapping, which would fault evicted pages back in one
     * small read at a time.
     */
    private MemorySegment readIntoMemory(TensorInfo info) {
        long from = dataStart + info.begin(), bytes = info.byteLength();
        MemorySegment copy;
        try {
            copy = AnonymousMemory.allocate(bytes + from % 64, arena).asSlice(from % 64, bytes);
        } catch (OutOfMemoryError e) {
            throw new SafetensorsException(path + ": cannot hold tensor '" + oneLine(info.name()) + "' (" + bytes
                    + " bytes) in memory (-Dcgap.weights=memory); leave the weights mapped (-Dcgap.weights=mapped, the default)", e);
        }
        try {
            for (long done = 0; done < bytes; ) {
                ByteBuffer buffer = copy.asSlice(done, Math.min(READ_BYTES, bytes - done)).asByteBuffer();
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer, from + done + buffer.position()) < 0) {
                        throw new SafetensorsException(path + ": ended at byte " + (from + done + buffer.position())
                                + " while tensor '" + oneLine(info.name()) + "' was read (was the file truncated after it was opened?)");
                    }
                }
                done += buffer.capacity();
            }
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot read tensor '" + oneLine(info.name()) + "': "
                    + SafetensorsException.describe(e), e);
        }
        return copy;
    }

    /** Bytes per read when tensors are read into memory. */
    private static final long READ_BYTES = 64L << 20;

    /**
     * The same mapped bytes as a plain native segment (same bounds, same arena, so closing still unmaps and
     * invalidates it). Why: the JIT compiles each kernel's loads against the segment classes it has seen, and
     * mapped segments beside the native ones of the JIT warm-up made those loads bimorphic; decode ran 20 to
     * 30% slower that way, side by side on the same machine (bench/RESULTS.md, 2026-12-04 evening).
     */
    @SuppressWarnings("restricted") // same address range and arena as the mapping: nothing is widened
    private static MemorySegment nativeView(MemorySegment mapped, Arena arena) {
        return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null);
    }

    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (string to string), empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensor names in the order their bytes lie in the file. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The header entry of {@code name}: works for every dtype, including those the engine cannot read. */
    public TensorInfo info(String name) {
        TensorInfo info = tensors.get(name);
        if (info == null) {
            throw new SafetensorsException(path + ": no tensor '" + oneLine(name) + "'");
        }
        return info;
    }

    /**
     * A view of tensor {@code name}'s bytes. Only F32, F16 and BF16 tensors can be read; asking for
     * another dtype (an int buffer, a bool mask) is an error naming the dtype, tensor and file.
     */
    public Tensor tensor(String name) {
        TensorInfo info = info(name);
        if (closed) {
            throw new SafetensorsException(path + ": tensor '" + oneLine(name) + "' requested after the file was closed");
        }
        FileDType dtype = FileDType.byName(info.dtype());
        if (dtype.engineType == null) {
            throw new SafetensorsException(path + ": tensor '" + oneLine(name) + "' has dtype " + info.dtype()
                    + ", which the engine cannot read (only F32, F16 and BF16)");
        }
        MemorySegment bytes = dataSection != null ? dataSection.asSlice(info.begin(), info.byteLength())
                : inMemory.computeIfAbsent(name, unused -> readIntoMemory(info));
        return new Tensor(name, dtype.engineType, info.shape(), bytes);
    }

    /**
     * Unmaps the file (or frees the tensors read into memory); tensors obtained from it must no longer be used.
     * Closing twice is harmless.
     */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            closeQuietly(channel);
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
