package cgap.gap.cli;

import cgap.engine.hooks.HookEdit;
import cgap.engine.hooks.HookRegistry;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code --edit SPEC} (repeatable): hook edits applied during a run. See {@link HookEdit} for the syntax. */
final class EditOptions {
    @Option(names = "--edit", paramLabel = "SPEC",
            description = "Hook edit: HOOK[@POS,..]=zero | =FILE:TENSOR | +=FILE:TENSOR | *=NUMBER (repeatable).")
    List<String> edits = new ArrayList<>();

    /** Parses the edits (files relative to the working directory) and registers them. */
    void register(HookRegistry hooks) {
        for (String spec : edits) HookEdit.parse(spec, Path.of("")).register(hooks);
    }
}
