package cgap.engine.runtime;

import cgap.kernels.Activations;

/** The MLP non-linearity, applied as a GLU: {@code act(gate) * up}. */
public enum ActivationFunction {
    SILU, GELU_TANH;

    public void glu(float[] gate, float[] up, float[] out, int n) {
        switch (this) {
            case SILU -> Activations.siluGlu(gate, up, out, n);
            case GELU_TANH -> Activations.geluTanhGlu(gate, up, out, n);
        }
    }
}
