// membw: read bandwidth of DRAM with plain loads, the ceiling a decode that streams every weight
// once per token can reach. Usage: membw MiB THREADS (e.g. membw 1024 2). Build: cc -O3 -march=native -pthread
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t per_thread;
static unsigned char *buf;
enum { PASSES = 10 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *reader(void *arg) {
    const uint64_t *p = (const uint64_t *) (buf + (size_t) (intptr_t) arg * per_thread);
    size_t n = per_thread / sizeof(uint64_t);
    uint64_t a = 0, b = 0, c = 0, d = 0; // independent sums so the loads are not serialised
    for (int pass = 0; pass < PASSES; pass++)
        for (size_t i = 0; i < n; i += 4) { a += p[i]; b += p[i + 1]; c += p[i + 2]; d += p[i + 3]; }
    return (void *) (intptr_t) (a + b + c + d);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: membw MiB THREADS\n"); return 2; }
    size_t bytes = (size_t) atol(argv[1]) << 20;
    int threads = atoi(argv[2]);
    if (bytes == 0 || threads < 1 || threads > 256) { fprintf(stderr, "membw: bad arguments\n"); return 2; }
    per_thread = bytes / threads / 4096 * 4096;
    buf = aligned_alloc(4096, per_thread * threads);
    if (!buf) { fprintf(stderr, "membw: cannot allocate %s MiB\n", argv[1]); return 1; }
    memset(buf, 1, per_thread * threads); // touch every page before timing
    pthread_t t[256];
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, reader, (void *) (intptr_t) i);
    uint64_t sum = 0;
    for (int i = 0; i < threads; i++) { void *r; pthread_join(t[i], &r); sum += (uint64_t) (intptr_t) r; }
    double s = now() - t0;
    printf("read %zu MiB x %d passes, %d threads: %.1f GB/s (checksum %llu)\n", (per_thread * threads) >> 20, PASSES,
           threads, (double) PASSES * per_thread * threads / s / 1e9, (unsigned long long) (sum & 0xffff));
    return 0;
}
