package cgap.engine.hooks;

/** One hook point of one block (layer is -1 for model-wide points), printed as the contract names it. */
public record HookName(HookPoint point, int layer) {

    public HookName {
        if (point.perBlock != (layer >= 0)) {
            throw new IllegalArgumentException(point.perBlock
                    ? "hook point " + point.suffix + " needs a block index"
                    : "hook point " + point.suffix + " has no block index");
        }
    }

    public static HookName of(HookPoint point) { return new HookName(point, -1); }

    public static HookName of(HookPoint point, int layer) { return new HookName(point, layer); }

    /** Parses a contract name such as {@code blocks.3.hook_resid_post} or {@code ln_final.hook_normalized}. */
    public static HookName parse(String text) {
        if (text.startsWith("blocks.")) {
            int dot = text.indexOf('.', 7);
            if (dot > 7) {
                String suffix = text.substring(dot + 1);
                try {
                    int layer = Integer.parseInt(text.substring(7, dot));
                    for (HookPoint p : HookPoint.values()) {
                        if (p.perBlock && p.suffix.equals(suffix) && layer >= 0) return new HookName(p, layer);
                    }
                } catch (NumberFormatException ignored) {
                    // falls through to the error below
                }
            }
        } else {
            for (HookPoint p : HookPoint.values()) {
                if (!p.perBlock && p.suffix.equals(text)) return new HookName(p, -1);
            }
        }
        throw new IllegalArgumentException("unknown hook name '" + text
                + "' (expected e.g. hook_embed, blocks.0.hook_resid_post, blocks.2.mlp.hook_post, ln_final.hook_normalized, logits)");
    }

    @Override
    public String toString() {
        return point.perBlock ? "blocks." + layer + "." + point.suffix : point.suffix;
    }
}
