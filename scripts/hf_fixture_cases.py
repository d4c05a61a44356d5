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

# Llama 2 style variant: tied embeddings (no lm_head.weight in the files), head_dim 24
# explicitly != hidden/heads = 16, linear RoPE scaling.
case(
    "llama2",
    family="llama",
    architecture="LlamaForCausalLM",
    model_class=LlamaForCausalLM,
    dialect="hf5",
    seed=12,
    embed_std=0.4,  # tied: the embedding is also the unembedding, keep logits unsaturated
    notes="tied embeddings, explicit head_dim 24 != hidden/heads 16, MHA 4/4, linear rope scaling factor 2",
    config=lambda: LlamaConfig(
        hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, head_dim=24, vocab_size=256, max_position_embeddings=128,
        rms_norm_eps=1e-6, rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
)
