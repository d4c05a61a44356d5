package cgap.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * tokenizer.json "model" of type BPE: a word becomes one symbol per character (or byte tokens
 * with byte_fallback, or unk), then the adjacent pair of lowest merge rank is merged until none
 * merges, exactly in the order of HF's priority queue.
 */
final class BpeModel {
    private final Vocabulary vocab;
    private final PairMap merges;
    /** Id of each single BMP char that is itself a token; -1 otherwise. Fast path for the first symbols. */
    private final int[] singleCharIds = new int[0x10000];
    private final Integer unkId;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final String continuingSubwordPrefix;
    private final String endOfWordSuffix;
    /** "<0xNN>" token ids for byte_fallback, -1 where the vocabulary lacks one. */
    private final int[] byteTokenIds = new int[256];

    private static final int CACHE_LIMIT = 200_000;
    private static final int CACHEABLE_LENGTH = 256;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeModel(Vocabulary vocab, PairMap merges, String unkToken, boolean fuseUnk, boolean byteFallback,
             boolean ignoreMerges, String continuingSubwordPrefix, String endOfWordSuffix, String where) {
        this.vocab = vocab;
        this.merges = merges;
        if (unkToken != null && vocab.get(unkToken) < 0) {
            throw new TokenizerException(where + ": unk_token '" + unkToken + "' is not in the vocabulary");
        }
        this.unkId = unkToken == null ? null : vocab.get(unkToken);
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.continuingSubwordPrefix = continuingSubwordPrefix == null ? "" : continuingSubwordPrefix;
        this.endOfWordSuffix = endOfWordSuffix == null ? "" : endOfWordSuffix;
        Arrays.fill(singleCharIds, -1);
        vocab.forEach((token, id) -> {
            if (token.length() == 1) {
                singleCharIds[token.charAt(0)] = id;
            }
        });
        for (int b = 0; b < 256; b++) {
            byteTokenIds[b] = vocab.get(String.format("<0x%02X>", b));
        }
    }

    /** The token ids of one pre-tokenized word. */
    int[] tokenize(String word) {
        if (word.isEmpty()) {
            return new int[0];
        }
        if (word.length() <= CACHEABLE_LENGTH) {
            int[] cached = cache.get(word);
            if (cached != null) {
                return cached;
            }
        }
        int[] ids = tokenizeUncached(word);
        if (word.length() <= CACHEABLE_LENGTH) {
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, ids);
        }
        return ids;
    }

    private int[] tokenizeUncached(String word) {
        if (ignoreMerges) {
            int whole = vocab.get(word);
            if (whole >= 0) {
                return new int[] {whole};
            }
        }
        IntList symbols = initialSymbols(word);
        return mergeAll(symbols);
    }

    /** One symbol per character; missing ones as byte tokens or (fused) unk, as HF's merge_word does. */
    private IntList initialSymbols(String word) {
        IntList symbols = new IntList(word.length() + 1);
        boolean plain = continuingSubwordPrefix.isEmpty() && endOfWordSuffix.isEmpty();
        boolean pendingUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int next = i + Character.charCount(cp);
            int id = -1;
            String symbol = null;
            if (plain && cp < 0x10000) {
                id = singleCharIds[cp];
            } else {
                symbol = word.substring(i, next);
                if (i > 0) symbol = continuingSubwordPrefix + symbol;
                if (next == word.length()) symbol = symbol + endOfWordSuffix;
                id = vocab.get(symbol);
            }
            i = next;
            if (id >= 0) {
                if (pendingUnk) {
                    symbols.add(unkId);
                    pendingUnk = false;
                }
                symbols.add(id);
                continue;
            }
            if (byteFallback) {
                if (symbol == null) {
                    symbol = Character.toString(cp);
                }
                byte[] bytes = symbol.getBytes(StandardCharsets.UTF_8);
                boolean allPresent = true;
                for (byte b : bytes) {
                    allPresent &= byteTokenIds[b & 0xFF] >= 0;
                }
                if (allPresent) {
                    // HF adds the byte tokens before flushing a pending unk: kept for identical output.
                    for (byte b : bytes) {
                        symbols.add(byteTokenIds[b & 0xFF]);
                    }
                    continue;
                }
            }
            if (unkId != null) {
                if (pendingUnk && !fuseUnk) {
                    symbols.add(unkId);
                }
                pendingUnk = true;
            }
            // With no unk_token HF drops the character; so do we.
        }
        if (pendingUnk) {
            symbols.add(unkId);
        }
        return symbols;
    }

    /**
     * HF's Word::merge_all: a min-heap of (rank, position) over adjacent pairs; a popped entry
     * whose pair no longer yields the same merged id is stale and skipped.
     */
    private int[] mergeAll(IntList initial) {
        int n = initial.size();
        if (n <= 1) {
            return initial.toArray();
        }
        int[] id = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            id[i] = initial.get(i);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        MergeHeap heap = new MergeHeap(3 * n);
        for (int i = 0; i + 1 < n; i++) {
            long merge = merges.get(id[i], id[i + 1]);
            if (merge >= 0) {
                heap.push((int) (merge >>> 32), i, (int) merge);
            }
        }
        int alive = n;
        while (heap.size() > 0) {
            int pos = heap.topPosition();
            int newId = heap.topNewId();
            heap.pop();
            if (removed[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            long current = merges.get(id[pos], id[right]);
            if (current < 0 || (int) current != newId) {
                continue;
            }
            id[pos] = newId;
            removed[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                long merge = merges.get(id[prev[pos]], id[pos]);
                if (merge >= 0) {
                    heap.push((int) (merge >>> 32), prev[pos], (int) merge);
                }
            }
            if (next[pos] >= 0) {
                long merge = merges.get(id[pos], id[next[pos]]);
                if (merge >= 0) {
                    heap.push((int) (merge >>> 32), pos, (int) merge);
                }
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!removed[i]) {
                out[k++] = id[i];
            }
        }
        return out;
    }

    /** Binary min-heap ordered by (rank, position), carrying the merged id. */
    private static final class MergeHeap {
        private long[] keys;
        private int[] newIds;
        private int size;

        MergeHeap(int capacity) {
            keys = new long[Math.max(capacity, 4)];
            newIds = new int[keys.length];
        }

        int size() {
            return size;
        }

        int topPosition() {
            return (int) keys[0];
        }

        int topNewId() {
            return newIds[0];
        }

        void push(int rank, int position, int newId) {
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                newIds = Arrays.copyOf(newIds, size * 2);
            }
            long key = ((long) rank << 32) | position;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (keys[parent] <= key) break;
                keys[i] = keys[parent];
                newIds[i] = newIds[parent];
                i = parent;
            }
            keys[i] = key;
            newIds[i] = newId;
        }

        void pop() {
            size--;
            if (size == 0) return;
            long key = keys[size];
            int newId = newIds[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) break;
                if (child + 1 < size && keys[child + 1] < keys[child]) child++;
                if (keys[child] >= key) break;
                keys[i] = keys[child];
                newIds[i] = newIds[child];
                i = child;
            }
            keys[i] = key;
            newIds[i] = newId;
        }
    }
}
