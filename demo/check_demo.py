"""Check the shipped demo pair with HF transformers, and compute a Python cross-check of
its convergence gap for the Java implementation to compare against.

  /work/main/.venv/bin/python demo/check_demo.py

1. The tokenizer files load with `tokenizers` and `transformers.AutoTokenizer`; the
   post-processor prepends BOS; the chat template renders (with and without the
   generation prompt) and tokenizes without a second BOS.
2. Greedy generations: PT on format B as raw text, IT on format A in its chat template.
3. Logit lens on 10 prompts (2 per category): readout l = final norm + lm_head on the
   residual after l blocks (l = 0: embeddings), KL(p_l || p_L) in float64 from the f32
   readout at every generated token step, PT in its raw regime, IT in its chat regime.
   Final-half mean over decoder layers j >= floor(n/2) (readouts l = j + 1); CG = IT - PT.

   Uncertainty: per-prompt curves (mean over the prompt's steps), paired bootstrap over
   prompts (2000 resamples, seed 0), 95% percentile interval of the CG.

Writes demo/crosscheck.json (generated token ids, per-prompt curves, summary); with --all,
every prompt in prompts.jsonl, to demo/crosscheck_all.json.
"""
import argparse
import json
import math
import os
import random

import torch
from tokenizers import Tokenizer
from transformers import AutoTokenizer, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "gap", "src", "main", "resources", "cgap", "demo")
MAX_NEW_TOKENS = 24
PROMPTS_PER_CATEGORY = 2


def check_tokenizers():
    for name in ("pt", "it"):
        d = os.path.join(DEMO, name)
        raw = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        hf = AutoTokenizer.from_pretrained(d)
        text = 'Question: What does the word "compose" mean?\nAnswer:'
        ids = raw.encode(text).ids
        assert ids[0] == raw.token_to_id("<|begin_of_text|>") and ids[1] != ids[0], ids[:3]
        assert hf(text)["input_ids"] == ids, "AutoTokenizer and tokenizers disagree"
        assert hf.decode(ids, skip_special_tokens=True) == text
        assert hf.bos_token == "<|begin_of_text|>"
        messages = [{"role": "user", "content": "Define mezzo."}]
        rendered = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert rendered == ("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                            "Define mezzo.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"), rendered
        no_gen = hf.apply_chat_template(messages, tokenize=False)
        assert no_gen.endswith("Define mezzo.<|eot_id|>")
        chat_ids = hf.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                          return_dict=False)
        assert chat_ids == raw.encode(rendered, add_special_tokens=False).ids
        assert chat_ids.count(raw.token_to_id("<|begin_of_text|>")) == 1
        print(f"{name}: tokenizer OK, eos={hf.eos_token}, vocab={raw.get_vocab_size()}, "
              f"{len(ids)} tokens for the PT prompt, {len(chat_ids)} for the chat prompt")


def load(name):
    d = os.path.join(DEMO, name)
    # f32 math on the BF16-rounded weights, eager attention: the reference numerics.
    model = LlamaForCausalLM.from_pretrained(d, dtype=torch.bfloat16, attn_implementation="eager")
    return model.float().eval(), AutoTokenizer.from_pretrained(d)


@torch.no_grad()
def greedy(model, prompt_ids, eos_ids):
    ids = list(prompt_ids)
    for _ in range(MAX_NEW_TOKENS):
        next_id = int(model(torch.tensor([ids])).logits[0, -1].argmax())
        ids.append(next_id)
        if next_id in eos_ids:
            break
    return ids[len(prompt_ids):]


@torch.no_grad()
def lens_kl(model, ids, n_prompt):
    """KL(p_l || p_L) [L+1, steps] at the positions that produced the generated tokens."""
    residuals = []
    hooks = [model.model.embed_tokens.register_forward_hook(lambda m, i, o: residuals.append(o))]
    for layer in model.model.layers:
        hooks.append(layer.register_forward_hook(
            lambda m, i, o: residuals.append(o[0] if isinstance(o, tuple) else o)))
    logits = model(torch.tensor([ids])).logits[0]
    for h in hooks:
        h.remove()
    steps = slice(n_prompt - 1, len(ids) - 1)
    readouts = [model.lm_head(model.model.norm(r[0, steps])) for r in residuals]
    assert torch.allclose(readouts[-1], logits[steps], atol=1e-4), "readout L != logits"
    logp = [torch.log_softmax(r.double(), dim=-1) for r in readouts]
    final = logp[-1]
    return torch.stack([(lp.exp() * (lp - final)).sum(-1) for lp in logp])


def final_half_mean(curve, n_layers):
    """Mean over decoder layers j >= floor(n/2), i.e. readouts l = j + 1."""
    return float(sum(curve[j + 1] for j in range(n_layers // 2, n_layers)) / (n_layers - n_layers // 2))


def late_mean(curve, n_layers):
    first = math.floor(0.8 * n_layers)
    return float(sum(curve[j + 1] for j in range(first, n_layers)) / (n_layers - first))


def bootstrap_cg(pt_curves, it_curves, n_layers, resamples=2000):
    """95% percentile interval of the CG over prompts resampled in pairs."""
    rng = random.Random(0)
    n, values = len(pt_curves), []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        it = final_half_mean(sum(torch.tensor(it_curves[i]) for i in idx) / n, n_layers)
        pt = final_half_mean(sum(torch.tensor(pt_curves[i]) for i in idx) / n, n_layers)
        values.append(it - pt)
    values.sort()
    return [values[int(0.025 * resamples)], values[int(0.975 * resamples) - 1]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="every prompt, not 2 per category")
    args = ap.parse_args()
    torch.manual_seed(0)
    check_tokenizers()
    with open(os.path.join(DEMO, "prompts.jsonl")) as f:
        prompts = [json.loads(line) for line in f]
    chosen, per_category = [], {}
    for p in prompts:
        if args.all or per_category.get(p["category"], 0) < PROMPTS_PER_CATEGORY:
            chosen.append(p)
            per_category[p["category"]] = per_category.get(p["category"], 0) + 1

    result = {"max_new_tokens": MAX_NEW_TOKENS, "prompts": [p["id"] for p in chosen]}
    for name in ("pt", "it"):
        model, tok = load(name)
        n_layers = model.config.num_hidden_layers
        eos_ids = model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids])
        per_prompt, all_steps = [], []
        for p in chosen:
            if name == "pt":
                prompt_ids = tok(p["formats"]["B"])["input_ids"]
            else:
                prompt_ids = tok.apply_chat_template([{"role": "user", "content": p["formats"]["A"]}],
                                                     add_generation_prompt=True, tokenize=True,
                                                     return_dict=False)
            generated = greedy(model, prompt_ids, eos_ids)
            kl = lens_kl(model, prompt_ids + generated, len(prompt_ids))  # [L+1, steps]
            all_steps.append(kl)
            per_prompt.append({"id": p["id"], "prompt_ids": prompt_ids, "generated_ids": generated,
                               "generated_text": tok.decode(generated),
                               "kl_curve": [float(x) for x in kl.mean(1)]})
            print(f"{name} {p['id']}: {tok.decode(generated)!r}")
        pooled = torch.cat(all_steps, dim=1).mean(1)  # mean over all generated token steps
        prompt_mean = torch.stack([kl.mean(1) for kl in all_steps]).mean(0)
        result[name] = {"n_layers": n_layers, "steps": int(sum(k.shape[1] for k in all_steps)),
                        "kl_curve_pooled": [float(x) for x in pooled],
                        "kl_curve_prompt_mean": [float(x) for x in prompt_mean],
                        "final_half_mean_kl": final_half_mean(pooled, n_layers),
                        "late_kl": late_mean(pooled, n_layers),
                        "per_prompt": per_prompt}
    result["convergence_gap"] = result["it"]["final_half_mean_kl"] - result["pt"]["final_half_mean_kl"]
    result["convergence_gap_prompt_mean"] = (
        final_half_mean(torch.tensor(result["it"]["kl_curve_prompt_mean"]), result["it"]["n_layers"])
        - final_half_mean(torch.tensor(result["pt"]["kl_curve_prompt_mean"]), result["pt"]["n_layers"]))
    result["convergence_gap_prompt_mean_ci95"] = bootstrap_cg(
        [p["kl_curve"] for p in result["pt"]["per_prompt"]],
        [p["kl_curve"] for p in result["it"]["per_prompt"]], result["it"]["n_layers"])
    for name in ("pt", "it"):
        r = result[name]
        print(f"{name}: {r['steps']} steps, KL(p_l||p_L) by readout l=0..{r['n_layers']}: "
              + " ".join(f"{x:.3f}" for x in r["kl_curve_pooled"])
              + f"  final-half {r['final_half_mean_kl']:.4f}  late {r['late_kl']:.4f}")
    print(f"CG (IT - PT, final half, pooled steps) = {result['convergence_gap']:+.4f} nats; "
          f"prompt-mean curves: {result['convergence_gap_prompt_mean']:+.4f}, 95% bootstrap interval "
          f"[{result['convergence_gap_prompt_mean_ci95'][0]:+.4f}, {result['convergence_gap_prompt_mean_ci95'][1]:+.4f}]")
    out = "crosscheck_all.json" if args.all else "crosscheck.json"
    with open(os.path.join(HERE, out), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
