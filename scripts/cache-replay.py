#!/usr/bin/env python3
"""Replays recorded neuron selections through neuron-cache rules and prints the hit rate of each.

Record a run first (the selection of every layer for every token run on its own, decode tokens
included; one line per layer and token):

    FLASHLLM_JAVA_OPTS=-Dflashllm.recordSelections=/tmp/sel.txt bin/flashllm bench \
        --model MODEL.bundle --selector gate-exact --prompt-tokens 16 --gen-tokens 400 --no-warmup
    scripts/cache-replay.py /tmp/sel.txt --capacity 870 1111

The rules follow NeuronCache: neurons idle for --window tokens leave at the start of a token; a
layer chooses its neurons in --ranges ranges, and a miss may replace only a cached neuron of a range
already chosen that the token does not use. "lru" gives way least recently used first and caches
every miss it can; "activity" gives way least active first (requests decayed with --half-life) and
streams a miss less active than every candidate; with --hot, a share of the rows is pinned for the
most often requested neurons, chosen once or again every --hot-every tokens. Two bounds for
comparison: the most frequent neurons of the whole run held fixed, and Belady (evict what is needed furthest ahead), which no
online rule reaches. Hit rates count tokens from --skip on.
"""
import argparse
import collections
import heapq
import math
import sys


def read(path):
    layers = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            layer, _, ids = line.partition(":")
            layers[int(layer)].append(frozenset(map(int, ids.split())))
    return [layers[k] for k in sorted(layers)]


def replay(seq, capacity, window, ranges, neurons, skip, half_life, hot=0, hot_every=32, hot_again=True, floor=False):
    """Hit and lookup counts of one layer; half_life 0 means least recently used. A hot region of
    `hot` rows is chosen from the request counts after `hot_every` tokens, and again every
    `hot_every` tokens when `hot_again`; its neurons are never evicted. With `floor`, the window is a
    floor: neurons past it stay while there is room, and go before any neuron inside it."""
    growth = 2 ** (1 / half_life) if half_life else 0
    gain, activity, last, cache = 1.0, collections.defaultdict(float), {}, set()
    count, pinned, chosen_at = collections.Counter(), set(), None
    hits = lookups = 0
    for t, needed in enumerate(seq):
        if not floor:
            cache = {n for n in cache if last[n] >= t - window or n in pinned}
        if t >= skip:
            lookups += len(needed)
            hits += len(needed & cache)
        if growth:
            gain *= growth
        free = capacity - len(cache)
        victims = []  # a heap of (key, neuron): activity, or the step last used
        for r in range(ranges):
            lo, hi = r * neurons // ranges, (r + 1) * neurons // ranges
            part = sorted(n for n in needed if lo <= n < hi)
            for n in part:
                activity[n] += gain
                count[n] += 1
                last[n] = t
            for n in cache:
                if lo <= n < hi and n not in needed and n not in pinned:
                    key = activity[n] if growth else last[n]
                    heapq.heappush(victims, ((last[n] >= t - window) if floor else 0, key, n))
            for n in part:
                if n in cache:
                    continue
                if free > 0:
                    cache.add(n)
                    free -= 1
                elif victims and (not growth or victims[0][1] < activity[n]):
                    cache.discard(heapq.heappop(victims)[2])
                    cache.add(n)
        due = chosen_at is None or (hot_again and t + 1 - chosen_at >= hot_every)
        if hot and t + 1 >= hot_every and due:
            chosen_at = t + 1
            pinned = set(sorted(cache, key=lambda n: -count[n])[:hot])
    return hits, lookups


def fixed_oracle(seq, capacity, skip):
    counts = collections.Counter(n for needed in seq[skip:] for n in needed)
    top = {n for n, _ in counts.most_common(capacity)}
    return sum(len(s & top) for s in seq[skip:]), sum(len(s) for s in seq[skip:])


def belady(seq, capacity, skip):
    next_use, later = [], {}
    for t in range(len(seq) - 1, -1, -1):
        next_use.append({n: later.get(n, math.inf) for n in seq[t]})
        for n in seq[t]:
            later[n] = t
    next_use.reverse()
    cache, hits, lookups = {}, 0, 0
    for t, needed in enumerate(seq):
        if t >= skip:
            lookups += len(needed)
            hits += sum(1 for n in needed if n in cache)
        for n in needed:
            cache[n] = next_use[t][n]
        if len(cache) > capacity:
            for n, _ in heapq.nlargest(len(cache) - capacity, cache.items(), key=lambda kv: kv[1]):
                del cache[n]
    return hits, lookups


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("file")
    p.add_argument("--capacity", type=int, nargs="+", default=[870], help="cache rows per layer")
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--ranges", type=int, default=4)
    p.add_argument("--neurons", type=int, default=0, help="neurons per layer (default: largest id + 1)")
    p.add_argument("--half-life", type=int, nargs="+", default=[8, 16, 32])
    p.add_argument("--skip", type=int, default=32, help="tokens replayed before counting")
    p.add_argument("--hot", type=float, default=0.25, help="hot region, as a share of the capacity (0: none)")
    p.add_argument("--hot-every", type=int, default=32, help="tokens counted before the hot region is chosen, and between choices")
    a = p.parse_args()
    layers = read(a.file)
    if not layers or len(layers[0]) <= a.skip:
        sys.exit(f"cache-replay: {a.file} holds {len(layers[0]) if layers else 0} tokens; need more than --skip {a.skip}")
    neurons = a.neurons or 1 + max(max(s) for seq in layers for s in seq if s)
    tokens = len(layers[0])
    active = sum(len(s) for seq in layers for s in seq) / (len(layers) * tokens)
    print(f"{len(layers)} layers, {tokens} tokens, {neurons} neurons per layer, {active:.0f} needed per token and layer")

    def rate(f):
        h = n = 0
        for seq in layers:
            dh, dn = f(seq)
            h, n = h + dh, n + dn
        return h / n if n else 0.0

    rules = [("lru", lambda c: lambda s: replay(s, c, a.window, a.ranges, neurons, a.skip, 0))]
    for hl in a.half_life:
        rules.append((f"activity, half-life {hl}", lambda c, hl=hl: lambda s: replay(s, c, a.window, a.ranges, neurons, a.skip, hl)))
    hl = a.half_life[len(a.half_life) // 2]
    rules.append((f"activity {hl}, window as a floor", lambda c, hl=hl: lambda s: replay(
        s, c, a.window, a.ranges, neurons, a.skip, hl, floor=True)))
    if a.hot > 0:
        hl = a.half_life[len(a.half_life) // 2]
        for again, label in ((False, "hot chosen once"), (True, f"hot chosen every {a.hot_every}")):
            rules.append((f"activity {hl}, {label}", lambda c, again=again, hl=hl: lambda s: replay(
                s, c, a.window, a.ranges, neurons, a.skip, hl, int(a.hot * c), a.hot_every, again)))
            rules.append((f"activity {hl}, {label}, window as a floor", lambda c, again=again, hl=hl: lambda s: replay(
                s, c, a.window, a.ranges, neurons, a.skip, hl, int(a.hot * c), a.hot_every, again, floor=True)))
    rules.append(("fixed most frequent (bound)", lambda c: lambda s: fixed_oracle(s, c, a.skip)))
    rules.append(("belady (bound)", lambda c: lambda s: belady(s, c, a.skip)))
    print(f"{'rule':<36}" + "".join(f"{c:>10}" for c in a.capacity))
    for name, make in rules:
        print(f"{name:<36}" + "".join(f"{rate(make(c)):>10.3f}" for c in a.capacity))


if __name__ == "__main__":
    main()
