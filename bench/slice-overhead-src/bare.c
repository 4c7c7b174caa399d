/* The floor baton is measured against: per iteration, posix_spawn the same handler
 * (stdout on a pipe, read to EOF), waitpid, and one SQLite commit of the cursor with
 * WAL and synchronous=FULL, as baton's store uses. */
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: bare HANDLER DB N\n"); return 2; }
    long n = atol(argv[3]);
    sqlite3 *db;
    if (sqlite3_open(argv[2], &db) != SQLITE_OK) return 1;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS run(id INTEGER PRIMARY KEY, cursor TEXT, slices INT);"
                     "INSERT OR REPLACE INTO run VALUES(1, NULL, 0);", 0, 0, 0);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "UPDATE run SET cursor=?, slices=slices+1 WHERE id=1", -1, &st, 0);
    char cursor[64] = "";
    for (long i = 0; i < n; i++) {
        int fds[2];
        if (pipe(fds) != 0) return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        char env[96];
        snprintf(env, sizeof env, "BATON_CURSOR=%s", cursor);
        char *envp[] = {env, NULL};
        char *args[] = {argv[1], "1000000000", NULL};
        pid_t pid;
        if (posix_spawn(&pid, argv[1], &fa, NULL, args, envp) != 0) return 1;
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        char buf[4096];
        ssize_t r, total = 0;
        while ((r = read(fds[0], buf + total, sizeof buf - 1 - total)) > 0) total += r;
        buf[total] = 0;
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        char *q = strstr(buf, "\"cursor\":\"");
        if (q) { q += 10; char *e = strchr(q, '"'); if (e) { *e = 0; snprintf(cursor, sizeof cursor, "%s", q); } }
        sqlite3_exec(db, "BEGIN", 0, 0, 0);
        sqlite3_bind_text(st, 1, cursor, -1, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_exec(db, "COMMIT", 0, 0, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
