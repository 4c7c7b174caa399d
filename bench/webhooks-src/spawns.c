/* Floor (b): what running one handler costs without baton. N times, one after another:
 * posix_spawn the handler (stdin /dev/null, stdout on a pipe read to EOF, as any
 * supervisor must to get the result), then waitpid. Prints: spawns seconds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: spawns HANDLER N\n"); return 2; }
    long n = atol(argv[2]);
    char *args[] = {argv[1], NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) { perror("pipe"); return 1; }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        pid_t pid;
        int rc = posix_spawn(&pid, argv[1], &fa, NULL, args, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(fds[1]);
        if (rc != 0) { fprintf(stderr, "spawns: posix_spawn: error %d\n", rc); return 1; }
        char buf[4096];
        while (read(fds[0], buf, sizeof buf) > 0) {}
        close(fds[0]);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawns: the handler failed\n");
            return 1;
        }
    }
    printf("%ld %.6f\n", n, now() - t0);
    return 0;
}
