package cgap.kernels;

/** Storage types of weights and dumped activations. Activations are always computed in f32. */
public enum DType {
    F32(4), F16(2), BF16(2);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }
}
