/* bench/postgres part b's handler: keeps its own ledger, independent of baton's records.
 *
 *     ledger LEDGER_DIR SLICES SLEEP_MS
 *
 * The cursor counts the slices done ("" for the first). Each slice appends one line to
 * LEDGER_DIR/ledger.tsv when it starts and one when its work is done, before it prints
 * its result:
 *
 *     start|end  job  scheduled_at  run  slice  attempt  cursor  trigger  pid  ppid  unix_time  busy
 *
 * busy is 1 when another handler of the same run held the run's lock (LEDGER_DIR/locks/RUN,
 * a non-blocking flock that goes with its holder however it dies): two handlers of one
 * run alive at once. Each line is one write(2) of under PIPE_BUF bytes to an O_APPEND
 * file, so the lines of concurrent handlers never interleave. Compiled C: 20+ slices a
 * second on 2 cores leave no room for an interpreter's start-up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *dir;

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "";
}

static void record(const char *event, long cursor, int busy) {
    char path[4096], line[1024];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(path, sizeof path, "%s/ledger.tsv", dir);
    int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\t%ld\t%s\t%d\t%d\t%ld.%06ld\t%d\n",
                     event, env("BATON_JOB"), env("BATON_SCHEDULED_AT"), env("BATON_RUN_ID"),
                     env("BATON_SLICE"), env("BATON_ATTEMPT"), cursor, env("BATON_TRIGGER"),
                     (int)getpid(), (int)getppid(), (long)tv.tv_sec, (long)tv.tv_usec, busy);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0 || n <= 0 || n >= (int)sizeof line || write(fd, line, (size_t)n) != n) {
        fprintf(stderr, "ledger: cannot append to %s: %s\n", path, strerror(errno));
        exit(1); /* the slice fails and is retried: a slice never goes unrecorded */
    }
    close(fd);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: ledger LEDGER_DIR SLICES SLEEP_MS\n");
        return 2;
    }
    dir = argv[1];
    long slices = atol(argv[2]), sleep_ms = atol(argv[3]);
    const char *c = env("BATON_CURSOR");
    long cursor = *c ? atol(c) : 0;

    char lock[4096];
    snprintf(lock, sizeof lock, "%s/locks/%s", dir, env("BATON_RUN_ID"));
    int lfd = open(lock, O_RDWR | O_CREAT, 0644);
    int busy = lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) != 0;
    record("start", cursor, busy);
    struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    record("end", cursor, busy);
    long done = cursor + 1;
    if (done >= slices) printf("{\"cursor\":null,\"counts\":{\"processed\":1}}\n");
    else printf("{\"cursor\":\"%ld\",\"has_more\":true,\"total\":%ld,\"counts\":{\"processed\":1}}\n", done, slices);
    return 0;
}
