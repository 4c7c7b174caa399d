/* Floor (a): what one durable record costs without baton. Single-row INSERTs into a WAL
 * SQLite file with synchronous=FULL, each its own transaction (one commit, one fsync),
 * one after another, until N rows or SECONDS have passed, whichever comes first.
 * Prints: rows seconds p50_ms p99_ms (per-commit latency). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void check(sqlite3 *db, int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
        fprintf(stderr, "inserts: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: inserts DB N SECONDS\n"); return 2; }
    long n = atol(argv[2]);
    double cap = atof(argv[3]);
    sqlite3 *db;
    check(db, sqlite3_open(argv[1], &db), "open");
    check(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE IF NOT EXISTS runs(id TEXT PRIMARY KEY NOT NULL,"
                               " job TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,"
                               " payload TEXT) STRICT;", 0, 0, 0), "schema");
    sqlite3_stmt *st;
    check(db, sqlite3_prepare_v2(db, "INSERT INTO runs VALUES(?, 'bench', 'running', ?, ?)", -1, &st, 0),
          "prepare");
    double *lat = malloc(sizeof(double) * (n > 0 ? n : 1));
    long done = 0;
    double t0 = now(), t = t0;
    while (done < n && t - t0 < cap) {
        char id[32], body[64];
        snprintf(id, sizeof id, "r_%ld", done);
        snprintf(body, sizeof body, "{\"n\":%ld,\"t\":1}", done);
        double s = now();
        check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin");
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)(s * 1000));
        sqlite3_bind_text(st, 3, body, -1, SQLITE_TRANSIENT);
        check(db, sqlite3_step(st), "insert");
        sqlite3_reset(st);
        check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit");
        t = now();
        lat[done++] = (t - s) * 1000;
    }
    double secs = t - t0;
    qsort(lat, done, sizeof(double), cmp);
    printf("%ld %.6f %.3f %.3f\n", done, secs, done ? lat[done / 2] : 0,
           done ? lat[(long)(done * 0.99) < done ? (long)(done * 0.99) : done - 1] : 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
