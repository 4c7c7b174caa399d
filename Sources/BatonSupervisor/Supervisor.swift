import CProcessShims
import Foundation
import Glibc
import Synchronization

/// Runs handler processes: one process group per slice, bounded output, budgets
/// enforced with SIGTERM then SIGKILL to the whole group, every child reaped.
public enum Supervisor {
    /// Makes this process a child subreaper (descendants that leave a slice's group
    /// are re-parented here, so they can be found and reaped) and ignores SIGPIPE
    /// (a handler that closes its stdin early must not kill baton). Call once at start.
    /// - Throws: `SystemError` from `prctl(2)`.
    public static func prepareProcess() throws(SystemError) {
        signal(SIGPIPE, SIG_IGN)
        // Every poll thread would otherwise get a malloc arena of its own, and a burst of
        // slices leaves each one holding memory: two arenas keep RSS flat.
        _ = baton_limit_malloc_arenas(2)
        if baton_set_child_subreaper() != 0 { throw SystemError("prctl(PR_SET_CHILD_SUBREAPER)", errno: errno) }
    }

    /// Starts a slice on a thread of its own (the spawn, the polling, the budget) and
    /// returns its handle at once: stop it with `terminate`/`kill`, and await `result()`
    /// for how it ended or why it could not start. `onLogLine` receives each stderr line
    /// (within the log bound) on that thread.
    public static func launch(_ spec: SliceSpec, onLogLine: (@Sendable (String) -> Void)? = nil) -> RunningSlice {
        RunningSlice(spec: spec, onLogLine: onLogLine)
    }

    /// `launch`, returning once the handler has exec'd.
    /// - Throws: `SystemError` when the process cannot be started.
    public static func start(_ spec: SliceSpec, onLogLine: (@Sendable (String) -> Void)? = nil) async throws(SystemError) -> RunningSlice {
        let slice = launch(spec, onLogLine: onLogLine)
        _ = try await slice.pid()
        return slice
    }

    /// Runs `body` (blocking syscalls: a /proc scan, `waitpid`) on a thread of its own and
    /// hands its result back: never on Swift's cooperative pool.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            PollThreads.shared.run { c.resume(returning: body()) }
        }
    }

    /// Spawns, recording the child among the slices in flight (see `active`) so no
    /// sweep takes it for a stray.
    static func spawnTracked(_ spec: SliceSpec) throws(SystemError) -> SpawnedProcess {
        active.withLock { $0.spawning += 1 }
        do throws(SystemError) {
            let child = try Spawner.spawn(spec)
            active.withLock { $0.pids.insert(child.pid); $0.spawning -= 1 }
            return child
        } catch {
            active.withLock { $0.spawning -= 1 }
            throw error
        }
    }

    /// The slice's process is reaped: it is no longer in flight.
    static func untrack(_ pid: pid_t) {
        active.withLock { _ = $0.pids.remove(pid) }
    }

    /// Whether this kernel (5.3+) and build give pidfds, so a slice's exit wakes its poll
    /// loop at once; without them the loop looks every 20 ms.
    public static var hasPidfd: Bool {
        let fd = baton_pidfd_open(getpid())
        if fd >= 0 { close(fd) }
        return fd >= 0
    }

    /// The path of `command`: as given when it contains a slash (relative to
    /// `workingDirectory`), else the first executable match in `searchPath`.
    public static func resolve(_ command: String, searchPath: String, workingDirectory: String) -> String? {
        if command.contains("/") {
            let path = command.hasPrefix("/") ? command : workingDirectory + "/" + command
            return access(path, X_OK) == 0 ? path : nil
        }
        for dir in searchPath.split(separator: ":") where !dir.isEmpty {
            let path = "\(dir)/\(command)"
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    /// Slices in flight, so the stray sweep never touches them: their pids, and how many
    /// spawns are under way (a child whose pid is not in the set yet). Spawns happen
    /// outside the lock, so slices started together do not queue behind each other.
    struct Children {
        var pids: Set<pid_t> = []
        var spawning = 0
    }
    static let active = Mutex(Children())

    /// Stops this process's children that still carry `marker` in their environment
    /// (descendants of a finished slice that left its group: as a child subreaper, baton
    /// inherits them once their parents die) and reaps them, repeating until none is
    /// left, since stopping one hands its own children over. Only children started at or
    /// after `startedAfterTicks` (clock ticks since boot) have their environment read.
    /// With `reapZombies`, also reaps every exited child that is not a running slice;
    /// only a process that starts children through `Supervisor` alone should ask that.
    /// Returns how many processes it stopped.
    @discardableResult
    /// With `threads`, only those threads' children are looked at.
    public static func sweepStrays(marker: String? = nil, startedAfterTicks: Int64 = 0, reapZombies: Bool = false,
                                   threads: [pid_t]? = nil) -> Int {
        let markerBytes = marker.map { Array($0.utf8) }
        var stopped = 0
        for _ in 0..<64 {
            let (keep, spawning) = active.withLock { ($0.pids, $0.spawning) }
            // A zombie may be a slice that has just been spawned and exited before its pid
            // was recorded: while a spawn is under way, zombies are left for the next sweep.
            let reap = reapZombies && spawning == 0
            var found = false
            for pid in ProcFS.childrenOfSelf(threads: threads) where !keep.contains(pid) {
                guard let stat = ProcFS.stat(pid) else { continue }
                let zombie = stat.state == UInt8(ascii: "Z")
                var carries = false
                if let m = markerBytes, !zombie, stat.startTicks >= startedAfterTicks {
                    carries = ProcFS.environContains(pid, m)
                }
                if carries {
                    kill(pid, SIGKILL)
                    stopped += 1
                    found = true
                }
                if carries || (reap && zombie) {
                    var status: Int32 = 0
                    _ = retryingInterrupts { waitpid(pid, &status, carries ? 0 : WNOHANG) }
                }
            }
            if !found { break }
        }
        return stopped
    }

    /// Stops every process on the machine that carries `marker` in its environment, and
    /// reaps those that are our children: the handler a driver killed with -9 left
    /// behind. Reads every process's environment, so it is for rare paths only.
    /// Returns how many it stopped.
    @discardableResult
    public static func stopEverywhere(marker: String) -> Int {
        let me = getpid()
        let entry = Array(marker.utf8)
        var stopped = 0
        for pid in ProcFS.numericEntries("/proc") where pid != me {
            guard let stat = ProcFS.stat(pid), stat.state != UInt8(ascii: "Z"), ProcFS.environContains(pid, entry) else { continue }
            kill(pid, SIGKILL)
            stopped += 1
            if stat.parent == me {
                var status: Int32 = 0
                _ = retryingInterrupts { waitpid(pid, &status, 0) }
            }
        }
        return stopped
    }

    /// Clock ticks since boot now, on the scale of /proc/PID/stat's start time.
    public static func bootTicks() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        let hz = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return Int64(ts.tv_sec) * hz + Int64(ts.tv_nsec) * hz / 1_000_000_000
    }
}
