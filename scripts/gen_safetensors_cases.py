"""Writes the safetensors fixtures the Java reader tests compare against.

Run with the project venv (torch + safetensors):
    /work/main/.venv/bin/python scripts/gen_safetensors_cases.py

Output: engine/src/test/resources/safetensors/python/
  f32.safetensors, f16.safetensors, bf16.safetensors   one dtype each, several shapes
  metadata.safetensors                                 __metadata__ with non-ASCII text
  mixed.safetensors                                    F32 next to I64 and BOOL tensors
  sharded/                                             an index.json and two shards
  expected.json                                        what each tensor holds, as f32 bit patterns,
                                                       plus torch's f32 -> bf16 / f16 roundings
Values are exact bit patterns (ints), so NaN, infinities and -0 survive JSON.
"""

import json
import pathlib

import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "engine/src/test/resources/safetensors/python"


# safetensors' own dtype names, as the Java reader reports them
DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64", torch.bool: "BOOL"}


def f32_bits(t):
    """The f32 bit patterns of t widened to float32, as unsigned ints."""
    return [v & 0xFFFFFFFF for v in t.detach().to(torch.float32).reshape(-1).view(torch.int32).tolist()]


def describe(tensors):
    out = {}
    for name, t in tensors.items():
        entry = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape)}
        if t.dtype in (torch.float32, torch.float16, torch.bfloat16):
            # torch widens every NaN to 0x7FFFFFFF, so for NaNs only NaN-ness is comparable;
            # the stored bits are exact for all elements
            entry["f32_bits"] = f32_bits(t)
            width = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}[t.dtype]
            mask = (1 << (8 * t.element_size())) - 1
            entry["stored_bits"] = [v & mask for v in t.reshape(-1).view(width).tolist()]
        else:
            entry["values"] = [int(v) for v in t.reshape(-1).tolist()]
        out[name] = entry
    return out


def float_cases():
    """Inputs that exercise rounding: ties to even, carries, subnormals, overflow, specials."""
    specials = [0.0, -0.0, 1.0, -1.0, 1.00390625, 1.01171875, 1.0 + 2**-8 + 2**-20, 3.14159265,
                65504.0, 65520.0, 1e-8, 6e-8, 2**-24, 2**-25, 1e-40, -1e-45,
                3.3895313892515355e38, 3.4028234663852886e38, float("inf"), float("-inf"), float("nan")]
    values = torch.tensor(specials, dtype=torch.float32)
    # a negative-NaN with payload, and a signalling-NaN pattern: the sign and NaN-ness must be kept
    odd_nans = torch.tensor([0xFFC12345 - (1 << 32), 0x7F800001], dtype=torch.int32).view(torch.float32)
    g = torch.Generator().manual_seed(7)
    randoms = torch.randn(64, generator=g) * torch.logspace(-6, 6, 64)
    return torch.cat([values, odd_nans, randoms])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(1234)
    expected = {}

    f32 = {
        "weight": torch.randn(2, 3, generator=g),
        "bias": torch.tensor([0.5, -2.25, 1e-3]),
        "scalar": torch.tensor(3.75),
        "empty": torch.zeros(0, 4),
        "cube": torch.randn(2, 2, 2, generator=g),
    }
    save_file(f32, OUT / "f32.safetensors")
    expected["f32.safetensors"] = {"metadata": {}, "tensors": describe(f32)}

    f16 = {
        "weight": torch.randn(3, 4, generator=g).to(torch.float16),
        "specials": torch.tensor([0.0, -0.0, 65504.0, -65504.0, 2**-24, 2**-14, float("inf"),
                                  float("-inf"), float("nan"), 1.0 / 3.0], dtype=torch.float16),
    }
    save_file(f16, OUT / "f16.safetensors")
    expected["f16.safetensors"] = {"metadata": {}, "tensors": describe(f16)}

    bf16 = {
        "embed": torch.randn(5, 3, generator=g).to(torch.bfloat16),
        "specials": torch.tensor([0.0, -0.0, 1.00390625, 1.01171875, 3.3895313892515355e38, 1e-40,
                                  float("inf"), float("-inf"), float("nan")]).to(torch.bfloat16),
        # an odd element count, so the next tensor starts at an offset that is not 4-aligned
        "odd": torch.tensor([1.5, -2.5, 7.0]).to(torch.bfloat16),
    }
    save_file(bf16, OUT / "bf16.safetensors")
    expected["bf16.safetensors"] = {"metadata": {}, "tensors": describe(bf16)}

    meta_tensors = {"w": torch.tensor([[1.0, 2.0], [3.0, 4.0]])}
    meta = {"format": "pt", "note": "héllo wörld ✓", "empty": ""}
    save_file(meta_tensors, OUT / "metadata.safetensors", metadata=meta)
    expected["metadata.safetensors"] = {"metadata": meta, "tensors": describe(meta_tensors)}

    mixed = {
        "proj": torch.tensor([0.25, -0.75], dtype=torch.float32),
        "position_ids": torch.arange(6, dtype=torch.int64).reshape(1, 6),
        "mask": torch.tensor([True, False, True]),
    }
    save_file(mixed, OUT / "mixed.safetensors")
    expected["mixed.safetensors"] = {"metadata": {}, "tensors": describe(mixed)}

    # A transformers-style sharded checkpoint: two shards and an index in the index's own order.
    sharded_dir = OUT / "sharded"
    sharded_dir.mkdir(exist_ok=True)
    shard1 = {"model.embed_tokens.weight": torch.randn(4, 2, generator=g).to(torch.bfloat16),
              "model.layers.0.input_layernorm.weight": torch.randn(2, generator=g).to(torch.bfloat16)}
    shard2 = {"model.norm.weight": torch.randn(2, generator=g).to(torch.bfloat16),
              "lm_head.weight": torch.randn(4, 2, generator=g).to(torch.bfloat16)}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    save_file(shard1, sharded_dir / names[0], metadata={"format": "pt"})
    save_file(shard2, sharded_dir / names[1], metadata={"format": "pt"})
    total = sum(t.numel() * t.element_size() for t in {**shard1, **shard2}.values())
    weight_map = {}
    for name in sorted([*shard1, *shard2]):
        weight_map[name] = names[0] if name in shard1 else names[1]
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (sharded_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    expected["sharded"] = {"total_size": total, "weight_map": weight_map,
                           "tensors": describe({**shard1, **shard2})}

    cases = float_cases()
    expected["rounding"] = {
        "input_f32_bits": f32_bits(cases),
        "bf16_bits": [v & 0xFFFF for v in cases.to(torch.bfloat16).view(torch.int16).tolist()],
        "f16_bits": [v & 0xFFFF for v in cases.to(torch.float16).view(torch.int16).tolist()],
    }

    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
