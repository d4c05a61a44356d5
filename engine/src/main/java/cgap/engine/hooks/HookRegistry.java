package cgap.engine.hooks;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which hook points are watched, and by whom. The forward pass asks {@link #watching} before it builds an
 * {@link Activation}, so an unwatched point costs one map lookup and nothing else.
 */
public final class HookRegistry {
    private final Map<HookName, List<Hook>> hooks = new HashMap<>();
    private final EnumMap<HookPoint, Boolean> anyAt = new EnumMap<>(HookPoint.class);
    private final Map<Class<?>, Object> listeners = new HashMap<>();

    public static HookRegistry none() { return new HookRegistry(); }

    public HookRegistry add(HookName name, Hook hook) {
        hooks.computeIfAbsent(name, k -> new ArrayList<>()).add(hook);
        anyAt.put(name.point(), true);
        return this;
    }

    public HookRegistry add(String name, Hook hook) { return add(HookName.parse(name), hook); }

    public boolean isEmpty() { return hooks.isEmpty() && listeners.isEmpty(); }

    /**
     * Registers a listener for values that are not hook points, which the layer kind that produces them looks up
     * by type (e.g. the per-token expert routing of a mixture-of-experts layer). One listener per type.
     */
    public <T> HookRegistry listen(Class<T> type, T listener) {
        listeners.put(type, type.cast(listener));
        return this;
    }

    /** The listener registered for {@code type}, or null. */
    public <T> T listener(Class<T> type) { return type.cast(listeners.get(type)); }

    public boolean watching(HookPoint point, int layer) {
        return anyAt.containsKey(point) && hooks.containsKey(new HookName(point, layer));
    }

    /** Runs the hooks watching {@code point} (in registration order) over {@code rows x cols} values in {@code data}. */
    public void fire(HookPoint point, int layer, float[] data, int rows, int cols, int firstPosition) {
        if (!anyAt.containsKey(point)) return;
        HookName name = new HookName(point, layer);
        List<Hook> watchers = hooks.get(name);
        if (watchers == null) return;
        Activation value = new Activation(name, data, rows, cols, firstPosition);
        for (Hook hook : watchers) hook.onActivation(value);
    }
}
