package io.flashllm.server.http;

import io.flashllm.engine.api.Session;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Conversations' keys and values kept on flash when their slot is given to another conversation,
 * and taken up again when they continue: reading back a few MiB costs milliseconds where running
 * the whole history again through the model costs seconds (more under a memory budget, where every
 * prompt token reads FFN neurons from flash). At most {@code maxBytes} on disk; the conversation
 * saved longest ago goes first. Files live in {@code dir} for this process only: the directory's
 * {@code *.kv} files are removed at start and on close.
 *
 * <p>A write that fails (a full disk, a read-only directory) is logged and the conversation is
 * simply not kept; a file that does not read back intact is dropped and its tokens run again.
 */
final class KvSpill implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KvSpill.class.getName());
    /** Conversations shorter than this are cheaper to run again than to write and read. */
    static final int MIN_TOKENS = 32;

    /** One saved conversation: its file, tokens, the prompt length of its last request, and size. */
    record Entry(Path file, int[] tokens, int lastPromptLength, long bytes) {}

    private final Path dir;
    private final long maxBytes;
    private final List<Entry> entries = new ArrayList<>(); // oldest first
    private long bytesOnDisk;
    private long nextId;
    private boolean warnedWrite;
    final AtomicLong spills = new AtomicLong();
    final AtomicLong restores = new AtomicLong();
    final AtomicLong restoredTokens = new AtomicLong();

    KvSpill(Path dir, long maxBytes) throws IOException {
        this.dir = dir;
        this.maxBytes = maxBytes;
        Files.createDirectories(dir);
        removeFiles();
    }

    /** Bytes of saved conversations on disk now. */
    synchronized long bytesOnDisk() {
        return bytesOnDisk;
    }

    synchronized int conversations() {
        return entries.size();
    }

    /**
     * Saves what {@code session} holds before its slot runs a prompt that does not continue it, if
     * it holds enough to be worth it (the caller checks {@link Session#kvSavable}).
     * {@code lastPromptLength}: the prompt length of the request that filled it, which a
     * continuation must cover.
     */
    void spill(Session session, int lastPromptLength) {
        if (session.heldTokens() < MIN_TOKENS) return;
        Path file;
        synchronized (this) {
            file = dir.resolve("conversation-" + (nextId++) + ".kv");
        }
        int[] tokens;
        long bytes;
        try {
            tokens = session.saveKv(file);
            bytes = Files.size(file);
        } catch (IOException | UncheckedIOException e) {
            warnOnce("cannot keep a conversation's keys and values in " + dir + " (" + e.getMessage()
                    + "); conversations whose slot is taken will run their history again");
            deleteQuietly(file);
            return;
        }
        synchronized (this) {
            entries.add(new Entry(file, tokens, lastPromptLength, bytes));
            bytesOnDisk += bytes;
            while (bytesOnDisk > maxBytes && !entries.isEmpty()) drop(entries.getFirst());
        }
        spills.incrementAndGet();
    }

    /**
     * Takes out the saved conversation that {@code prompt} continues (it covers the saved request's
     * prompt, or all but its last token) with the longest common start, if that beats
     * {@code atLeast} tokens; null if none does. The caller restores it, then {@link #discard}s it.
     */
    synchronized Entry take(int[] prompt, int atLeast) {
        Entry best = null;
        int bestPrefix = atLeast;
        for (Entry e : entries) {
            int n = Continuation.commonStart(e.tokens(), prompt);
            if (!Continuation.continues(n, e.lastPromptLength())) continue;
            if (n > bestPrefix) {
                best = e;
                bestPrefix = n;
            }
        }
        if (best != null) {
            entries.remove(best);
            bytesOnDisk -= best.bytes();
        }
        return best;
    }

    /** Reads {@code e} into {@code session}: the positions restored, or -1 when the file did not read back. */
    int restore(Entry e, Session session) {
        try {
            int n = session.restoreKv(e.file());
            if (n >= 0) {
                restores.incrementAndGet();
                restoredTokens.addAndGet(n);
            } else {
                LOG.log(Level.WARNING, "a saved conversation did not read back intact (" + e.file() + "); its tokens run again");
            }
            return n;
        } catch (IOException | UncheckedIOException ex) {
            LOG.log(Level.WARNING, "cannot read a saved conversation (" + ex.getMessage() + "); its tokens run again");
            return -1;
        } finally {
            deleteQuietly(e.file());
        }
    }

    private void drop(Entry e) {
        entries.remove(e);
        bytesOnDisk -= e.bytes();
        deleteQuietly(e.file());
    }

    private synchronized void warnOnce(String message) {
        if (!warnedWrite) LOG.log(Level.WARNING, message);
        warnedWrite = true;
    }

    private void removeFiles() throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.kv")) {
            for (Path f : files) Files.deleteIfExists(f);
        }
    }

    private static void deleteQuietly(Path f) {
        try {
            Files.deleteIfExists(f);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot delete " + f, e);
        }
    }

    @Override
    public synchronized void close() {
        for (Entry e : List.copyOf(entries)) drop(e);
    }
}
