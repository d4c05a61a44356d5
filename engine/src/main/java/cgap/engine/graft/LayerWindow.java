package cgap.engine.graft;

/**
 * A run of decoder layers, first..last inclusive (0-based), where a graft replaces the host's MLPs.
 *
 * <p>The named windows are the paper's: three overlapping windows of about 40% of depth. For 32 layers they are
 * early 0-12, mid 9-21, late 19-31; for other depths the width is round(0.4 n) layers (34 layers: late 20-33,
 * 36 layers: late 22-35, as in the paper's per-family table), early starts at 0, late ends at n - 1, and mid is
 * centred (start floor((n - width) / 2)).
 */
public record LayerWindow(int first, int last) {

    public LayerWindow {
        if (first < 0 || last < first) throw new IllegalArgumentException("layer window " + first + "-" + last + " is empty or negative");
    }

    /** Window names accepted by {@link #parse}, besides explicit A-B ranges. */
    public static final String NAMES = "early|mid|late|A-B";

    /** early, mid, late or an explicit end-inclusive range "A-B" (or a single layer "A"), checked against {@code layers}. */
    public static LayerWindow parse(String spec, int layers) {
        if (layers < 1) throw new IllegalArgumentException("a model with " + layers + " layers has no windows");
        String s = spec.trim();
        int width = Math.max(1, (int) Math.round(0.4 * layers));
        LayerWindow w = switch (s) {
            case "early" -> new LayerWindow(0, width - 1);
            case "mid", "middle" -> new LayerWindow((layers - width) / 2, (layers - width) / 2 + width - 1);
            case "late" -> new LayerWindow(layers - width, layers - 1);
            default -> explicit(s);
        };
        if (w.last >= layers) {
            throw new IllegalArgumentException("window '" + spec + "' reaches layer " + w.last + " but the model has layers 0.." + (layers - 1));
        }
        return w;
    }

    private static LayerWindow explicit(String s) {
        try {
            int dash = s.indexOf('-', 1);
            if (dash < 0) {
                int layer = Integer.parseInt(s);
                return new LayerWindow(layer, layer);
            }
            return new LayerWindow(Integer.parseInt(s.substring(0, dash).trim()), Integer.parseInt(s.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("window '" + s + "' is not " + NAMES + " (end-inclusive layer range, e.g. 19-31)");
        }
    }

    public int size() { return last - first + 1; }

    public boolean contains(int layer) { return layer >= first && layer <= last; }

    /** The layer placed at {@code layer} when the window's order is reversed: first + last - layer. */
    public int mirror(int layer) { return first + last - layer; }

    @Override
    public String toString() { return first + "-" + last; }
}
