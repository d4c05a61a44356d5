"""Train the demo pair: a small Llama-style PT model and its IT fine-tune, with their own
byte-level BPE tokenizer. CPU only, seeded; run demo/build_corpus.py first.

  /work/main/.venv/bin/python demo/train_demo.py

Writes gap/src/main/resources/cgap/demo/{pt,it}/ (BF16 model.safetensors, config.json,
generation_config.json, tokenizer.json, tokenizer_config.json) and demo/train_summary.json.

The step counts, not a wall-clock budget, fix the run, so that the same command gives the
same weights on the same torch version and thread count. One thread is the default: on the
shared 2-core machine, with other builds running, a two-thread step measured 4x slower than
a one-thread step (the threads wait on each other whenever one is descheduled).
"""
import argparse
import copy
import json
import math
import os
import random
import time

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
OUT = os.path.join(HERE, "..", "gap", "src", "main", "resources", "cgap", "demo")

SEED = 1234
VOCAB_SIZE = 4096
BOS, EOS, START_HEADER, END_HEADER, EOT = (
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
SPECIAL_TOKENS = [BOS, EOS, START_HEADER, END_HEADER, EOT]  # ids 0..4

# Llama 3's pre-tokenizer split: contractions, letter runs with one leading non-letter,
# numbers in groups of up to three digits, punctuation runs, newlines, spaces.
SPLIT_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# A Llama 3 style chat template: the template writes BOS itself, so chat text is tokenized
# without the post-processor's BOS.
CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}")

MODEL = dict(vocab_size=VOCAB_SIZE, hidden_size=128, intermediate_size=384,
             num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2,
             max_position_embeddings=512, rope_theta=10000.0, rms_norm_eps=1e-5,
             hidden_act="silu", tie_word_embeddings=True, initializer_range=0.02,
             bos_token_id=0, eos_token_id=1)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(texts):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, show_progress=False,
                                  special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B",
                                      special_tokens=[(BOS, bos_id)])])
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()
    return tok


def tokenizer_config(eos_token):
    added = {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": True}
             for i, t in enumerate(SPECIAL_TOKENS)}
    return {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": BOS, "eos_token": eos_token,
            "clean_up_tokenization_spaces": False, "model_max_length": MODEL["max_position_embeddings"],
            "model_input_names": ["input_ids", "attention_mask"], "added_tokens_decoder": added,
            "chat_template": CHAT_TEMPLATE}


def write_tokenizer(tok, directory, eos_token):
    os.makedirs(directory, exist_ok=True)
    tok.save(os.path.join(directory, "tokenizer.json"))
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config(eos_token), f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- data

def pt_chunks(tok, docs, seq_len):
    """Documents as BOS text EOS, concatenated and cut into rows of seq_len + 1 tokens."""
    eos_id = tok.token_to_id(EOS)
    stream = []
    for enc in tok.encode_batch([d["text"] for d in docs]):  # post-processor adds BOS
        stream += enc.ids + [eos_id]
    n = len(stream) // (seq_len + 1)
    return torch.tensor(stream[: n * (seq_len + 1)], dtype=torch.long).view(n, seq_len + 1), len(stream)


def it_examples(hf_tok, examples, max_len):
    """Chat-rendered examples with a mask on the assistant's tokens (its reply and <|eot_id|>)."""
    out = []
    for ex in examples:
        prompt_ids = hf_tok.apply_chat_template(ex["messages"][:1], add_generation_prompt=True,
                                                tokenize=True, return_dict=False)
        full_ids = hf_tok.apply_chat_template(ex["messages"], tokenize=True, return_dict=False)
        assert full_ids[: len(prompt_ids)] == prompt_ids, ex
        if len(full_ids) > max_len:
            continue
        out.append((full_ids, len(prompt_ids)))
    return out


def it_batch(examples, pad_id):
    """Right-padded inputs and labels; labels are -100 except on assistant tokens."""
    width = max(len(ids) for ids, _ in examples)
    inputs = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, (ids, n_prompt) in enumerate(examples):
        inputs[row, : len(ids)] = torch.tensor(ids)
        labels[row, n_prompt: len(ids)] = torch.tensor(ids[n_prompt:])
        mask[row, : len(ids)] = 1
    return inputs, labels, mask


# ---------------------------------------------------------------- training

def lr_at(step, total, peak, warmup):
    """Linear warmup, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def optimizer_for(model, lr):
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.95))


def pretrain(model, train, val, steps, batch, peak_lr, log):
    opt = optimizer_for(model, peak_lr)
    g = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(train), generator=g)
    start, cursor, losses = time.time(), 0, []
    for step in range(steps):
        if cursor + batch > len(order):
            order, cursor = torch.randperm(len(train), generator=g), 0
        rows = train[order[cursor: cursor + batch]]
        cursor += batch
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, peak_lr, warmup=steps // 20)
        loss = lm_loss(model, rows[:, :-1], rows[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 25 == 0 or step == steps - 1:
            log(f"PT step {step:5d}/{steps}  loss {sum(losses[-50:]) / len(losses[-50:]):.4f}  "
                f"{time.time() - start:6.0f}s  {(step + 1) * batch * (train.shape[1] - 1) / (time.time() - start):.0f} tok/s")
    return {"steps": steps, "train_loss_last50": sum(losses[-50:]) / len(losses[-50:]),
            "val_loss": evaluate_pt(model, val), "seconds": time.time() - start}


def lm_loss(model, inputs, targets, attention_mask=None):
    logits = model(input_ids=inputs, attention_mask=attention_mask).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                             targets.reshape(-1), ignore_index=-100)


@torch.no_grad()
def evaluate_pt(model, val):
    model.eval()
    losses = [lm_loss(model, val[i: i + 16, :-1], val[i: i + 16, 1:]).item()
              for i in range(0, len(val), 16)]
    model.train()
    return sum(losses) / len(losses)


def finetune(model, train, val, steps, batch, peak_lr, pad_id, log):
    opt = optimizer_for(model, peak_lr)
    batches, losses, start = length_bucketed_batches(train, batch, steps), [], time.time()
    for step in range(steps):
        inputs, labels, mask = it_batch(batches[step], pad_id)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, peak_lr, warmup=steps // 20)
        loss = lm_loss(model, inputs[:, :-1], labels[:, 1:], mask[:, :-1])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 25 == 0 or step == steps - 1:
            log(f"IT step {step:5d}/{steps}  assistant-token loss "
                f"{sum(losses[-50:]) / len(losses[-50:]):.4f}  {time.time() - start:6.0f}s")
    return {"steps": steps, "train_loss_last50": sum(losses[-50:]) / len(losses[-50:]),
            "val_loss": evaluate_it(model, val, pad_id), "seconds": time.time() - start}


def length_bucketed_batches(examples, batch, steps):
    """Shuffled batches of examples of similar length, so little of each batch is padding:
    sort each run of 16 batches' worth by length, cut it into batches, shuffle the batches."""
    rng = random.Random(SEED)
    batches = []
    while len(batches) < steps:
        order = list(range(len(examples)))
        rng.shuffle(order)
        for i in range(0, len(order) - 16 * batch + 1, 16 * batch):
            run = sorted(order[i: i + 16 * batch], key=lambda j: len(examples[j][0]))
            group = [[examples[j] for j in run[k: k + batch]] for k in range(0, len(run), batch)]
            rng.shuffle(group)
            batches += group
    return batches[:steps]


@torch.no_grad()
def evaluate_it(model, val, pad_id):
    model.eval()
    losses = []
    for i in range(0, len(val), 32):
        inputs, labels, mask = it_batch(val[i: i + 32], pad_id)
        losses.append(lm_loss(model, inputs[:, :-1], labels[:, 1:], mask[:, :-1]).item())
    model.train()
    return sum(losses) / len(losses)


def save_model(model, tok, directory, eos_token, eos_ids):
    """BF16 safetensors, config, generation config and the tokenizer files."""
    bf16 = copy.deepcopy(model).to(torch.bfloat16)
    bf16.config.eos_token_id = eos_ids[0] if len(eos_ids) == 1 else eos_ids
    bf16.generation_config = GenerationConfig(bos_token_id=tok.token_to_id(BOS), eos_token_id=eos_ids,
                                              do_sample=False)
    bf16.save_pretrained(directory)
    write_tokenizer(tok, directory, eos_token)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pt-steps", type=int, default=600)
    ap.add_argument("--it-steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    random.seed(SEED)
    summary_lines = []

    def log(msg):
        print(msg, flush=True)
        summary_lines.append(msg)

    t0 = time.time()
    pt_docs = read_jsonl(os.path.join(DATA, "pt_corpus.jsonl"))
    it_data = read_jsonl(os.path.join(DATA, "it_train.jsonl"))

    # The tokenizer sees the PT corpus and a slice of the chat data's plain text.
    it_text = [m["content"] for ex in it_data[:20000] for m in ex["messages"]]
    tok = train_tokenizer([d["text"] for d in pt_docs] + it_text)
    log(f"tokenizer: {tok.get_vocab_size()} tokens, trained in {time.time() - t0:.0f}s")
    tok_dir = os.path.join(DATA, "tokenizer")
    write_tokenizer(tok, tok_dir, EOT)
    hf_tok = PreTrainedTokenizerFast.from_pretrained(tok_dir)

    seq_len = 256
    chunks, n_tokens = pt_chunks(tok, pt_docs, seq_len)
    n_val = 64
    pt_val, pt_train = chunks[:n_val], chunks[n_val:]
    log(f"PT corpus: {n_tokens} tokens, {len(pt_train)} train rows, {len(pt_val)} val rows of {seq_len}")

    model = LlamaForCausalLM(LlamaConfig(**MODEL))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {n_params} parameters, config {MODEL}")
    pt_result = pretrain(model, pt_train, pt_val, args.pt_steps, batch=8, peak_lr=3e-3, log=log)
    log(f"PT done: {pt_result}")
    save_model(model, tok, os.path.join(args.out, "pt"), EOS, [tok.token_to_id(EOS)])

    examples = it_examples(hf_tok, it_data[:20000], max_len=128)
    it_val, it_train = examples[:128], examples[128:]
    log(f"IT data: {len(it_train)} train, {len(it_val)} val chat examples")
    it_model = copy.deepcopy(model)
    it_result = finetune(it_model, it_train, it_val, args.it_steps, batch=16, peak_lr=1e-3,
                         pad_id=tok.token_to_id(EOS), log=log)
    log(f"IT done: {it_result}")
    save_model(it_model, tok, os.path.join(args.out, "it"), EOT,
               [tok.token_to_id(EOS), tok.token_to_id(EOT)])

    summary = {"seed": SEED, "threads": args.threads, "torch": torch.__version__,
               "model": MODEL, "parameters": n_params, "pt_tokens": n_tokens,
               "pt": pt_result, "it": it_result, "total_seconds": time.time() - t0,
               "log": summary_lines}
    with open(os.path.join(HERE, "train_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    log(f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
