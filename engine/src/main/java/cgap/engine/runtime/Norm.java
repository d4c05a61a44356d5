package cgap.engine.runtime;

import cgap.kernels.RmsNorm;

/**
 * An RMSNorm with its weight: plain {@code x * w} (Llama) or {@code x * (1 + w)} (Gemma), computed in float32
 * as HF does.
 */
public record Norm(float[] weight, float eps, boolean addOne) {

    public int dim() { return weight.length; }

    /** Normalizes each of {@code rows} rows of length {@link #dim()}; {@code out} may be {@code x}. */
    public void apply(float[] x, float[] out, int rows) {
        RmsNorm.apply(x, out, rows, weight.length, weight, eps, addOne);
    }

    public float[] apply(float[] x, int rows) {
        float[] out = new float[rows * weight.length];
        apply(x, out, rows);
        return out;
    }
}
