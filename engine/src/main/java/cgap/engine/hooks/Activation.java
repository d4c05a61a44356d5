package cgap.engine.hooks;

/**
 * The value at a hook point as the forward pass holds it: {@code rows} token positions starting at absolute
 * position {@code firstPosition} (0 for a prefill, the step's position for a decode step), {@code cols} values each,
 * row-major in {@code data}. A hook reads it, or writes into {@code data} to replace it: the forward pass continues
 * with whatever the array holds when the hook returns.
 */
public record Activation(HookName name, float[] data, int rows, int cols, int firstPosition) {

    public float get(int row, int col) { return data[row * cols + col]; }

    public void set(int row, int col, float value) { data[row * cols + col] = value; }

    /** A copy of the live part of the data (the array may be longer than rows * cols). */
    public float[] copy() { return java.util.Arrays.copyOf(data, rows * cols); }
}
