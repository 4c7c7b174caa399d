// Glibc calls Swift cannot make directly: variadic functions (prctl, syscall) and
// function-like macros (WIFEXITED, ...). Static inline wrappers only.
#ifndef BATON_PROCESS_SHIMS_H
#define BATON_PROCESS_SHIMS_H
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// Wraps `prctl(PR_SET_CHILD_SUBREAPER, 1)`: orphaned descendants become our children.
static inline int baton_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

/// Wraps `pidfd_open(2)` (Linux 5.3+); -1 with errno ENOSYS on older kernels.
static inline int baton_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/// Wraps `posix_spawn_file_actions_addclosefrom_np(3)` (glibc 2.34+).
static inline int baton_spawn_closefrom(posix_spawn_file_actions_t *fa, int from) {
    return posix_spawn_file_actions_addclosefrom_np(fa, from);
}

/// Wraps `posix_spawn_file_actions_addchdir_np(3)` (glibc 2.29+).
static inline int baton_spawn_chdir(posix_spawn_file_actions_t *fa, const char *dir) {
    return posix_spawn_file_actions_addchdir_np(fa, dir);
}

/// Wraps `pipe2(2)` (a GNU extension the Swift Glibc module leaves out).
extern int pipe2(int pipefd[2], int flags);
static inline int baton_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
// At most `n` malloc arenas (mallopt(M_ARENA_MAX)).
static inline int baton_limit_malloc_arenas(int n) { return mallopt(M_ARENA_MAX, n); }
// The calling thread's id (gettid(2)).
static inline pid_t baton_gettid(void) { return (pid_t)syscall(SYS_gettid); }


static inline int baton_wifexited(int status) { return WIFEXITED(status); }
static inline int baton_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int baton_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int baton_wtermsig(int status) { return WTERMSIG(status); }

#endif
