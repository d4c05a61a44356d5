"""HF transformers side of the lens benchmark (bench/RESULTS-lens.md): the same work as cgap's LensBenchmark.

  make:  python bench/hf_lens_bench.py --make DIR      a Llama-3.2-1B-shaped random BF16 checkpoint (if DIR lacks one)
  lens:  python bench/hf_lens_bench.py --model DIR --tokens 128 --threads 2
         forward of T tokens, then every readout l = 0..L (final norm + lm_head, fp32) over the full vocabulary,
         reduced to the contract's metrics in float64 (KL both ways, entropy, top-1, rank of the final top-1)
  step:  the same with --steps N: per generated token, one decode step with the KV cache plus the L+1 readouts
         at that position, reduced the same way.

Times are wall clock and process CPU time (all threads; robust to other processes on the same cores) after one
untimed warm-up run; the model is loaded in fp32 (the weights are BF16 on disk).
"""
import argparse
import json
import os
import sys
import time

import torch


def make_checkpoint(out_dir):
    from transformers import LlamaConfig, LlamaForCausalLM
    if os.path.exists(os.path.join(out_dir, "model.safetensors")):
        print(f"{out_dir} already holds a checkpoint")
        return
    config = LlamaConfig(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=131072,
        rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True, hidden_act="silu",
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192},
        bos_token_id=128000, eos_token_id=128001, initializer_range=0.02, torch_dtype="bfloat16")
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    model = LlamaForCausalLM(config)
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True, max_shard_size="10GB")
    print(f"wrote {out_dir}")


METRICS_DTYPE = torch.float64


def lens_metrics(readouts):
    """readouts: a list of [T, V] fp32 logits. Metrics in METRICS_DTYPE (float64, as the contract says)."""
    final = readouts[-1].to(METRICS_DTYPE)
    final_logp = torch.log_softmax(final, dim=-1)
    final_p = final_logp.exp()
    final_top1 = final.argmax(dim=-1, keepdim=True)
    out = []
    for r in readouts:
        z = r.to(METRICS_DTYPE)
        logp = torch.log_softmax(z, dim=-1)
        p = logp.exp()
        kl = (p * (logp - final_logp)).sum(-1)
        kl_rev = (final_p * (final_logp - logp)).sum(-1)
        entropy = -(p * logp).sum(-1)
        top1 = r.argmax(dim=-1)
        rank = (r > r.gather(-1, final_top1)).sum(-1)
        out.append((kl, kl_rev, entropy, top1, rank))
    return out


def run_lens(model, tokens):
    with torch.no_grad():
        out = model.model(input_ids=tokens, output_hidden_states=True)
        hidden = out.hidden_states  # embeddings, then each layer (the last already final-normed by HF)
        residuals = list(hidden[:-1])
        # HF applies the final norm to the last hidden state; recompute the raw residual of the last layer.
        readouts = [model.lm_head(model.model.norm(h))[0] for h in residuals]
        readouts.append(model.lm_head(hidden[-1])[0])
        return lens_metrics(readouts)


def run_steps(model, prompt, steps):
    with torch.no_grad():
        out = model.model(input_ids=prompt, use_cache=True)
        cache = out.past_key_values
        token = model.lm_head(out.last_hidden_state[:, -1:])[0].argmax(-1).view(1, 1)
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(steps):
            out = model.model(input_ids=token, past_key_values=cache, use_cache=True, output_hidden_states=True)
            cache = out.past_key_values
            hidden = out.hidden_states
            rows = torch.cat([model.model.norm(h[0]) for h in hidden[:-1]] + [hidden[-1][0]], dim=0)  # [L+1, d]
            readouts = model.lm_head(rows).unsqueeze(1)  # [L+1, 1, V]
            metrics = lens_metrics(list(readouts))
            token = metrics[-1][3].view(1, 1)
        return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make", metavar="DIR")
    ap.add_argument("--model", metavar="DIR")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--metrics-dtype", choices=["float64", "float32"], default="float64",
                    help="float32 gives HF a lower bound: less work than the contract asks")
    args = ap.parse_args()
    global METRICS_DTYPE
    METRICS_DTYPE = getattr(torch, args.metrics_dtype)
    if args.make:
        make_checkpoint(args.make)
        return
    torch.set_num_threads(args.threads)
    from transformers import LlamaForCausalLM
    model = LlamaForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, model.config.vocab_size, (1, args.tokens), generator=g)
    result = {"threads": args.threads, "tokens": args.tokens, "torch": torch.__version__, "metrics_dtype": args.metrics_dtype}
    if args.steps:
        run_steps(model, tokens, 2)  # warm-up
        result["seconds_per_step"], result["cpu_seconds_per_step"] = run_steps(model, tokens, args.steps)
        result["steps"] = args.steps
    else:
        run_lens(model, tokens)  # warm-up
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            metrics = run_lens(model, tokens)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        result["seconds"] = min(times)
        result["cpu_seconds"] = min(cpu)
        result["all_seconds"] = times
        result["mean_kl_per_readout"] = [float(m[0].mean()) for m in metrics]
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
