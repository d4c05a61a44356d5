package cgap.engine.safetensors;

import cgap.kernels.DType;

/**
 * Every dtype the safetensors format defines, with its size in bits. A checkpoint may carry any of
 * them (an int buffer, a bool mask); only those with an engine {@link DType} can be read as tensors.
 */
enum FileDType {
    BOOL(8, null),
    F4(4, null),
    F6_E2M3(6, null),
    F6_E3M2(6, null),
    U8(8, null),
    I8(8, null),
    F8_E5M2(8, null),
    F8_E4M3(8, null),
    F8_E8M0(8, null),
    F8_E4M3FNUZ(8, null),
    F8_E5M2FNUZ(8, null),
    I16(16, null),
    U16(16, null),
    F16(16, DType.F16),
    BF16(16, DType.BF16),
    I32(32, null),
    U32(32, null),
    F32(32, DType.F32),
    C64(64, null),
    F64(64, null),
    I64(64, null),
    U64(64, null);

    final int bits;
    /** The engine type with the same layout, or null when the engine cannot compute with this dtype. */
    final DType engineType;

    FileDType(int bits, DType engineType) {
        this.bits = bits;
        this.engineType = engineType;
    }

    /** The dtype spelled {@code name} in a header, or null if the format defines none. */
    static FileDType byName(String name) {
        for (FileDType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
