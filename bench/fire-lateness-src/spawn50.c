/* The floor of bench/fire-lateness: at every second, posix_spawn N copies of the same
 * handler at once (as fast as one process can), with BATON_SCHEDULED_AT set to that
 * second, then reap them; for SECONDS seconds. The handlers record their own lateness,
 * so this is the start lateness a scheduler with no overhead at all would see here.
 *   spawn50 N SECONDS HANDLER OUTFILE */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
    if (argc < 5) return 2;
    int n = atoi(argv[1]), seconds = atoi(argv[2]);
    char *args[] = {argv[3], argv[4], NULL};
    posix_spawn_file_actions_t quiet;  /* the handler's result goes nowhere, as under baton */
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    time_t next = now.tv_sec + 1;
    for (int s = 0; s < seconds; s++, next++) {
        struct timespec at = {next, 0};
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL) != 0) {}
        char stamp[64], var[80];
        struct tm tm;
        gmtime_r(&next, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(var, sizeof var, "BATON_SCHEDULED_AT=%s", stamp);
        char *env[] = {var, NULL};
        for (int i = 0; i < n; i++) {
            pid_t pid;
            posix_spawn(&pid, argv[3], &quiet, NULL, args, env);
        }
        for (int i = 0; i < n; i++) wait(NULL);
    }
    return 0;
}
