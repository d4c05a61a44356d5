package cgap.engine.hooks;

import cgap.engine.Tensor;
import cgap.engine.safetensors.SafetensorsFile;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * A hook edit written as text, the CLI's {@code --edit}: patch, ablate or steer without writing Java.
 * <pre>
 *   HOOK[@POSITIONS]=zero                 ablate
 *   HOOK[@POSITIONS]=FILE.safetensors:T   replace with tensor T
 *   HOOK[@POSITIONS]+=FILE.safetensors:T  add tensor T (a [cols] vector broadcasts over positions)
 *   HOOK[@POSITIONS]*=NUMBER              scale
 * </pre>
 * POSITIONS is a comma list of absolute 0-based token positions; all positions when omitted. A 2-D tensor
 * [n, cols] gives one row per listed position (in list order), or one row per absolute position when no list
 * is given.
 */
public record HookEdit(String spec, HookName target, int[] positions, Op op, float[] operand, int operandRows,
                       float factor) implements Hook {

    public enum Op { ZERO, REPLACE, ADD, SCALE }

    /** Parses {@code spec}; tensor files are resolved against {@code baseDir}. */
    public static HookEdit parse(String spec, Path baseDir) {
        int opAt;
        Op op;
        int valueAt;
        if ((opAt = spec.indexOf("+=")) > 0) { op = Op.ADD; valueAt = opAt + 2; }
        else if ((opAt = spec.indexOf("*=")) > 0) { op = Op.SCALE; valueAt = opAt + 2; }
        else if ((opAt = spec.indexOf('=')) > 0) { op = Op.REPLACE; valueAt = opAt + 1; }
        else throw bad(spec, "expected HOOK[@POSITIONS]=zero|FILE:TENSOR, +=FILE:TENSOR or *=NUMBER");

        String left = spec.substring(0, opAt).trim();
        String value = spec.substring(valueAt).trim();
        int at = left.indexOf('@');
        HookName target;
        int[] positions = null;
        try {
            target = HookName.parse(at < 0 ? left : left.substring(0, at));
        } catch (IllegalArgumentException e) {
            throw bad(spec, e.getMessage());
        }
        if (at >= 0) {
            try {
                positions = Arrays.stream(left.substring(at + 1).split(",")).map(String::trim)
                        .mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw bad(spec, "positions must be a comma list of integers");
            }
            for (int p : positions) if (p < 0) throw bad(spec, "negative position " + p);
        }

        if (op == Op.SCALE) {
            try {
                return new HookEdit(spec, target, positions, op, null, 0, Float.parseFloat(value));
            } catch (NumberFormatException e) {
                throw bad(spec, "'" + value + "' is not a number");
            }
        }
        if (op == Op.REPLACE && value.equals("zero")) return new HookEdit(spec, target, positions, Op.ZERO, null, 0, 0);
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) throw bad(spec, "expected FILE.safetensors:TENSOR after the operator");
        Path file = baseDir.resolve(value.substring(0, colon));
        String tensorName = value.substring(colon + 1);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            Tensor t = st.tensor(tensorName);
            if (t.shape().length < 1 || t.shape().length > 2) {
                throw bad(spec, "tensor " + tensorName + " in " + file + " has shape " + t.shapeString() + "; expected [cols] or [n, cols]");
            }
            int rows = t.shape().length == 1 ? 1 : (int) t.shape()[0];
            return new HookEdit(spec, target, positions, op, t.toFloatArray(), t.shape().length == 1 ? 0 : rows, 0);
        }
    }

    /** Registers this edit on its hook point. */
    public void register(HookRegistry registry) { registry.add(target, this); }

    @Override
    public void onActivation(Activation a) {
        int cols = a.cols();
        if (operand != null && operand.length / Math.max(1, operandRows) != cols) {
            throw new IllegalArgumentException("--edit " + spec + ": tensor rows have " + operand.length / Math.max(1, operandRows)
                    + " values but " + target + " has " + cols + " per position");
        }
        for (int r = 0; r < a.rows(); r++) {
            int position = a.firstPosition() + r;
            int operandRow;
            if (positions == null) {
                operandRow = position;
            } else {
                operandRow = indexOf(positions, position);
                if (operandRow < 0) continue;
            }
            int base = r * cols;
            switch (op) {
                case ZERO -> Arrays.fill(a.data(), base, base + cols, 0f);
                case SCALE -> { for (int c = 0; c < cols; c++) a.data()[base + c] *= factor; }
                case REPLACE, ADD -> {
                    int src = operandRows == 0 ? 0 : operandRow;
                    if (src >= Math.max(1, operandRows)) {
                        throw new IllegalArgumentException("--edit " + spec + ": no tensor row for position " + position
                                + " (tensor has " + operandRows + " rows)");
                    }
                    for (int c = 0; c < cols; c++) {
                        float v = operand[src * cols + c];
                        if (op == Op.ADD) a.data()[base + c] += v; else a.data()[base + c] = v;
                    }
                }
            }
        }
    }

    private static int indexOf(int[] xs, int x) {
        for (int i = 0; i < xs.length; i++) if (xs[i] == x) return i;
        return -1;
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("--edit '" + spec + "': " + why);
    }
}
