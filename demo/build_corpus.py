"""Build the demo pair's training data and its evaluation prompts from English text that
Debian packages carry offline:

  dict-gcide    /usr/share/dictd/gcide.dict.dz     (Webster 1913 + WordNet, GPL)
  wordnet-base  /usr/share/wordnet/data.*, index.* (WordNet 3.0 licence)
  python3-doc   /usr/share/doc/python3.11/html/_sources/**/*.rst.txt (PSF licence)
  fortunes      /usr/share/games/fortunes/*        (public domain / various)

Outputs (demo/data/, git-ignored):
  pt_corpus.jsonl   {"text": ...} one document per line, for pretraining
  it_train.jsonl    {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}
  heldout.jsonl     the WordNet entries kept out of all training data
and the shipped prompts: gap/src/main/resources/cgap/demo/prompts.jsonl.

Held-out words: every WordNet synset containing one of them is left out of both the PT
corpus and the IT data, and so are GCIDE entries headed by them, so the prompts ask
about words the pair has never seen defined.

Run: /work/main/.venv/bin/python demo/build_corpus.py   (seeded, deterministic)
"""
import glob
import gzip
import json
import os
import random
import re

SEED = 1234
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
PROMPTS_OUT = os.path.join(HERE, "..", "gap", "src", "main", "resources", "cgap", "demo",
                           "prompts.jsonl")

WORDNET = "/usr/share/wordnet"
GCIDE = "/usr/share/dictd/gcide.dict.dz"
PYDOC = "/usr/share/doc/python3.11/html/_sources"
FORTUNES = "/usr/share/games/fortunes"

POS_NAME = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}

# Sizes, in characters, of each PT corpus source after sampling: 10.6 M chars, 3.4 M
# tokens, more than the 1.2 M tokens pretraining reads on the shared CPU.
PT_BUDGET = {"gcide": 4_500_000, "wordnet": 2_500_000, "wordnet_qa": 1_000_000,
             "pydoc": 3_000_000, "fortunes": 1_500_000}
N_HELDOUT_PER_CATEGORY = {"DEFINITION": 10, "SYNONYM": 8, "USAGE": 8, "ANTONYM": 6,
                          "PART-OF-SPEECH": 6}


# ---------------------------------------------------------------- WordNet

def read_wordnet():
    """Synsets as dicts: offset, pos, words, definition, examples, antonym pairs."""
    synsets = {}
    for pos_file in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET, "data." + pos_file), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                offset, ss_type = fields[0], fields[2]
                n_words = int(fields[3], 16)
                words = [fields[4 + 2 * i].replace("_", " ") for i in range(n_words)]
                # WordNet marks adjective positions like "big(a)"; drop the marker.
                words = [re.sub(r"\([a-z]+\)$", "", w) for w in words]
                k = 4 + 2 * n_words
                n_ptr = int(fields[k])
                antonyms = []
                for i in range(n_ptr):
                    sym, target, tpos, src_tgt = fields[k + 1 + 4 * i: k + 5 + 4 * i]
                    if sym == "!":
                        antonyms.append((int(src_tgt[:2], 16), target, tpos, int(src_tgt[2:], 16)))
                parts = [p.strip() for p in gloss.strip().split(";")]
                definition = "; ".join(p for p in parts if p and not p.startswith('"'))
                examples = [p.strip('" ') for p in parts if p.startswith('"')]
                key = (pos_file[0], offset)
                synsets[key] = {"pos": POS_NAME[ss_type], "words": words,
                                "definition": definition, "examples": examples,
                                "antonyms": antonyms}
    # Resolve antonym pointers to words: (source word index, target synset, target word index).
    for s in synsets.values():
        pairs = []
        for src, target, tpos, tgt in s["antonyms"]:
            t = synsets.get((tpos if tpos != "s" else "a", target))
            if t is None:
                continue
            src_words = s["words"] if src == 0 else [s["words"][src - 1]]
            tgt_word = t["words"][0] if tgt == 0 else t["words"][tgt - 1]
            pairs += [(w, tgt_word) for w in src_words]
        s["antonyms"] = pairs
    return synsets


def read_first_senses():
    """lemma -> (pos letter, offset of its most frequent sense, tagged sense count), and
    lemma -> the set of parts of speech WordNet lists it under."""
    first, parts_of_speech = {}, {}
    for pos_file in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(WORDNET, "index." + pos_file), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                fields = line.split()
                lemma, n_senses, n_ptr = fields[0], int(fields[2]), int(fields[3])
                tagged = int(fields[5 + n_ptr])
                offsets = fields[6 + n_ptr:6 + n_ptr + n_senses]
                key = lemma.replace("_", " ")
                parts_of_speech.setdefault(key, set()).add(pos_file[0])
                if key not in first or tagged > first[key][2]:
                    first[key] = (pos_file[0], offsets[0], tagged)
    return first, parts_of_speech


def is_plain_word(w):
    return re.fullmatch(r"[a-z]{3,14}", w) is not None


# ---------------------------------------------------------------- held-out words

def choose_heldout(synsets, first_senses, parts_of_speech, rng):
    """Pick common single words for each prompt category, none shared between categories.
    Part-of-speech questions use words WordNet lists under one part of speech only."""
    common = sorted(w for w, (_, _, tagged) in first_senses.items()
                    if is_plain_word(w) and 5 <= tagged <= 60)
    rng.shuffle(common)
    chosen, used = [], set()

    def first_synset(w):
        pos, offset, _ = first_senses[w]
        return synsets[(pos, offset)]

    def add(category, word, answer, aliases):
        s = first_synset(word)
        chosen.append({"category": category, "word": word, "pos": s["pos"],
                       "definition": s["definition"], "answer": answer, "aliases": aliases})
        used.add(word)

    wanted = dict(N_HELDOUT_PER_CATEGORY)
    for w in common:
        if w in used:
            continue
        s = first_synset(w)
        if len(s["definition"]) > 90:
            continue
        syns = [x for x in s["words"] if x.lower() != w and is_plain_word(x)]
        ants = [b for a, b in s["antonyms"] if a == w and is_plain_word(b)]
        example = next((e for e in s["examples"] if re.search(r"\b" + w + r"\b", e)), None)
        if wanted["ANTONYM"] and ants:
            add("ANTONYM", w, ants[0], ants)
            wanted["ANTONYM"] -= 1
        elif wanted["SYNONYM"] and syns:
            add("SYNONYM", w, syns[0], syns)
            wanted["SYNONYM"] -= 1
        elif wanted["USAGE"] and example:
            add("USAGE", w, example, [])
            wanted["USAGE"] -= 1
        elif wanted["DEFINITION"]:
            add("DEFINITION", w, s["definition"], [])
            wanted["DEFINITION"] -= 1
        elif wanted["PART-OF-SPEECH"] and len(parts_of_speech[w]) == 1:
            add("PART-OF-SPEECH", w, s["pos"], [])
            wanted["PART-OF-SPEECH"] -= 1
        if not any(wanted.values()):
            break
    assert not any(wanted.values()), f"not enough held-out candidates: {wanted}"
    order = list(N_HELDOUT_PER_CATEGORY)
    return sorted(chosen, key=lambda h: order.index(h["category"]))


# The question each category asks: format A (bare), and format C (a variant phrasing).
QUESTIONS = {
    "DEFINITION": ('What does the word "{w}" mean?', "Define {w}."),
    "SYNONYM": ('Give a synonym of "{w}".', "What is another word for {w}?"),
    "USAGE": ('Use the word "{w}" in a sentence.', "Write a sentence with {w}."),
    "ANTONYM": ('What is the opposite of "{w}"?', "Give an antonym of {w}."),
    "PART-OF-SPEECH": ('What part of speech is "{w}"?', "Is {w} a noun, a verb, an adjective or an adverb?"),
}


def write_prompts(heldout):
    os.makedirs(os.path.dirname(PROMPTS_OUT), exist_ok=True)
    counts = {}
    with open(PROMPTS_OUT, "w") as f:
        for h in heldout:
            c = h["category"]
            counts[c] = counts.get(c, 0) + 1
            a, variant = (q.format(w=h["word"]) for q in QUESTIONS[c])
            record = {"id": f"demo_{c}_{counts[c]:02d}", "category": c,
                      "formats": {"A": a, "B": f"Question: {a}\nAnswer:", "C": variant},
                      "expected_answer": h["answer"], "answer_aliases": h["aliases"],
                      "source": "wordnet-3.0 (held out of training)",
                      "metadata": {"word": h["word"], "pos": h["pos"]}}
            f.write(json.dumps(record) + "\n")


# ---------------------------------------------------------------- IT instruction pairs

def instruction_pairs(synsets, first_senses, heldout_words, rng):
    """Chat pairs built from WordNet entries; each word is asked about its first sense.
    All words seen in WordNet's sense-tagged corpus are used, and 15% of the rarer ones."""
    pairs = []
    for w, (pos, offset, tagged) in first_senses.items():
        if w in heldout_words or not re.fullmatch(r"[a-z][a-z -]{1,24}", w):
            continue
        if tagged == 0 and rng.random() > 0.15:
            continue
        s = synsets[(pos, offset)]
        if heldout_words.intersection(s["words"]) or not s["definition"]:
            continue
        asks = []
        definition = s["definition"]
        asks.append((rng.choice(['What does the word "{w}" mean?', "Define {w}.",
                                 'What is the meaning of "{w}"?']),
                     rng.choice(['The word "{w}" means {d}.', '"{w}" means {d}.'])
                     .replace("{d}", definition)))
        syns = [x for x in s["words"] if x.lower() != w]
        if syns:
            asks.append((rng.choice(['Give a synonym of "{w}".', "What is another word for {w}?"]),
                         f'A synonym of "{{w}}" is "{syns[0]}".'))
        ants = [b for a, b in s["antonyms"] if a == w]
        if ants:
            asks.append((rng.choice(['What is the opposite of "{w}"?', "Give an antonym of {w}."]),
                         f'The opposite of "{{w}}" is "{ants[0]}".'))
        example = next((e for e in s["examples"] if re.search(r"\b" + re.escape(w) + r"\b", e)), None)
        if example:
            asks.append((rng.choice(['Use the word "{w}" in a sentence.', "Write a sentence with {w}."]),
                         f"Here is a sentence with \"{{w}}\": {example[0].upper() + example[1:]}."))
        if rng.random() < 0.25:
            asks.append((rng.choice(['What part of speech is "{w}"?',
                                     "Is {w} a noun, a verb, an adjective or an adverb?"]),
                         f'"{{w}}" is {"an" if s["pos"][0] in "aeiou" else "a"} {s["pos"]}.'))
        # Keep at most two tasks per word so definitions do not drown the rarer tasks.
        rng.shuffle(asks)
        for q, a in asks[:2]:
            pairs.append({"messages": [{"role": "user", "content": q.replace("{w}", w)},
                                       {"role": "assistant", "content": a.replace("{w}", w)}]})
    return pairs


def fortune_pairs(fortunes, rng):
    asks = ["Tell me a fortune.", "Share a saying with me.", "Give me a quotation."]
    return [{"messages": [{"role": "user", "content": rng.choice(asks)},
                          {"role": "assistant", "content": text}]}
            for text in fortunes if len(text) < 300]


# ---------------------------------------------------------------- PT sources

def wordnet_documents(synsets, heldout_words, rng):
    """Glossary paragraphs: 'word (noun): definition. Synonyms: ... "example"'."""
    lines = []
    for s in synsets.values():
        if heldout_words.intersection(s["words"]) or not s["definition"]:
            continue
        text = f'{s["words"][0]} ({s["pos"]}): {s["definition"]}.'
        if len(s["words"]) > 1:
            text += " Also: " + ", ".join(s["words"][1:]) + "."
        if s["examples"]:
            text += ' As in: "' + s["examples"][0] + '".'
        lines.append(text)
    rng.shuffle(lines)
    # Group into glossary pages of 8 entries, one document each.
    return ["\n".join(lines[i:i + 8]) for i in range(0, len(lines), 8)]


def wordnet_qa_documents(synsets, first_senses, heldout_words, rng):
    """Quiz pages in the raw 'Question: ... Answer: ...' layout that web text is full of."""
    qa = []
    for w, (pos, offset, _) in first_senses.items():
        if w in heldout_words or not re.fullmatch(r"[a-z][a-z -]{1,24}", w):
            continue
        s = synsets[(pos, offset)]
        if heldout_words.intersection(s["words"]) or not s["definition"]:
            continue
        syns = [x for x in s["words"] if x.lower() != w]
        if syns and rng.random() < 0.3:
            qa.append(f'Question: Give a synonym of "{w}".\nAnswer: {syns[0]}')
        else:
            qa.append(f'Question: What does the word "{w}" mean?\nAnswer: {s["definition"]}')
    rng.shuffle(qa)
    return ["\n\n".join(qa[i:i + 5]) for i in range(0, len(qa), 5)]


def gcide_documents(heldout_words):
    """GCIDE entries with pronunciations, etymologies and source tags removed."""
    with gzip.open(GCIDE, "rt", encoding="utf-8", errors="replace") as f:
        raw = f.read()
    docs = []
    for block in re.split(r"\n\s*\n(?=\S)", raw):
        m = re.match(r"([A-Za-z][A-Za-z' -]*?) \\", block)
        if m is None or m.group(1).lower() in heldout_words:
            continue
        text = re.sub(r"\\[^\\]*\\", "", block)            # pronunciations \Ac*ro"le*in\
        text = re.sub(r"\n\s*\[[^\[\]\n]*\][^\n]*", "", text)  # [1913 Webster] lines
        for _ in range(2):                                 # etymologies, nested [=e] first
            text = re.sub(r"\[[^\[\]]*\]", "", text)
        text = re.sub(r"\{([^{}]*)\}", r"\1", text)        # {cross references}
        text = re.sub(r"--[A-Z][\w. ]*\.", "", text)       # --Author. citations
        text = re.sub(r"\s+", " ", text).strip()
        text = re.sub(r" ,", ",", text)
        # Skip entries whose markup did not clean up (transliterations, odd characters).
        if len(text) < 30 or re.search(r"[\[\]{}\\?=<>|]", text) or not text.isascii():
            continue
        docs.append(text)
    return docs


def pydoc_documents():
    """Prose paragraphs of the Python documentation's reStructuredText sources."""
    docs = []
    for path in sorted(glob.glob(os.path.join(PYDOC, "**", "*.rst.txt"), recursive=True)):
        if "/whatsnew/" in path or "/c-api/" in path:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            paragraphs = re.split(r"\n\s*\n", f.read())
        prose = []
        for p in paragraphs:
            if p.startswith((" ", "..", "=", "*", "-", "+", ">>>", ":")) or "::" in p[-3:]:
                continue
            p = re.sub(r":[a-z:]+:`!?~?([^`<]*?)(?: <[^>]*>)?`", r"\1", p)  # :func:`x`
            p = re.sub(r"``([^`]*)``", r"\1", p)
            p = re.sub(r"`([^`<]*?) <[^>]*>`_+", r"\1", p)
            p = re.sub(r"\s+", " ", p).strip()
            if len(p) > 80 and p.isascii() and "`" not in p and not re.match(r"^[\W\d]", p):
                prose.append(p)
        if prose:
            docs.append("\n\n".join(prose))
    return docs


def read_fortunes():
    texts = []
    for path in sorted(glob.glob(os.path.join(FORTUNES, "*"))):
        name = os.path.basename(path)
        if "." in name or name in ("art", "ascii-art") or os.path.isdir(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for t in f.read().split("\n%\n"):
                t = t.strip("%\n ")
                if 20 < len(t) < 1200 and t.isascii():
                    texts.append(t)
    return texts


def take(docs, budget, rng):
    """A seeded sample of whole documents up to a character budget."""
    docs = list(docs)
    rng.shuffle(docs)
    out, size = [], 0
    for d in docs:
        if size >= budget:
            break
        out.append(d)
        size += len(d)
    return out


def main():
    rng = random.Random(SEED)
    os.makedirs(DATA, exist_ok=True)
    synsets = read_wordnet()
    first_senses, parts_of_speech = read_first_senses()
    heldout = choose_heldout(synsets, first_senses, parts_of_speech, rng)
    heldout_words = {h["word"] for h in heldout}
    write_prompts(heldout)
    with open(os.path.join(DATA, "heldout.jsonl"), "w") as f:
        for h in heldout:
            f.write(json.dumps(h) + "\n")

    fortunes = read_fortunes()
    rng.shuffle(fortunes)
    # Half the fortunes go to pretraining text, the other half to the IT "saying" task.
    pt_fortunes, it_fortunes = fortunes[: len(fortunes) // 2], fortunes[len(fortunes) // 2:]

    sources = {
        "gcide": gcide_documents(heldout_words),
        "wordnet": wordnet_documents(synsets, heldout_words, rng),
        "wordnet_qa": wordnet_qa_documents(synsets, first_senses, heldout_words, rng),
        "pydoc": pydoc_documents(),
        "fortunes": ["\n\n".join(pt_fortunes[i:i + 4]) for i in range(0, len(pt_fortunes), 4)],
    }
    pt_docs = []
    for name, docs in sources.items():
        chosen = take(docs, PT_BUDGET[name], rng)
        print(f"PT {name}: {len(docs)} documents available, {len(chosen)} taken, "
              f"{sum(map(len, chosen)) / 1e6:.2f} M chars")
        pt_docs += chosen
    rng.shuffle(pt_docs)
    with open(os.path.join(DATA, "pt_corpus.jsonl"), "w") as f:
        for d in pt_docs:
            f.write(json.dumps({"text": d}) + "\n")

    it = instruction_pairs(synsets, first_senses, heldout_words, rng)
    it += fortune_pairs(it_fortunes, rng)
    rng.shuffle(it)
    with open(os.path.join(DATA, "it_train.jsonl"), "w") as f:
        for ex in it:
            f.write(json.dumps(ex) + "\n")
    print(f"IT: {len(it)} chat examples; held out: {len(heldout)} words -> {PROMPTS_OUT}")


if __name__ == "__main__":
    main()
