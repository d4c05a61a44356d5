"""Where each contract hook point sits inside an HF transformers model, as PyTorch hooks.

A point is (module, side, pick): side "in" reads/replaces the module's first input (the
`hidden_states` argument), side "out" its output; `pick` chooses the element of a tuple output.
All tensors handed to callers are per-sequence (batch axis dropped).
"""

import torch


class _Handles:
    def __init__(self, handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()


class HookPoints:
    def __init__(self, model, case):
        self.model = model
        self.decoder = case["decoder"](model)          # the module holding embed_tokens/layers/norm
        self.lm_head = model.lm_head
        self.final_softcap = case.get("final_softcap", lambda m: None)(model)
        self.layers = list(self.decoder.layers)
        self.n_layers = len(self.layers)
        self.hidden_size = self.decoder.embed_tokens.weight.shape[1]
        self.vocab_size = self.lm_head.weight.shape[0]
        # Gemma 2/3 and OLMo 2 wrap the sub-block outputs in their own norms
        self.sandwich = hasattr(self.layers[0], "post_feedforward_layernorm")
        self.points = {}
        self.names = []
        self._add("hook_embed", self.layers[0], "in")
        for i, layer in enumerate(self.layers):
            self._add_block(i, layer)
        self._add("ln_final.hook_normalized", self.decoder.norm, "out")

    def _add(self, name, module, side, pick=0):
        self.points[name] = (module, side, pick)
        self.names.append(name)

    def _add_block(self, i, layer):
        b = f"blocks.{i}."
        sandwich = hasattr(layer, "post_feedforward_layernorm")  # Gemma 2/3 and OLMo 2
        mlp = layer.mlp
        self._add(b + "hook_resid_pre", layer, "in")
        self._add(b + "ln1.hook_normalized", layer.self_attn, "in")
        if sandwich:
            self._add(b + "hook_attn_out", layer.post_attention_layernorm, "out")
        else:
            self._add(b + "hook_attn_out", layer.self_attn, "out", 0)
        if hasattr(layer, "pre_feedforward_layernorm"):
            self._add(b + "hook_resid_mid", layer.pre_feedforward_layernorm, "in")
        elif sandwich:  # OLMo 2: the MLP reads the raw residual
            self._add(b + "hook_resid_mid", mlp, "in")
        else:
            self._add(b + "hook_resid_mid", layer.post_attention_layernorm, "in")
        self._add(b + "ln2.hook_normalized", mlp, "in")
        if hasattr(mlp, "gate") and hasattr(mlp, "experts"):  # DeepSeek-V2 MoE
            self._add(b + "mlp.hook_router_logits", mlp.gate, "out", 0)
            self._add(b + "mlp.hook_topk_ids", mlp.gate, "out", 2)
        else:
            self._add(b + "mlp.hook_pre", mlp.gate_proj, "out")
            self._add(b + "mlp.hook_post", mlp.down_proj, "in")
        if sandwich:
            self._add(b + "hook_mlp_out", layer.post_feedforward_layernorm, "out")
        else:
            self._add(b + "hook_mlp_out", mlp, "out")
        self._add(b + "hook_resid_post", layer, "out")

    # ------------------------------------------------------------ attach

    @staticmethod
    def _attach(module, side, pick, fn):
        """Register fn(tensor without batch axis) -> replacement or None on module's in/out."""
        def unbatch(x):
            return x[0] if x.dim() == 3 else x

        def rebatch(new, old):
            return new.unsqueeze(0) if old.dim() == 3 else new

        if side == "out":
            def hook(mod, args, out):
                value = out[pick] if isinstance(out, tuple) else out
                new = fn(unbatch(value))
                if new is None:
                    return None
                new = rebatch(new, value)
                if isinstance(out, tuple):
                    return out[:pick] + (new,) + out[pick + 1:]
                return new
            return module.register_forward_hook(hook)

        def pre_hook(mod, args, kwargs):
            value = args[0] if args else kwargs["hidden_states"]
            new = fn(unbatch(value))
            if new is None:
                return None
            new = rebatch(new, value)
            if args:
                return (new,) + args[1:], kwargs
            return args, {**kwargs, "hidden_states": new}
        return module.register_forward_pre_hook(pre_hook, with_kwargs=True)

    def capture(self, captured):
        """Record every hook into `captured` (in contract order); returns a handle to remove."""
        for name in self.names:
            captured[name] = None
        handles = []
        for name in self.names:
            module, side, pick = self.points[name]

            def store(x, name=name):
                captured[name] = x.detach().float().clone()
                return None
            handles.append(self._attach(module, side, pick, store))
        return _Handles(handles)

    def edit(self, name, fn):
        module, side, pick = self.points[name]
        return _Handles([self._attach(module, side, pick, fn)])

    def readout(self, resid):
        """Logit-lens readout with the model's own final norm, unembedding and final soft-cap."""
        logits = self.lm_head(self.decoder.norm(resid.unsqueeze(0)))[0].float()
        if self.final_softcap is not None:
            logits = torch.tanh(logits / self.final_softcap) * self.final_softcap
        return logits
