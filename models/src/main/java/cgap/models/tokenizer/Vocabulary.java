package cgap.models.tokenizer;

import java.util.Arrays;
import java.util.function.ObjIntConsumer;

/**
 * Token string -> id by open addressing, without boxing: loading looks up three strings per
 * merge (hundreds of thousands), so the map's footprint and indirections matter.
 */
final class Vocabulary {
    private String[] keys;
    private int[] hashes;
    private int[] ids;
    private int mask;
    private int size;

    Vocabulary(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        allocate(capacity);
    }

    private void allocate(int capacity) {
        keys = new String[capacity];
        hashes = new int[capacity];
        ids = new int[capacity];
        mask = capacity - 1;
    }

    private static int spread(int hash) {
        return (hash ^ (hash >>> 16)) * 0x9E3779B1;
    }

    /** Maps token to id, replacing an earlier id (a JSON object's last duplicate key wins). */
    void put(String token, int id) {
        if ((size + 1) * 2 > keys.length) {
            grow();
        }
        int hash = spread(token.hashCode());
        int i = hash & mask;
        while (keys[i] != null) {
            if (hashes[i] == hash && keys[i].equals(token)) {
                ids[i] = id;
                return;
            }
            i = (i + 1) & mask;
        }
        keys[i] = token;
        hashes[i] = hash;
        ids[i] = id;
        size++;
    }

    /** The id of token, or -1. */
    int get(String token) {
        int hash = spread(token.hashCode());
        int i = hash & mask;
        String key;
        while ((key = keys[i]) != null) {
            if (hashes[i] == hash && key.equals(token)) {
                return ids[i];
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    int size() {
        return size;
    }

    void forEach(ObjIntConsumer<String> action) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i] != null) {
                action.accept(keys[i], ids[i]);
            }
        }
    }

    private void grow() {
        String[] oldKeys = keys;
        int[] oldHashes = hashes;
        int[] oldIds = ids;
        allocate(oldKeys.length * 2);
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != null) {
                int i = oldHashes[j] & mask;
                while (keys[i] != null) {
                    i = (i + 1) & mask;
                }
                keys[i] = oldKeys[j];
                hashes[i] = oldHashes[j];
                ids[i] = oldIds[j];
            }
        }
        Arrays.fill(oldKeys, null);
    }
}
