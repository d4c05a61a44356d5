"""HF transformers baseline for `cgap bench`: same checkpoint, same work, fp32 on torch CPU.

Usage (run beside `./cgap bench --model DIR` on the same machine, same load):
    .venv/bin/python bench/hf_e2e_bench.py DIR [--threads 2] [--prefill 128] [--decode 32] [--runs 5]
Prints one JSON object with prefill_tokens_per_s and decode_tokens_per_s (medians after one warm-up).
"""
import argparse, json, statistics, time

import torch
from transformers import AutoModelForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--prefill", type=int, default=128)
ap.add_argument("--decode", type=int, default=32)
ap.add_argument("--runs", type=int, default=5)
args = ap.parse_args()

torch.set_num_threads(args.threads)
model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa").eval()
vocab = model.config.vocab_size
g = torch.Generator().manual_seed(7)
tokens = torch.randint(0, vocab, (1, args.prefill), generator=g)

prefill_s, decode_s = [], []
with torch.inference_mode():
    for run in range(args.runs + 1):  # run 0 is the warm-up
        t0 = time.perf_counter()
        out = model(tokens, use_cache=True, logits_to_keep=1)
        t1 = time.perf_counter()
        past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        for _ in range(args.decode):
            out = model(nxt, past_key_values=past, use_cache=True)
            past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        t2 = time.perf_counter()
        if run > 0:
            prefill_s.append(t1 - t0)
            decode_s.append(t2 - t1)

print(json.dumps({
    "model": args.model, "threads": args.threads, "torch": torch.__version__,
    "prefill_tokens_per_s": args.prefill / statistics.median(prefill_s),
    "decode_tokens_per_s": args.decode / statistics.median(decode_s),
}))
