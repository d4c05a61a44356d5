"""The fixture cases: one tiny random model per family/option set, and how its config.json looks.

Each case is a dict:
  config()        transformers config object (transformers-5 keys)
  model_class     class used to create the random model; load_class reloads it from disk
  decoder(model)  the module holding embed_tokens / layers / norm
  dialect         "hf5": config.json as transformers 5.18 writes it (dtype, rope_parameters,
                  layer_types); "legacy": rewritten by to_legacy() into the older hub keys
                  (torch_dtype, rope_theta, rope_scaling, ...) that most real checkpoints use
  shard           {dtype: max_shard_size} to force a sharded save with an index file
  T, prompt_len   prompt tokens recorded / prefix used for the greedy continuation
  seed, gain, embed_std, head_gain, norm_spread, bias_std, norm_one_plus_w: random weights
"""

from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Olmo2Config,
    Olmo2ForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)


def causal_decoder(model):
    return model.model


def legacy_common(cfg):
    """Keys every legacy rewrite shares: torch_dtype instead of dtype."""
    cfg = dict(cfg)
    cfg["torch_dtype"] = cfg.pop("dtype")
    return cfg


def split_rope(cfg):
    """rope_parameters -> rope_theta + rope_scaling (None when the type is default)."""
    rope = dict(cfg.pop("rope_parameters"))
    cfg["rope_theta"] = rope.pop("rope_theta")
    if rope.get("rope_type", "default") == "default":
        cfg["rope_scaling"] = None
    else:
        cfg["rope_scaling"] = rope
    return cfg


def drop_default_head_dim(cfg):
    if cfg.get("head_dim") == cfg["hidden_size"] // cfg["num_attention_heads"]:
        del cfg["head_dim"]
    return cfg


def llama_to_legacy(cfg):
    cfg = legacy_common(cfg)
    cfg = split_rope(cfg)
    return drop_default_head_dim(cfg)


CASES = {}


def case(name, **kw):
    kw["name"] = name
    kw.setdefault("decoder", causal_decoder)
    kw.setdefault("load_class", kw["model_class"])
    kw.setdefault("T", 32)
    kw.setdefault("prompt_len", 10)
    CASES[name] = kw


# Llama 3 style: GQA 4/2, llama3 RoPE scaling with all three wavelength bands in use
# (rope_theta 500, head_dim 16: wavelengths 6.3 (kept), 13 and 29 (blended), 61+ (divided
# by factor) against original_max_position_embeddings 32 / high_freq_factor 4 / low 1).
case(
    "llama",
    family="llama",
    architecture="LlamaForCausalLM",
    model_class=LlamaForCausalLM,
    dialect="legacy",
    to_legacy=llama_to_legacy,
    seed=11,
    shard={"bf16": "100KB"},
    notes="GQA 4 heads / 2 kv heads, head_dim 16, untied lm_head, llama3 rope scaling "
          "(factor 8, low 1, high 4, original_max 32, theta 500); bf16 variant sharded with an index",
    config=lambda: LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=256, max_position_embeddings=128, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 32},
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2),
)

# Llama 2 style variant: tied embeddings (no lm_head.weight in the files), head_dim 16
# explicitly != hidden/heads = 12, linear RoPE scaling.
case(
    "llama2",
    family="llama",
    architecture="LlamaForCausalLM",
    model_class=LlamaForCausalLM,
    dialect="hf5",
    seed=12,
    embed_std=0.4,  # tied: the embedding is also the unembedding, keep logits unsaturated
    T=24,
    notes="tied embeddings, explicit head_dim 16 != hidden/heads 12, MHA 4/4, linear rope scaling factor 2",
    config=lambda: LlamaConfig(
        hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, head_dim=16, vocab_size=256, max_position_embeddings=128,
        rms_norm_eps=1e-6, rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
)


def drop_layer_types(cfg):
    cfg.pop("layer_types", None)
    return cfg


def mistral_like_to_legacy(cfg):
    return drop_default_head_dim(drop_layer_types(split_rope(legacy_common(cfg))))


SMALL = dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3, vocab_size=256,
             max_position_embeddings=128)

# Mistral: sliding window 8 on every layer (T = 24 > 8).
case(
    "mistral",
    family="mistral",
    architecture="MistralForCausalLM",
    model_class=MistralForCausalLM,
    dialect="hf5",
    sliding=True,
    seed=21,
    T=24,
    notes="sliding_window 8 on every layer (T 24), GQA 4/2, head_dim 12, untied, rope_theta 10000",
    config=lambda: MistralConfig(
        **SMALL, num_attention_heads=4, num_key_value_heads=2, sliding_window=8, rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2),
)


def qwen2_ignored_window_to_legacy(cfg):
    """Like real Qwen2 checkpoints: a sliding_window value is present, use_sliding_window false.

    transformers 5.18 writes sliding_window null when use_sliding_window is false, so the value
    is put back by hand; HF must ignore it (the reload is checked against the saved model)."""
    cfg = mistral_like_to_legacy(cfg)
    assert cfg["use_sliding_window"] is False
    cfg["sliding_window"] = 8
    return cfg


# Qwen2: q/k/v bias (no o_proj bias), sliding_window present but unused.
case(
    "qwen2",
    family="qwen2",
    architecture="Qwen2ForCausalLM",
    model_class=Qwen2ForCausalLM,
    dialect="legacy",
    to_legacy=qwen2_ignored_window_to_legacy,
    # loading with the window forced on (layers 1, 2 sliding) must give other logits
    ignored_window_enabled={"sliding_window": 8,
                            "layer_types": ["full_attention", "sliding_attention", "sliding_attention"]},
    seed=31,
    T=24,
    notes="q/k/v bias, o_proj without bias, sliding_window 8 with use_sliding_window false "
          "(must be ignored: full attention everywhere), max_window_layers 1, GQA 4/2, tied",
    config=lambda: Qwen2Config(
        **SMALL, num_attention_heads=4, num_key_value_heads=2, use_sliding_window=False,
        sliding_window=8, max_window_layers=1, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2),
    embed_std=0.4,
)


def qwen2_swa_to_legacy(cfg):
    cfg = mistral_like_to_legacy(cfg)
    assert cfg["use_sliding_window"] is True and cfg["sliding_window"] == 8
    return cfg


# Qwen2 with sliding window really on: transformers 5.18 derives
# layer_types[i] = "sliding_attention" iff use_sliding_window and i >= max_window_layers.
case(
    "qwen2-swa",
    family="qwen2",
    architecture="Qwen2ForCausalLM",
    model_class=Qwen2ForCausalLM,
    dialect="legacy",
    to_legacy=qwen2_swa_to_legacy,
    sliding=True,
    seed=32,
    T=24,
    notes="use_sliding_window true, sliding_window 8, max_window_layers 2 of 3 layers: only layer 2 "
          "slides (5.18: layer i slides iff i >= max_window_layers); config.json has no layer_types",
    config=lambda: Qwen2Config(
        **SMALL, num_attention_heads=4, num_key_value_heads=2, use_sliding_window=True,
        sliding_window=8, max_window_layers=2, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2),
    check_loaded=lambda m, d: check_layer_types(m, ["full_attention", "full_attention", "sliding_attention"]),
)


def check_layer_types(model, expected):
    got = list(model.config.layer_types)
    assert got == expected, f"layer_types {got} != {expected}"


# Qwen3: per-head q/k RMSNorm, head_dim 16 != 48/4 (like Qwen3-0.6B), tied.
case(
    "qwen3",
    family="qwen3",
    architecture="Qwen3ForCausalLM",
    model_class=Qwen3ForCausalLM,
    dialect="hf5",
    seed=41,
    T=24,
    embed_std=0.4,
    notes="per-head q/k RMSNorm over head_dim before RoPE, head_dim 16 != hidden/heads 12, GQA 4/2, no bias, tied",
    config=lambda: Qwen3Config(
        **SMALL, num_attention_heads=4, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, tie_word_embeddings=True,
        bos_token_id=1, eos_token_id=2),
)

# OLMo 2: no pre-norms, post-norms inside the residual branches, q/k norm over the whole
# projection, eps 1e-6.
case(
    "olmo2",
    family="olmo2",
    architecture="Olmo2ForCausalLM",
    model_class=Olmo2ForCausalLM,
    dialect="legacy",
    to_legacy=mistral_like_to_legacy,
    seed=51,
    T=24,
    notes="no pre-norm (ln1/ln2 = raw residual), post_attention/post_feedforward norms inside the "
          "branches, q_norm over H*hd and k_norm over KV*hd before the head split, GQA 4/2, eps 1e-6, untied",
    config=lambda: Olmo2Config(
        **SMALL, num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, pad_token_id=0),
)
