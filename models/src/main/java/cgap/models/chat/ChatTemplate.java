package cgap.models.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;

/**
 * A model's chat template (Jinja), rendered with Jinjava configured as transformers' jinja2
 * environment: trim_blocks, lstrip_blocks, raise_exception, strftime_now, a json.dumps-style
 * tojson, {% generation %}, the special-token variables of tokenizer_config.json and
 * add_generation_prompt. Known differences that remain: Jinjava prints true/false and nothing for
 * none where jinja2 prints True/False/None, and slices with a step other than [::-1] fail.
 */
public final class ChatTemplate {
    private final String name;
    private final String source;
    private final Map<String, Object> specialTokens;
    private final Clock clock;
    private final Jinjava jinjava;

    /** The instant strftime_now formats, set for the duration of one render. */
    private static final ThreadLocal<ZonedDateTime> NOW = new ThreadLocal<>();

    private ChatTemplate(String name, String source, Map<String, Object> specialTokens, Clock clock) {
        this.name = name;
        this.source = JinjaSource.prepare(source);
        this.specialTokens = specialTokens;
        this.clock = clock;
        this.jinjava = newEngine();
    }

    /**
     * The template of dir: chat_template.jinja if present (transformers prefers it), else
     * tokenizer_config.json's chat_template (a string, or a list of {name, template} of which
     * "default" is used). Empty when the tokenizer has none. strftime_now reads the system clock.
     */
    public static Optional<ChatTemplate> load(Path dir) {
        return load(dir, Clock.systemDefaultZone());
    }

    /** As load(dir), with strftime_now reading the given clock (tests fix the date). */
    public static Optional<ChatTemplate> load(Path dir, Clock clock) {
        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = null;
        if (Files.isRegularFile(configFile)) {
            try {
                config = new ObjectMapper().readTree(configFile.toFile());
            } catch (IOException e) {
                throw new ChatTemplateException(configFile + ": malformed JSON: "
                        + e.getMessage().lines().findFirst().orElse(""), e);
            }
        }
        Map<String, Object> specialTokens = specialTokenVariables(config);
        Path jinjaFile = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            try {
                return Optional.of(new ChatTemplate(jinjaFile.toString(), Files.readString(jinjaFile), specialTokens, clock));
            } catch (IOException e) {
                throw new ChatTemplateException(jinjaFile + ": cannot read: " + e.getMessage(), e);
            }
        }
        JsonNode template = config == null ? null : config.get("chat_template");
        if (template == null || template.isNull()) {
            return Optional.empty();
        }
        String where = configFile + " chat_template";
        if (template.isTextual()) {
            return Optional.of(new ChatTemplate(where, template.asText(), specialTokens, clock));
        }
        if (template.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode named : template) {
                String templateName = named.path("name").asText();
                names.add(templateName);
                if (templateName.equals("default")) {
                    return Optional.of(new ChatTemplate(where + "[default]", named.path("template").asText(),
                            specialTokens, clock));
                }
            }
            throw new ChatTemplateException(where + ": no template named 'default' among " + names);
        }
        throw new ChatTemplateException(where + ": must be a string or a list of {name, template}");
    }

    /** Builds a template from its source text (name is used in error messages). */
    public static ChatTemplate of(String name, String source, Map<String, String> specialTokens, Clock clock) {
        return new ChatTemplate(name, source, new LinkedHashMap<>(specialTokens), clock);
    }

    /** The prompt text transformers' apply_chat_template(messages, tokenize=False, ...) gives. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> turn = new LinkedHashMap<>();
            turn.put("role", m.role());
            turn.put("content", m.content());
            turns.add(turn);
        }
        Map<String, Object> bindings = new LinkedHashMap<>(specialTokens);
        bindings.put("messages", turns);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        NOW.set(ZonedDateTime.now(clock));
        RenderResult result;
        try {
            result = jinjava.renderForResult(source, bindings);
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template " + name + ": " + e.getMessage(), e);
        } finally {
            NOW.remove();
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new ChatTemplateException("chat template " + name + " line " + error.getLineno() + ": "
                        + describe(error));
            }
        }
        return result.getOutput();
    }

    /** The template's name for messages: the file (and key) it came from. */
    public String name() {
        return name;
    }

    private static String describe(TemplateError error) {
        Throwable cause = error.getException();
        while (cause != null) {
            if (cause instanceof RaisedByTemplate raised) {
                return "raise_exception: " + raised.getMessage();
            }
            cause = cause.getCause();
        }
        return error.getMessage();
    }

    /**
     * What transformers passes besides messages: every *_token of tokenizer_config.json (string or
     * {content}), additional_special_tokens and extra_special_tokens.
     */
    private static Map<String, Object> specialTokenVariables(JsonNode config) {
        Map<String, Object> variables = new LinkedHashMap<>();
        if (config == null) {
            return variables;
        }
        config.properties().forEach(e -> {
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (key.endsWith("_token")) {
                String content = value.isTextual() ? value.asText()
                        : value.isObject() && value.has("content") ? value.get("content").asText() : null;
                if (content != null) variables.put(key, content);
            }
        });
        JsonNode additional = config.get("additional_special_tokens");
        if (additional != null && additional.isArray()) {
            List<String> tokens = new ArrayList<>();
            additional.forEach(t -> tokens.add(t.isObject() ? t.path("content").asText() : t.asText()));
            variables.put("additional_special_tokens", tokens);
        }
        JsonNode extra = config.get("extra_special_tokens");
        if (extra != null && extra.isObject()) {
            extra.properties().forEach(e -> {
                if (e.getValue().isTextual()) variables.put(e.getKey(), e.getValue().asText());
            });
        }
        return variables;
    }

    private static Jinjava newEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                // trim_blocks and lstrip_blocks are applied to the source by JinjaSource
                .withTrimBlocks(false)
                .withLstripBlocks(false)
                .withKeepTrailingNewline(true) // jinja2 drops the source's final newline instead: see jinjaSource
                .withFailOnUnknownTokens(false)
                .withLocale(Locale.US)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withEvaluateMapKeys(true)          // {k: v} evaluates k, as Python does
                        .withIterateOverMapKeys(true)       // for x in dict: the keys
                        .withUsePyishObjectMapper(true)     // lists and dicts print as Python's repr
                        .withUseNaturalOperatorPrecedence(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true) // {{- and -}} strip whitespace too
                        .build())
                .withElResolver(resolver)
                .build();
        Jinjava jinjava = new Jinjava(config);
        try {
            jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getDeclaredMethod("raiseException", String.class)));
            jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getDeclaredMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        jinjava.registerFilter(new ToJson());
        jinjava.registerTag(new Generation());
        return jinjava;
    }

    /** The template's own error, thrown by raise_exception(message). */
    static final class RaisedByTemplate extends RuntimeException {
        RaisedByTemplate(String message) {
            super(message);
        }
    }

    public static String raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    public static String strftimeNow(String format) {
        ZonedDateTime now = NOW.get();
        return StrftimeFormatter.format(now == null ? ZonedDateTime.now() : now, format, Locale.US);
    }

    /**
     * transformers' {% generation %}...{% endgeneration %}: marks the assistant's tokens for
     * training masks; when rendering a prompt it just renders its body.
     */
    static final class Generation implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String getEndTagName() {
            return "endgeneration";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            StringBuilder body = new StringBuilder();
            for (Node child : tagNode.getChildren()) {
                body.append(child.render(interpreter).getValue());
            }
            return body.toString();
        }
    }

    /** tojson as transformers defines it: json.dumps(x, ensure_ascii=False, indent=indent). */
    static final class ToJson implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return PythonJson.dumps(var, args.length > 0 ? Integer.valueOf(args[0]) : null);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
            return PythonJson.dumps(var, indent == null ? null : ((Number) indent).intValue());
        }
    }
}
