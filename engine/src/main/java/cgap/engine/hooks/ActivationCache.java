package cgap.engine.hooks;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Records the values at the hook points it is registered on, across a prefill and any decode steps: for each
 * name, the rows of every call concatenated in position order. Register it with {@link #watch}.
 */
public final class ActivationCache implements Hook {
    private final Map<HookName, Recorded> recorded = new LinkedHashMap<>();

    /** Values of one hook point: rows [rows, cols] for positions firstPosition.. (in call order). */
    public record Recorded(float[] data, int rows, int cols, int firstPosition) {
        public long[] shape() { return new long[] {rows, cols}; }
    }

    public ActivationCache watch(HookRegistry registry, Iterable<HookName> names) {
        for (HookName name : names) registry.add(name, this);
        return this;
    }

    @Override
    public void onActivation(Activation value) {
        recorded.merge(value.name(),
                new Recorded(value.copy(), value.rows(), value.cols(), value.firstPosition()),
                (old, now) -> {
                    float[] joined = Arrays.copyOf(old.data, (old.rows + now.rows) * old.cols);
                    System.arraycopy(now.data, 0, joined, old.rows * old.cols, now.rows * now.cols);
                    return new Recorded(joined, old.rows + now.rows, old.cols, old.firstPosition);
                });
    }

    public Recorded get(HookName name) { return recorded.get(name); }

    public Recorded get(String name) { return recorded.get(HookName.parse(name)); }

    public Map<HookName, Recorded> all() { return recorded; }
}
