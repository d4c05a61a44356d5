package cgap.engine.hooks;

/**
 * The hook points of the contract (shared/HOOKS-AND-METRICS.md), named after TransformerLens.
 * Per-block points are written {@code blocks.{i}.<suffix>}; model-wide points stand alone.
 */
public enum HookPoint {
    EMBED("hook_embed", false),
    RESID_PRE("hook_resid_pre", true),
    LN1("ln1.hook_normalized", true),
    ATTN_OUT("hook_attn_out", true),
    RESID_MID("hook_resid_mid", true),
    LN2("ln2.hook_normalized", true),
    MLP_PRE("mlp.hook_pre", true),
    MLP_POST("mlp.hook_post", true),
    ROUTER_LOGITS("mlp.hook_router_logits", true),
    TOPK_IDS("mlp.hook_topk_ids", true),
    MLP_OUT("hook_mlp_out", true),
    RESID_POST("hook_resid_post", true),
    LN_FINAL("ln_final.hook_normalized", false),
    LOGITS("logits", false);

    public final String suffix;
    public final boolean perBlock;

    HookPoint(String suffix, boolean perBlock) {
        this.suffix = suffix;
        this.perBlock = perBlock;
    }
}
