package cgap.gap.cli;

import cgap.engine.hooks.ActivationCache;
import cgap.engine.hooks.HookName;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.SafetensorsWriter;
import cgap.kernels.DType;
import cgap.models.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/** {@code cgap forward}: one forward pass, writing the logits and the selected hook values to safetensors. */
@Command(name = "forward", description = "Run one forward pass and write logits and hook values (F32) to a safetensors file.")
final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR") Path model;
    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Comma-separated token ids.") String tokens;
    @Option(names = "--out", required = true, paramLabel = "FILE") Path out;
    @Option(names = "--hooks", defaultValue = "none", paramLabel = "all|none|GLOB[,GLOB..]",
            description = "Hook points to record, e.g. 'blocks.*.hook_resid_post,logits' (default: none).")
    String hooks;
    @Mixin EditOptions edits;
    @Mixin GraftOptions graft;

    @Override
    public Integer call() {
        int[] ids = Tokens.parse(tokens);
        try (Model m = Model.load(model); GraftOptions.Grafted g = graft.open(m)) {
            Transformer t = g.transformer();
            if (g.description() != null) System.err.println("graft: " + g.description());
            Tokens.checkRange(ids, t.vocab());
            HookRegistry registry = new HookRegistry();
            edits.register(registry);
            List<HookName> selected = select(t.hookNames(), hooks);
            ActivationCache cache = new ActivationCache().watch(registry, selected);
            float[] logits = t.forward(ids, t.newCache(), registry, Transformer.Logits.ALL);

            SafetensorsWriter writer = new SafetensorsWriter(DType.F32)
                    .metadata("model", m.dir().toAbsolutePath().toString())
                    .metadata("tokens", tokens.replace(" ", ""))
                    .add("logits", new long[] {ids.length, t.vocab()}, logits);
            if (g.description() != null) writer.metadata("graft", g.description());
            for (HookName name : selected) {
                if (name.toString().equals("logits")) continue;
                ActivationCache.Recorded r = cache.get(name);
                writer.add(name.toString(), r.shape(), r.data());
            }
            writer.write(out);
            System.err.println("wrote logits and " + selected.stream().filter(n -> !n.toString().equals("logits")).count()
                    + " hook tensors for " + ids.length + " tokens to " + out);
        }
        return 0;
    }

    /** all | none | comma list of globs ('*' matches within and across dots) over the model's hook names. */
    static List<HookName> select(List<HookName> available, String spec) {
        if (spec.equals("none")) return List.of();
        if (spec.equals("all")) return available;
        List<HookName> chosen = new ArrayList<>();
        for (String glob : spec.split(",")) {
            Pattern p = Pattern.compile(Pattern.quote(glob.trim()).replace("*", "\\E.*\\Q"));
            int before = chosen.size();
            for (HookName n : available) {
                if (p.matcher(n.toString()).matches() && !chosen.contains(n)) chosen.add(n);
            }
            if (chosen.size() == before) {
                throw new IllegalArgumentException("--hooks '" + glob.trim() + "' matches no hook point of this model (e.g. "
                        + available.get(1) + ", " + available.get(available.size() - 2) + ")");
            }
        }
        return chosen;
    }
}
