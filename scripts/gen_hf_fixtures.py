#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints plus HF reference recordings for the Java engine's tests.

For every case (one model family with a particular set of options) and for both stored dtypes
(f32, bf16) this writes tests/fixtures/hf/<case>-<dtype>/:
  config.json, model*.safetensors[, model.safetensors.index.json]   (save_pretrained output;
      for "legacy" cases config.json is rewritten by hand into the hub's older key dialect)
  reference.safetensors   every hook of /work/shared/HOOKS-AND-METRICS.md for one prompt, the
      logit-lens metrics, the logits of four hook-edit runs and the steering vector (all F32)
  reference.json          tokens, hook names, greedy continuation, edit specs, case settings

The reference always comes from a fresh load of the saved files FROM DISK with
attn_implementation="eager", then model.float(): a BF16 checkpoint is f32 math on BF16-rounded
weights. Hooks are read with PyTorch forward (pre-)hooks on HF's own modules.

Regenerate everything:   /work/main/.venv/bin/python scripts/gen_hf_fixtures.py
Only some cases:         /work/main/.venv/bin/python scripts/gen_hf_fixtures.py llama mistral
"""

import copy
import json
import math
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_fixture_cases import CASES  # noqa: E402
from hf_fixture_hooks import HookPoints  # noqa: E402

import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_ROOT = os.path.join(REPO_ROOT, "tests", "fixtures", "hf")

DTYPES = {"f32": torch.float32, "bf16": torch.bfloat16}
GREEDY_STEPS = 8
MIN_GREEDY_MARGIN = 1e-3
EDIT_POSITION = 5


# ---------------------------------------------------------------- random weights

def randomize(model, case, seed):
    """Overwrite every parameter with seeded random values that make layers differ visibly.

    HF's own init (std 0.02, norms at exactly their neutral value, zero biases) would make
    every block nearly the identity; here projections get std ~ gain/sqrt(fan_in), norm
    weights scatter around their neutral value (1 for plain w, 0 for Gemma's 1 + w) and
    biases are clearly nonzero.
    """
    gen = torch.Generator().manual_seed(seed)
    extra_gain = case.get("gains", {})  # e.g. larger q/k so Gemma 2's attention soft-cap bites
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            gain = case.get("gain", 1.0)
            for part, g in extra_gain.items():
                if part in name:
                    gain *= g
            if name.endswith("norm.weight"):
                neutral = 0.0 if case.get("norm_one_plus_w") else 1.0
                for part, center in case.get("norm_centers", {}).items():
                    if part in name:  # e.g. Gemma's post-norms: branch outputs as large as the embedding
                        neutral = center
                values = neutral + case.get("norm_spread", 0.2) * torch.randn(p.shape, generator=gen)
            elif name.endswith("bias"):
                values = case.get("bias_std", 0.3) * torch.randn(p.shape, generator=gen)
            elif "embed_tokens" in name:
                values = case.get("embed_std", 1.0) * torch.randn(p.shape, generator=gen)
            elif name.endswith("lm_head.weight"):
                values = case.get("head_gain", 2.5) / math.sqrt(p.shape[-1]) * torch.randn(p.shape, generator=gen)
            elif p.dim() >= 2:
                values = gain / math.sqrt(p.shape[-1]) * torch.randn(p.shape, generator=gen)
            else:
                values = 0.1 * torch.randn(p.shape, generator=gen)
            p.copy_(values.to(p.dtype))


# ---------------------------------------------------------------- forward runs

def run_forward(model, points, tokens, edits=()):
    """One forward pass over `tokens` [T]; returns (captured hooks, logits [T, V]).

    `edits` is a list of (hook name, function tensor[T, ...] -> tensor) applied where the hook
    sits, so the replaced value flows on through the rest of the pass. Edits are registered
    before the capture hooks, so the capture sees the edited values."""
    captured = {}
    handles = [points.edit(hook_name, fn) for hook_name, fn in edits]
    handles.append(points.capture(captured))
    try:
        with torch.no_grad():
            out = model(input_ids=tokens.unsqueeze(0), use_cache=False)
    finally:
        for h in handles:
            h.remove()
    logits = out.logits[0].float()
    captured["logits"] = logits
    return captured, logits


def greedy(model, prompt, steps):
    """Manual greedy decode, full recompute each step, argmax ties to the lowest id."""
    ids = list(prompt)
    margins = []
    for _ in range(steps):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0, -1].double()
        best = logits.max()
        next_id = int(torch.nonzero(logits == best)[0, 0])
        second = torch.cat([logits[:next_id], logits[next_id + 1:]]).max()
        margins.append(float(best - second))
        ids.append(next_id)
    return ids[len(prompt):], min(margins)


# ---------------------------------------------------------------- logit lens

def lens_metrics(points, captured, n_layers):
    """Contract's logit-lens metrics, float64 from HF's own f32 readouts, each [L+1, T]."""
    residuals = [captured["hook_embed"]] + [captured[f"blocks.{i}.hook_resid_post"] for i in range(n_layers)]
    with torch.no_grad():
        readouts = [points.readout(r).double() for r in residuals]
    final_logp = torch.log_softmax(readouts[-1], dim=-1)
    final_p = final_logp.exp()
    final_top1 = lowest_argmax(readouts[-1])
    metrics = {k: [] for k in ("kl", "kl_rev", "entropy", "top1", "final_top1_rank", "top1_margin")}
    for r in readouts:
        logp = torch.log_softmax(r, dim=-1)
        p = logp.exp()
        metrics["kl"].append((p * (logp - final_logp)).sum(-1))
        metrics["kl_rev"].append((final_p * (final_logp - logp)).sum(-1))
        metrics["entropy"].append(-(p * logp).sum(-1))
        metrics["top1"].append(lowest_argmax(r).double())
        final_score = r.gather(-1, final_top1.unsqueeze(-1))
        metrics["final_top1_rank"].append((r > final_score).sum(-1).double())
        top2 = r.topk(2, dim=-1).values
        metrics["top1_margin"].append(top2[:, 0] - top2[:, 1])
    return {f"lens.{k}": torch.stack(v).float() for k, v in metrics.items()}


def lowest_argmax(x):
    """argmax along the last axis with ties to the lowest index."""
    best = x.max(dim=-1, keepdim=True).values
    idx = torch.arange(x.shape[-1]).expand_as(x)
    return torch.where(x == best, idx, x.shape[-1]).min(dim=-1).values


# ---------------------------------------------------------------- checks

def check_capture(captured, points, logits, n_layers):
    """The captured hooks must add up the way the contract says, or the capture is wrong."""
    def close(a, b, what):
        err = (a - b).abs().max().item()
        scale = max(1.0, b.abs().max().item())
        assert err <= 1e-5 * scale, f"{what}: max error {err} (scale {scale})"

    close(captured["blocks.0.hook_resid_pre"], captured["hook_embed"], "resid_pre 0 vs hook_embed")
    for i in range(n_layers):
        b = f"blocks.{i}."
        close(captured[b + "hook_resid_mid"], captured[b + "hook_resid_pre"] + captured[b + "hook_attn_out"],
              b + "resid_mid = resid_pre + attn_out")
        close(captured[b + "hook_resid_post"], captured[b + "hook_resid_mid"] + captured[b + "hook_mlp_out"],
              b + "resid_post = resid_mid + mlp_out")
        if i + 1 < n_layers:
            close(captured[f"blocks.{i + 1}.hook_resid_pre"], captured[b + "hook_resid_post"], b + "chain")
        mlp = points.layers[i].mlp
        if b + "mlp.hook_post" in captured:  # hook_post = act(hook_pre) * up_proj(ln2)
            with torch.no_grad():
                up = mlp.up_proj(captured[b + "ln2.hook_normalized"])
                close(captured[b + "mlp.hook_post"], mlp.act_fn(captured[b + "mlp.hook_pre"]) * up,
                      b + "mlp.hook_post = act(hook_pre) * up")
    with torch.no_grad():
        close(points.readout(captured[f"blocks.{n_layers - 1}.hook_resid_post"]), logits, "lens readout L vs logits")


def describe_spread(captured, lens, n_layers, case_name):
    """Print the figures that show the random model is not degenerate."""
    kl = lens["lens.kl"].mean(dim=1)
    rms = {k: v.pow(2).mean().sqrt().item() for k, v in captured.items()}
    print(f"  {case_name}: mean lens KL per readout: " + " ".join(f"{x:.3f}" for x in kl.tolist()))
    print("  rms resid_post: " + " ".join(f"{rms[f'blocks.{i}.hook_resid_post']:.2f}" for i in range(n_layers))
          + f"  attn_out0 {rms['blocks.0.hook_attn_out']:.2f} mlp_out0 {rms['blocks.0.hook_mlp_out']:.2f}"
          + f"  logits {rms['logits']:.2f} max|logit| {captured['logits'].abs().max().item():.2f}")
    middle = kl[1:n_layers]
    assert (middle > 0.05).all(), f"{case_name}: a middle layer's lens KL is near 0: {middle.tolist()}"


# ---------------------------------------------------------------- one case

def build_and_save(case, dtype_name, out_dir):
    config = case["config"]()
    torch.manual_seed(case["seed"])
    model = case["model_class"](config)
    randomize(model, case, case["seed"])
    # The probe model gets the stored dtype's rounding on its parameters only: model.to(bf16)
    # would also round buffers such as RoPE's inv_freq, which a from_pretrained load keeps f32.
    probe_model = copy.deepcopy(model)
    with torch.no_grad():
        for p in probe_model.parameters():
            p.copy_(p.to(DTYPES[dtype_name]).float())
    model = model.to(DTYPES[dtype_name])
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    save_kwargs = {}
    if dtype_name in case.get("shard", {}):
        save_kwargs["max_shard_size"] = case["shard"][dtype_name]
    model.save_pretrained(out_dir, **save_kwargs)
    if "save_hook" in case:
        case["save_hook"](model, out_dir, DTYPES[dtype_name])
    if case["dialect"] == "legacy":
        path = os.path.join(out_dir, "config.json")
        with open(path) as f:
            saved = json.load(f)
        legacy = case["to_legacy"](saved)
        with open(path, "w") as f:
            json.dump(legacy, f, indent=2, sort_keys=True)
            f.write("\n")
    for junk in ("generation_config.json",):
        p = os.path.join(out_dir, junk)
        if os.path.exists(p):
            os.remove(p)
    return probe_logits(case, probe_model)


def probe_logits(case, model):
    """Logits of the in-memory model (before saving) on a fixed probe, in f32 math.

    The reloaded model must give the same: this proves HF reads the saved files, names and
    (for legacy cases) the hand-written config.json exactly as the model that wrote them."""
    model = model.float().eval()
    model.set_attn_implementation("eager")
    if "after_float" in case:
        case["after_float"](model, case["_dtype"])
    probe = torch.arange(case["T"]) * 7 % 251
    with torch.no_grad():
        return model(input_ids=probe.unsqueeze(0), use_cache=False).logits[0].float()


def load_reference_model(case, out_dir, dtype_name):
    model = case["load_class"].from_pretrained(out_dir, attn_implementation="eager", dtype="auto")
    assert model.dtype == DTYPES[dtype_name], f"{out_dir}: HF loaded {model.dtype}"
    if "check_loaded" in case:
        case["check_loaded"](model, out_dir)
    model = model.float().eval()
    if "after_float" in case:
        case["after_float"](model, DTYPES[dtype_name])
    return model


def check_override_matters(case, out_dir, tokens, logits, config_override):
    """Loading with config_override (window off, an ignored window on, soft-cap off) must change
    the logits, or the fixture would not test that setting."""
    wide = case["load_class"].from_pretrained(out_dir, attn_implementation="eager", dtype="auto",
                                              **config_override).float().eval()
    if "after_float" in case:
        case["after_float"](wide, case["_dtype"])
    with torch.no_grad():
        wide_logits = wide(input_ids=tokens.unsqueeze(0), use_cache=False).logits[0].float()
    diff = (wide_logits - logits).abs().max().item()
    assert diff > 1e-2, f"{out_dir}: {config_override} makes no difference ({diff})"
    what = {k: ("<edited config>" if k == "config" else v) for k, v in config_override.items()}
    print(f"  {what} changes logits by up to {diff:.3f}")


def pick_tokens(case, model, points):
    """Prompt tokens whose greedy continuation has no near-tie (so Java can match it exactly),
    and, where the case has a token_check (MoE routing gaps), that pass it."""
    token_check = case.get("token_check")
    for attempt in range(50):
        gen = torch.Generator().manual_seed(case["seed"] * 1000 + attempt)
        tokens = torch.randint(0, points.vocab_size, (case["T"],), generator=gen)
        prompt = tokens[: case["prompt_len"]].tolist()
        continuation, margin = greedy(model, prompt, GREEDY_STEPS)
        if margin < MIN_GREEDY_MARGIN:
            continue
        if token_check is not None:  # on the plain run and on every edit run
            captured, _ = run_forward(model, points, tokens)
            runs = [captured] + [run_forward(model, points, tokens, edits=[(hook, fn)])[0]
                                 for _, _, hook, fn in hook_edits(case, points, captured)[0]]
            if not all(token_check(model, c, points) for c in runs):
                continue
        return tokens, prompt, continuation, margin
    raise RuntimeError(f"{case['name']}: no prompt with greedy margin >= {MIN_GREEDY_MARGIN}")


def hook_edits(case, points, captured):
    """The four edit runs: (name, CLI --edit spec, hook, function), and the steering vector."""
    n_layers = points.n_layers
    gen = torch.Generator().manual_seed(case["seed"] + 7)
    resid_rms = captured[f"blocks.{n_layers - 2}.hook_resid_post"].pow(2).mean().sqrt()
    steer = (torch.randn(points.hidden_size, generator=gen) * resid_rms).float()
    scale_layer = case.get("dense_edit_layer", 1)
    # With a post-feedforward norm (OLMo 2, Gemma 2/3) the MLP output is renormalised, so
    # scaling mlp.hook_post (linear up to that norm) changes nothing; scale hook_pre instead.
    scale_hook = "hook_pre" if points.sandwich else "hook_post"

    def zero_at(pos):
        def fn(x):
            x = x.clone()
            x[pos] = 0
            return x
        return fn

    edits = [
        ("zero_attn", "blocks.1.hook_attn_out=zero", "blocks.1.hook_attn_out", torch.zeros_like),
        ("steer", f"blocks.{n_layers - 2}.hook_resid_post+=reference.safetensors:steer.v",
         f"blocks.{n_layers - 2}.hook_resid_post", lambda x: x + steer),
        ("zero_mlp_pos5", f"blocks.0.hook_mlp_out@{EDIT_POSITION}=zero", "blocks.0.hook_mlp_out",
         zero_at(EDIT_POSITION)),
        (f"scale_mlp_{scale_hook[5:]}", f"blocks.{scale_layer}.mlp.{scale_hook}*=0.5",
         f"blocks.{scale_layer}.mlp.{scale_hook}", lambda x: x * 0.5),
    ]
    return edits, steer


def make_reference(case, dtype_name, out_dir, expected_probe):
    model = load_reference_model(case, out_dir, dtype_name)
    probe = torch.arange(case["T"]) * 7 % 251
    with torch.no_grad():
        reloaded = model(input_ids=probe.unsqueeze(0), use_cache=False).logits[0].float()
    probe_err = (reloaded - expected_probe).abs().max().item()
    assert probe_err < 1e-4, f"{out_dir}: reload from disk differs from the saved model by {probe_err}"
    points = HookPoints(model, case)
    n_layers = points.n_layers
    vocab = points.vocab_size
    tokens, prompt, continuation, margin = pick_tokens(case, model, points)

    captured, logits = run_forward(model, points, tokens)
    check_capture(captured, points, logits, n_layers)
    lens = lens_metrics(points, captured, n_layers)
    describe_spread(captured, lens, n_layers, f"{case['name']}-{dtype_name}")
    extra_json = case.get("check_reference", lambda *a: None)(model, captured, points) or {}

    if case.get("sliding"):
        widen = case.get("widen_window", lambda d: {"sliding_window": 4096})
        check_override_matters(case, out_dir, tokens, logits, widen(out_dir))
    if "ignored_window_enabled" in case:  # the ignored window would matter if it were used
        check_override_matters(case, out_dir, tokens, logits, case["ignored_window_enabled"])
    if case.get("group_limit_matters"):
        check_override_matters(case, out_dir, tokens, logits, {"topk_method": "greedy"})
    if case.get("attn_cap_matters"):
        check_override_matters(case, out_dir, tokens, logits, {"attn_logit_softcapping": None})

    tensors = {k: v.float().contiguous() for k, v in captured.items()}
    tensors.update(lens)

    edits, steer = hook_edits(case, points, captured)
    tensors["steer.v"] = steer
    edit_entries = []
    for name, spec, hook_name, fn in edits:
        edited_hooks, edited = run_forward(model, points, tokens, edits=[(hook_name, fn)])
        diff = (edited - logits).abs().max().item()
        assert diff > 1e-3, f"{case['name']}: edit {name} changed nothing ({diff})"
        tensors[f"edit.{name}.logits"] = edited.contiguous()
        entry = {"name": name, "specs": [spec], "logits": f"edit.{name}.logits",
                 "max_abs_logit_change": round(diff, 4)}
        if "edit_check" in case:  # e.g. MoE routing gaps of the edited run
            entry.update(case["edit_check"](model, edited_hooks, points))
        edit_entries.append(entry)

    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))
    hooks = [k for k in captured]
    reference = {
        "case": case["name"],
        "family": case["family"],
        "architecture": case["architecture"],
        "dtype": {"f32": "F32", "bf16": "BF16"}[dtype_name],
        "config_dialect": case["dialect"],
        "notes": case["notes"],
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "num_layers": n_layers,
        "hidden_size": points.hidden_size,
        "vocab_size": vocab,
        "tokens": tokens.tolist(),
        "hooks": hooks,
        "lens": sorted(lens.keys()),
        "generate": {"prompt": prompt, "max_new_tokens": GREEDY_STEPS, "continuation": continuation,
                     "min_margin": margin},
        "edits": edit_entries,
    }
    reference.update(extra_json)
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1)
        f.write("\n")


def main(argv):
    wanted = argv[1:] or list(CASES)
    unknown = [w for w in wanted if w not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; known: {list(CASES)}")
    torch.set_num_threads(1)  # deterministic reductions, and the machine is shared
    transformers.utils.logging.disable_progress_bar()
    for name in wanted:
        case = CASES[name]
        for dtype_name in DTYPES:
            out_dir = os.path.join(OUT_ROOT, f"{name}-{dtype_name}")
            print(f"{name}-{dtype_name}")
            case["_dtype"] = DTYPES[dtype_name]
            expected_probe = build_and_save(case, dtype_name, out_dir)
            make_reference(case, dtype_name, out_dir, expected_probe)


if __name__ == "__main__":
    main(sys.argv)
