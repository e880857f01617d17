package io.switchboard.benchmarks.loadgen;

import io.netty.util.concurrent.EventExecutor;
import org.HdrHistogram.Histogram;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Latencies recorded on loadgen's event loops with no atomic operation: each loop writes a plain
 * {@link Histogram} of its own ({@link Slot}), and {@link #interval()} swaps each one out in a task
 * on its loop. HdrHistogram's {@code Recorder} enters and leaves a phaser with two atomic adds per
 * value, which cost loadgen a third of its core at two million deliveries a second (a JFR profile:
 * docs/benchmarks.md), enough to make the client, not the server, the limit of a run.
 */
final class LoopRecorder {

    /** One loop's histogram. {@link #record} only from that loop. */
    static final class Slot {
        private final EventExecutor loop;
        private final LoopRecorder owner;
        private Histogram current;

        private Slot(EventExecutor loop, LoopRecorder owner) {
            this.loop = loop;
            this.owner = owner;
            this.current = owner.newHistogram();
        }

        void record(long value) {
            current.recordValue(Math.min(value, owner.highest));
        }
    }

    private final long highest;
    private final int digits;
    private final Map<EventExecutor, Slot> slots = new ConcurrentHashMap<>();

    /** Values from 1 to {@code highest} (larger ones are recorded as {@code highest}), {@code digits} significant. */
    LoopRecorder(long highest, int digits) {
        this.highest = highest;
        this.digits = digits;
    }

    private Histogram newHistogram() {
        return new Histogram(highest, digits);
    }

    /** The slot of {@code loop}, for values recorded on it. */
    Slot slot(EventExecutor loop) {
        return slots.computeIfAbsent(loop, l -> new Slot(l, this));
    }

    /**
     * What every loop recorded since the last call, merged. Waits for each loop to run a short
     * task; a loop that does not within a second (or is shut down) keeps its values for the next
     * call, and one that is gone gives what it holds.
     */
    Histogram interval() {
        Histogram merged = newHistogram();
        for (Slot slot : slots.values()) {
            Future<Histogram> swap;
            try {
                swap = slot.loop.submit(() -> {
                    Histogram h = slot.current;
                    slot.current = newHistogram();
                    return h;
                });
            } catch (RejectedExecutionException e) {
                if (slot.loop.isTerminated()) {
                    merged.add(slot.current); // its thread has ended: nothing writes it any more
                    slot.current = newHistogram();
                }
                continue;
            }
            try {
                merged.add(swap.get(1, TimeUnit.SECONDS));
            } catch (TimeoutException e) {
                // Swapped later; its values arrive with the next interval.
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return merged;
            }
        }
        return merged;
    }
}
