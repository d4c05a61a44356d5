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
  seed, gain, gains, embed_std, head_gain, norm_spread, norm_centers, bias_std,
  norm_one_plus_w: random weights (gains / norm_centers by parameter-name substring)
Optional hooks into the generator:
  to_legacy(cfg) -> cfg          the hand rewrite of config.json for "legacy" cases
  save_hook(model, dir, dtype)   after save_pretrained (e.g. hub weight names)
  check_loaded(model, dir)       on the fresh load, before model.float()
  after_float(model, dtype)      on the f32 model (reference and in-memory probe)
  final_softcap(model)           final logit soft-cap for the lens readout, or None
  check_reference(model, captured, points) -> extra reference.json keys
  token_check / edit_check       MoE: reject prompts that route near a tie / record gaps
  sliding, widen_window, ignored_window_enabled, attn_cap_matters, group_limit_matters:
                                 config overrides that must change the logits (so the
                                 fixture really tests that setting)
  dense_edit_layer               layer of the mlp scale edit (DeepSeek: dense layer 0)
"""

import os

import torch
from safetensors.torch import load_file, save_file
from transformers import (
    DeepseekV2Config,
    DeepseekV2ForCausalLM,
    Gemma3Config,
    Gemma3ForConditionalGeneration,
    SiglipVisionConfig,
    Gemma2Config,
    Gemma2ForCausalLM,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GemmaConfig,
    GemmaForCausalLM,
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
        hidden_size=48, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=4, head_dim=16, vocab_size=256, max_position_embeddings=128,
        rms_norm_eps=1e-6, rope_parameters={"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0},
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2),
)


def drop_layer_types(cfg):
    cfg.pop("layer_types", None)
    return cfg


def mistral_like_to_legacy(cfg):
    return drop_default_head_dim(drop_layer_types(split_rope(legacy_common(cfg))))


SMALL = dict(hidden_size=48, intermediate_size=64, num_hidden_layers=3, vocab_size=256,
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


# ---------------------------------------------------------------- Gemma

def sqrt_hidden_in(dtype, hidden_size):
    return torch.tensor(hidden_size ** 0.5, dtype=torch.float32).to(dtype).float()


def check_gemma_embed_scale(embed, stored_dtype):
    """transformers 5.18 keeps the scale in a buffer created by the load in the stored dtype, so a
    BF16 load holds bf16(sqrt(d)) and model.float() keeps that rounded value (no patch needed)."""
    want = sqrt_hidden_in(stored_dtype, embed.weight.shape[1])
    got = embed.embed_scale.float()
    assert torch.equal(got, want), f"embed_scale {got.item()} != {want.item()} for {stored_dtype}"


def set_gemma_embed_scale(embed, stored_dtype):
    """For the in-memory probe model (made in f32): give it the scale a load from disk has."""
    embed.embed_scale.fill_(sqrt_hidden_in(stored_dtype, embed.weight.shape[1]).item())


def gemma_text_hooks(**kw):
    kw.setdefault("norm_one_plus_w", True)
    kw.setdefault("check_loaded", lambda m, d: check_gemma_embed_scale(m.model.embed_tokens, m.dtype))
    kw.setdefault("after_float", lambda m, dt: set_gemma_embed_scale(m.model.embed_tokens, dt))
    return kw


def gemma_to_legacy(cfg):
    """Gemma 1 hub configs say hidden_act "gelu" (HF forces the tanh approximation)."""
    cfg = drop_default_head_dim(split_rope(legacy_common(cfg)))
    assert cfg["hidden_act"] == "gelu_pytorch_tanh"
    cfg["hidden_act"] = "gelu"
    return cfg


# Gemma 1: (1 + w) norms, embedding * bf16(sqrt(48)) = 6.9375 in BF16, MQA, gelu -> tanh.
case(
    "gemma",
    family="gemma",
    architecture="GemmaForCausalLM",
    model_class=GemmaForCausalLM,
    dialect="legacy",
    to_legacy=gemma_to_legacy,
    seed=61,
    T=24,
    embed_std=0.4,
    # the embedding enters at sqrt(d) times its size: scale the branches up to match
    gains={"o_proj": 4.0, "down_proj": 4.0},
    notes="hidden 48 (embedding scale sqrt(48): 6.9282 in f32, 6.9375 in bf16), (1 + w) RMSNorm, MQA 4/1, "
          "head_dim 16 != 12, hidden_act 'gelu' in config.json (HF uses the tanh approximation), tied",
    config=lambda: GemmaConfig(
        **SMALL | {"hidden_size": 48}, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
        rms_norm_eps=1e-6, hidden_act="gelu_pytorch_tanh",
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0),
    **gemma_text_hooks(),
)


def final_softcap_from_config(model):
    return getattr(model.config, "final_logit_softcapping", None)


def check_gemma2_caps_bite(model, captured, points):
    """Both soft-caps must change the result on this fixture, or they are not tested."""
    with torch.no_grad():
        raw = model.lm_head(captured["ln_final.hook_normalized"].unsqueeze(0))[0]
    cap = model.config.final_logit_softcapping
    frac = (raw.abs() > cap).float().mean().item()
    print(f"  pre-cap logits: max |x| {raw.abs().max().item():.2f}, {100 * frac:.1f}% beyond the cap {cap}")
    assert frac > 0.05


# Gemma 2: attention and final soft-caps small enough to bite, sliding window 8 on even
# layers (layer_types), query_pre_attn_scalar 24 != head_dim 16, sandwich norms.
case(
    "gemma2",
    family="gemma2",
    architecture="Gemma2ForCausalLM",
    model_class=Gemma2ForCausalLM,
    dialect="hf5",
    sliding=True,
    seed=71,
    T=24,
    embed_std=0.5,
    gains={"q_proj": 3.0, "k_proj": 3.0},
    # sandwich norms set the branch outputs' size: (1 + w) ~ 4 to match the sqrt(d)-scaled embedding
    norm_centers={"post_attention_layernorm": 3.0, "post_feedforward_layernorm": 3.0},
    final_softcap=final_softcap_from_config,
    check_reference=check_gemma2_caps_bite,
    attn_cap_matters=True,
    notes="hidden 80 (bf16 sqrt 8.9375), attn_logit_softcapping 5.0 and final_logit_softcapping 4.0 "
          "(both bite), sliding_window 8 on layers 0 and 2 (layer_types), query_pre_attn_scalar 24 != head_dim 16, "
          "GQA 4/2, sandwich norms, tied",
    config=lambda: Gemma2Config(
        **SMALL | {"hidden_size": 80}, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        query_pre_attn_scalar=24, attn_logit_softcapping=5.0, final_logit_softcapping=4.0,
        sliding_window=8, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0),
    **gemma_text_hooks(),
)


def gemma3_to_legacy(cfg):
    """Hub Gemma 3 keys: rope_theta (global) + rope_scaling (global only), rope_local_base_freq,
    sliding_window_pattern instead of layer_types."""
    cfg = legacy_common(cfg)
    rope = cfg.pop("rope_parameters")
    full = dict(rope["full_attention"])
    cfg["rope_theta"] = full.pop("rope_theta")
    cfg["rope_scaling"] = full if full.get("rope_type", "default") != "default" else None
    cfg["rope_local_base_freq"] = rope["sliding_attention"]["rope_theta"]
    types = cfg.pop("layer_types")
    pattern = GEMMA3_PATTERN
    assert types == ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention"
                     for i in range(len(types))], types
    cfg["sliding_window_pattern"] = pattern
    # 5.18 also writes a private "_sliding_window_pattern": 6 that contradicts layer_types; HF
    # never reads it back and hub files do not have it
    cfg.pop("_sliding_window_pattern", None)
    return drop_default_head_dim(cfg)


GEMMA3_PATTERN = 2


def gemma3_text_config(**overrides):
    kw = dict(
        **SMALL | {"hidden_size": 72}, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
        query_pre_attn_scalar=18, sliding_window=8, rms_norm_eps=1e-6,
        hidden_activation="gelu_pytorch_tanh",
        layer_types=["full_attention" if (i + 1) % GEMMA3_PATTERN == 0 else "sliding_attention"
                     for i in range(3)],
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 20000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 100.0}},
        final_logit_softcapping=None, attn_logit_softcapping=5.0,  # Gemma 3 ignores the attention cap
        tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0)
    kw.update(overrides)
    return Gemma3TextConfig(**kw)


# Gemma 3 text: layers 0, 2 sliding (window 8, local RoPE base 100), layer 1 global (base 2e4,
# linear scaling 4), per-head (1 + w) q/k norms, query_pre_attn_scalar 18 != head_dim 16.
case(
    "gemma3",
    family="gemma3",
    architecture="Gemma3ForCausalLM",
    model_class=Gemma3ForCausalLM,
    dialect="legacy",
    to_legacy=gemma3_to_legacy,
    sliding=True,
    seed=81,
    T=24,
    embed_std=0.4,
    norm_centers={"post_attention_layernorm": 3.0, "post_feedforward_layernorm": 3.0},
    final_softcap=final_softcap_from_config,
    notes="hidden 72 (bf16 sqrt 8.5), sliding_window_pattern 2 over 3 layers (0, 2 sliding window 8; 1 global), "
          "rope_local_base_freq 100 on sliding layers, rope_theta 20000 with linear scaling 4 on the global layer, "
          "per-head (1 + w) q/k norms, query_pre_attn_scalar 18 != head_dim 16, GQA 4/2, tied, no final soft-cap, "
          "attn_logit_softcapping 5.0 in config.json which Gemma 3 ignores",
    config=gemma3_text_config,
    **gemma_text_hooks(),
)


# Gemma 3 multimodal, saved the way the hub's google/gemma-3-4b-pt is: text weights under
# language_model.model.*, vision_tower.vision_model.*, multi_modal_projector.*, no lm_head,
# and a sparse text_config that lists only non-default keys, so these come from
# Gemma3TextConfig's defaults: 8 heads / 4 kv heads, query_pre_attn_scalar 256,
# rope_theta 1e6, rope_local_base_freq 1e4, sliding_window_pattern 6 (layers 0-4 slide,
# layer 5 is global), rms_norm_eps 1e-6, gelu tanh, no soft-caps, tied.
GEMMA3MM_TEXT = {
    "head_dim": 8, "hidden_size": 40, "intermediate_size": 32, "model_type": "gemma3_text",
    "num_hidden_layers": 6, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
    "sliding_window": 8, "vocab_size": 256,
}
GEMMA3MM_VISION = {
    "hidden_size": 16, "image_size": 28, "intermediate_size": 32, "model_type": "siglip_vision_model",
    "num_attention_heads": 2, "num_hidden_layers": 1, "patch_size": 14, "vision_use_head": False,
}


def gemma3mm_config():
    text = {k: v for k, v in GEMMA3MM_TEXT.items() if k not in ("model_type", "rope_scaling")}
    text = Gemma3TextConfig(**text, rope_scaling=GEMMA3MM_TEXT["rope_scaling"])
    vision = SiglipVisionConfig(**{k: v for k, v in GEMMA3MM_VISION.items() if k != "model_type"})
    return Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4)


def gemma3mm_hub_names(model, out_dir, dtype):
    """5.18's save_pretrained already writes language_model.model.* and multi_modal_projector.*;
    the hub's files also put the SigLIP tower under vision_tower.vision_model.*."""
    path = os.path.join(out_dir, "model.safetensors")
    tensors = load_file(path)
    renamed = {}
    for name, t in tensors.items():
        if name.startswith("vision_tower.") and not name.startswith("vision_tower.vision_model."):
            name = "vision_tower.vision_model." + name[len("vision_tower."):]
        renamed[name] = t
    assert "lm_head.weight" not in renamed
    assert "language_model.model.embed_tokens.weight" in renamed, sorted(renamed)[:5]
    save_file(renamed, path, metadata={"format": "pt"})


def gemma3mm_sparse_config(saved):
    return {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "boi_token_index": 255999,
        "eoi_token_index": 256000,
        "eos_token_id": [1, 106],
        "image_token_index": 262144,
        "initializer_range": 0.02,
        "mm_tokens_per_image": 4,
        "model_type": "gemma3",
        "text_config": GEMMA3MM_TEXT,
        "torch_dtype": saved["dtype"],
        "transformers_version": saved["transformers_version"],
        "vision_config": GEMMA3MM_VISION,
    }


def check_gemma3mm_loaded(model, out_dir):
    _, info = Gemma3ForConditionalGeneration.from_pretrained(out_dir, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v}
    assert not bad, f"{out_dir}: HF load reports {bad}"
    text = model.config.text_config
    assert text.layer_types == ["sliding_attention"] * 5 + ["full_attention"], text.layer_types
    assert (text.num_attention_heads, text.num_key_value_heads, text.query_pre_attn_scalar) == (8, 4, 256)
    assert text.rope_parameters["sliding_attention"]["rope_theta"] == 10000.0
    assert text.rope_parameters["full_attention"]["rope_theta"] == 1000000.0
    check_gemma_embed_scale(model.model.language_model.embed_tokens, model.dtype)


def gemma3mm_wide_window(out_dir):
    config = Gemma3Config.from_pretrained(out_dir)
    config.text_config.sliding_window = 4096
    return config


case(
    "gemma3mm",
    family="gemma3",
    architecture="Gemma3ForConditionalGeneration",
    model_class=Gemma3ForConditionalGeneration,
    decoder=lambda m: m.model.language_model,
    dialect="legacy",
    to_legacy=gemma3mm_sparse_config,
    save_hook=gemma3mm_hub_names,
    check_loaded=check_gemma3mm_loaded,
    after_float=lambda m, dt: set_gemma_embed_scale(m.model.language_model.embed_tokens, dt),
    norm_one_plus_w=True,
    norm_centers={"post_attention_layernorm": 3.0, "post_feedforward_layernorm": 3.0},
    sliding=True,
    widen_window=lambda out_dir: {"config": gemma3mm_wide_window(out_dir)},
    seed=91,
    T=24,
    embed_std=0.5,
    notes="Gemma3ForConditionalGeneration with a tiny SigLIP tower, text-only forward; hub layout "
          "(language_model.model.*, vision_tower.vision_model.*, multi_modal_projector.*, no lm_head); sparse "
          "text_config (hidden 40: bf16 sqrt 6.3125, 6 layers, head_dim 8, window 8, linear scaling 8) with "
          "defaults for heads 8/4, query_pre_attn_scalar 256, rope_theta 1e6, rope_local_base_freq 1e4, "
          "sliding_window_pattern 6 (layer 5 global); no final soft-cap",
    config=gemma3mm_config,
)


# ---------------------------------------------------------------- DeepSeek-V2 (MLA + MoE)

def deepseek_config(**overrides):
    kw = dict(
        vocab_size=256, hidden_size=48, intermediate_size=64, moe_intermediate_size=16,
        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
        first_k_dense_replace=1, n_routed_experts=8, num_experts_per_tok=2, n_shared_experts=2,
        routed_scaling_factor=1.5, topk_method="greedy", kv_lora_rank=24, q_lora_rank=None,
        qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=12, rms_norm_eps=1e-6,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
        # YaRN over qk_rope_head_dim 8 (4 frequency pairs) with original_max 64: the ramp runs
        # from pair 0 (kept) over pair 1 (blended) to pairs 2, 3 (divided by factor)
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "mscale": 0.707,
                         "mscale_all_dim": 0.707, "beta_fast": 32, "beta_slow": 1,
                         "original_max_position_embeddings": 64})
    kw.update(overrides)
    return DeepseekV2Config(**kw)


def deepseek_to_legacy(cfg):
    """Like the hub's DeepSeek-V2(-Lite) config.json: rope_scaling with the old "type" key, no
    head_dim/qk_head_dim (5.18 writes head_dim = qk_rope_head_dim there), plus keys 5.18 does
    not use (moe_layer_freq, scoring_func, aux_loss_alpha, seq_aux)."""
    cfg = legacy_common(cfg)
    rope = dict(cfg.pop("rope_parameters"))
    cfg["rope_theta"] = rope.pop("rope_theta")
    rope["type"] = rope.pop("rope_type")
    cfg["rope_scaling"] = rope
    del cfg["head_dim"]
    del cfg["qk_head_dim"]
    cfg.update({"moe_layer_freq": 1, "scoring_func": "softmax", "aux_loss_alpha": 0.001, "seq_aux": True})
    return cfg


MIN_ROUTER_GAP = 1e-4


def router_gaps(model, captured, points):
    """Per MoE layer: the smallest router-probability gap between the k-th and (k+1)-th
    candidate expert (after the group limit, if any) and, with a group limit, between the last
    kept and the first dropped group. Also checks the recorded ids are that top-k."""
    config = model.config
    k = config.num_experts_per_tok
    gaps = {}
    for i, layer in enumerate(points.layers):
        if not hasattr(layer.mlp, "experts"):
            continue
        ids = captured[f"blocks.{i}.mlp.hook_topk_ids"].long()
        probs = captured[f"blocks.{i}.mlp.hook_router_logits"].double().softmax(-1)
        entry = {}
        if config.topk_method == "group_limited_greedy":
            grouped = probs.view(probs.shape[0], config.n_group, -1)
            best_per_group = grouped.max(-1).values
            ranked_groups = best_per_group.sort(-1, descending=True).values
            entry["group_gap"] = (ranked_groups[:, config.topk_group - 1] - ranked_groups[:, config.topk_group]).min().item()
            kept = best_per_group >= ranked_groups[:, config.topk_group - 1: config.topk_group]
            probs = torch.where(kept.unsqueeze(-1), grouped, 0.0).view(probs.shape[0], -1)
        ranked = probs.sort(-1, descending=True)
        assert torch.equal(ids.sort(-1).values, ranked.indices[:, :k].sort(-1).values), \
            f"layer {i}: recorded top-k ids are not the top-k"
        entry["topk_gap"] = (ranked.values[:, k - 1] - ranked.values[:, k]).min().item()
        entry["experts_used"] = torch.unique(ids).numel()
        entry["ids_in_descending_order"] = bool((probs.gather(-1, ids)[:, :-1] >= probs.gather(-1, ids)[:, 1:]).all())
        gaps[str(i)] = entry
    return gaps


def routing_clear_of_ties(model, captured, points):
    gaps = router_gaps(model, captured, points)
    return all(min(v for key, v in g.items() if key.endswith("_gap")) >= MIN_ROUTER_GAP for g in gaps.values())


def edited_router_gap(model, captured, points):
    """Smallest routing gap of an edited run (recorded; a tiny one warns that a Java engine
    may route that run differently)."""
    gaps = router_gaps(model, captured, points)
    smallest = min(v for g in gaps.values() for key, v in g.items() if key.endswith("_gap"))
    if smallest < MIN_ROUTER_GAP:
        print(f"  warning: an edited run routes within {smallest:.2e} of a tie")
    return {"router_min_gap": smallest}


def check_topk(model, captured, points):
    """Routing must spread over the experts; the gaps go into reference.json ("router" below)
    so a Java test knows how close the routing came to a tie. HF's id order
    (torch.topk sorted=False) is recorded as is: compare the ids as sets."""
    gaps = router_gaps(model, captured, points)
    for layer, entry in gaps.items():
        print(f"  layer {layer}: {entry}")
        assert entry["experts_used"] >= 4, f"layer {layer}: only {entry['experts_used']} experts used"
    return {"router": gaps}


DEEPSEEK = dict(
    family="deepseek_v2",
    architecture="DeepseekV2ForCausalLM",
    model_class=DeepseekV2ForCausalLM,
    seed=101,
    T=24,
    dense_edit_layer=0,
    gains={"mlp.gate.weight": 2.0},
    check_reference=check_topk,
    token_check=routing_clear_of_ties,
    edit_check=edited_router_gap,
)

case(
    "deepseek-v2-lite",
    **DEEPSEEK | {"seed": 101},
    dialect="legacy",
    to_legacy=deepseek_to_legacy,
    notes="V2-Lite style: q_lora_rank null (q_proj), kv_lora_rank 24, qk_nope 16 + qk_rope 8, v_head_dim 12, "
          "4 heads; MoE from layer 1 (first_k_dense_replace 1): 8 routed experts, top-2 greedy, 2 shared experts, "
          "routed_scaling_factor 1.5; YaRN factor 4, mscale = mscale_all_dim = 0.707 (cos/sin factor 1, score "
          "scale * m^2), beta 32/1, original_max 64; legacy rope_scaling with 'type': 'yarn'",
    config=deepseek_config,
)

case(
    "deepseek-v2",
    **DEEPSEEK | {"seed": 102},
    dialect="hf5",
    notes="V2 style: q_lora_rank 32 (q_a_proj, q_a_layernorm, q_b_proj), kv_lora_rank 24, qk_nope 16 + qk_rope 8, "
          "v_head_dim 12; MoE from layer 1: 8 experts, top-2 greedy, 1 shared expert, routed_scaling_factor 2.5; "
          "YaRN factor 4 with mscale 1.0 != mscale_all_dim 0.5 (cos/sin scaled by 1.0648, scores by m^2), "
          "beta_fast 16, beta_slow 2, original_max 64",
    config=lambda: deepseek_config(
        q_lora_rank=32, n_shared_experts=1, routed_scaling_factor=2.5,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "mscale": 1.0,
                         "mscale_all_dim": 0.5, "beta_fast": 16, "beta_slow": 2,
                         "original_max_position_embeddings": 64}),
)

case(
    "deepseek-v2-group",
    **DEEPSEEK | {"seed": 103},
    dialect="hf5",
    notes="as deepseek-v2-lite but topk_method group_limited_greedy: 8 experts in n_group 4, topk_group 2, "
          "top-3 per token (the group limit changes the routing; checked against plain greedy)",
    group_limit_matters=True,
    config=lambda: deepseek_config(topk_method="group_limited_greedy", n_group=4, topk_group=2,
                                   num_experts_per_tok=3),
)
