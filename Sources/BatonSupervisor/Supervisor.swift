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
        if baton_set_child_subreaper() != 0 { throw SystemError("prctl(PR_SET_CHILD_SUBREAPER)", errno: errno) }
    }

    /// Starts a slice. Its process runs under a dedicated thread that polls its pipes;
    /// `onLogLine` receives each stderr line (within the log bound) on that thread.
    /// - Throws: `SystemError` when the process cannot be started.
    public static func start(_ spec: SliceSpec, onLogLine: (@Sendable (String) -> Void)? = nil) throws(SystemError) -> RunningSlice {
        try RunningSlice(spec: spec, onLogLine: onLogLine)
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

    /// Pids of slices in flight, so the stray sweep never touches them.
    static let active = Mutex<Set<pid_t>>([])

    /// Stops every process still carrying `marker` in its environment (descendants of a
    /// finished slice that left its group) and reaps those that are our children. With
    /// `reapZombies`, also reaps every exited child that is not a running slice (strays
    /// re-parented here by the subreaper flag that exited on their own); only a process
    /// that starts children through `Supervisor` alone should ask for that.
    /// Returns how many processes it stopped.
    @discardableResult
    public static func sweepStrays(marker: String? = nil, reapZombies: Bool = false) -> Int {
        let me = getpid()
        let keep = active.withLock { $0 }
        var stopped = 0
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        for name in entries {
            guard let pid = pid_t(name), pid != me, !keep.contains(pid) else { continue }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2 else { continue }
            let state = fields[0], ppid = pid_t(fields[1]) ?? 0
            let carries = marker.map { m in
                (FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data())
                    .split(separator: 0).contains { $0.elementsEqual(m.utf8) }
            } ?? false
            if carries && state != "Z" {
                kill(pid, SIGKILL)
                stopped += 1
            }
            if ppid == me && (carries || (reapZombies && state == "Z")) {
                var status: Int32 = 0
                _ = retryingInterrupts { waitpid(pid, &status, carries ? 0 : WNOHANG) }
            }
        }
        return stopped
    }
}
