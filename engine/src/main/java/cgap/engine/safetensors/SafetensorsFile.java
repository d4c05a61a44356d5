package cgap.engine.safetensors;

import cgap.engine.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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

import static cgap.engine.safetensors.SafetensorsHeader.oneLine;

/**
 * One memory-mapped, validated {@code .safetensors} file.
 *
 * <p>Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing every
 * tensor (dtype, shape, byte range in the data section), then the data section. The whole file is
 * mapped once into a shared arena, so tensors are views of the page cache that any thread may
 * read, nothing is copied to the heap, and files past 2 GB are fine. Tensors stay valid until
 * {@link #close()}.
 */
public final class SafetensorsFile implements AutoCloseable {

    private static final ValueLayout.OfLong U64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment dataSection;
    private final Map<String, TensorInfo> tensors; // in the order their bytes lie in the file
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafetensorsFile(Path path, Arena arena, MemorySegment dataSection, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.dataSection = dataSection;
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : header.tensors) {
            byName.put(t.name(), t);
        }
        this.tensors = Collections.unmodifiableMap(byName);
        this.metadata = header.metadata;
    }

    /** Maps {@code file} and validates its header; any defect is a {@link SafetensorsException} naming the file. */
    public static SafetensorsFile open(Path file) {
        if (!Files.exists(file)) {
            throw new SafetensorsException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new SafetensorsException(file + ": not a regular file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileBytes = channel.size();
            if (fileBytes < 8) {
                throw new SafetensorsException(file + ": " + fileBytes
                        + " bytes is too short for a safetensors file (the header length alone takes 8)");
            }
            MemorySegment whole = nativeView(channel.map(FileChannel.MapMode.READ_ONLY, 0, fileBytes, arena), arena);
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
            ResidentWeights.lockIfRequested(whole, file);
            return new SafetensorsFile(file, arena, whole.asSlice(dataStart), header);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new SafetensorsException(file + ": no such file", e);
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(file + ": cannot read: " + SafetensorsException.describe(e), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

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
        MemorySegment bytes = dataSection.asSlice(info.begin(), info.byteLength());
        return new Tensor(name, dtype.engineType, info.shape(), bytes);
    }

    /** Unmaps the file; tensors obtained from it must no longer be used. Closing twice is harmless. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
