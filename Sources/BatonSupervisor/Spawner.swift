import CProcessShims
import Glibc

/// A started child: its pid (also its process group id) and our ends of its pipes.
struct SpawnedProcess {
    var pid: pid_t
    var stdinWrite: Int32
    var stdoutRead: Int32
    var stderrRead: Int32
}

enum Spawner {
    /// Wraps `posix_spawn(3)`: no shell, a new process group (the child leads it),
    /// an empty signal mask and default dispositions, stdin/stdout/stderr on pipes,
    /// every other descriptor closed.
    static func spawn(_ spec: SliceSpec) throws(SystemError) -> SpawnedProcess {
        var fds: [[Int32]] = []
        for _ in 0..<3 {
            var p: [Int32] = [-1, -1]
            guard baton_pipe2(&p, O_CLOEXEC) == 0 else {
                let e = errno
                for f in fds.joined() { close(f) }
                throw SystemError("pipe2", errno: e, hint: e == EMFILE ? "raise the open-files limit (ulimit -n)" : nil)
            }
            fds.append(p)
        }
        let (inR, inW) = (fds[0][0], fds[0][1])
        let (outR, outW) = (fds[1][0], fds[1][1])
        let (errR, errW) = (fds[2][0], fds[2][1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inR, 0)
        posix_spawn_file_actions_adddup2(&actions, outW, 1)
        posix_spawn_file_actions_adddup2(&actions, errW, 2)
        _ = baton_spawn_closefrom(&actions, 3)
        if let dir = spec.workingDirectory { _ = baton_spawn_chdir(&actions, dir) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), reset = sigset_t()
        sigemptyset(&none)
        // Handled signals return to default at exec by themselves; ignored ones stay
        // ignored unless reset here (baton ignores SIGPIPE, and SIGINT/SIGTERM/SIGHUP
        // while signal sources watch them), so reset exactly those.
        sigemptyset(&reset)
        for sig in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM,
                    SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ, SIGXCPU] { sigaddset(&reset, sig) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &reset)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let argv = spec.arguments.map { strdup($0) } + [nil]
        let envp = spec.environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        let rc = posix_spawn(&pid, spec.executable, &actions, &attr, argv, envp)
        close(inR); close(outW); close(errW)
        guard rc == 0 else {
            close(inW); close(outR); close(errR)
            let hint: String? = switch rc {
            case ENOENT: "check the command's path; relative paths resolve against baton's working directory"
            case EACCES: "make it executable: chmod +x \(spec.executable)"
            case ENOEXEC: "a script needs a #! line naming its interpreter"
            default: nil
            }
            throw SystemError("posix_spawn", errno: rc, "cannot run \(spec.executable): \(String(cString: strerror(rc)))", hint: hint)
        }
        for fd in [inW, outR, errR] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return SpawnedProcess(pid: pid, stdinWrite: inW, stdoutRead: outR, stderrRead: errR)
    }
}
