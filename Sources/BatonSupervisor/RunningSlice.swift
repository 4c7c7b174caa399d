import CProcessShims
import Foundation
import Glibc
import Synchronization

/// A slice's process in flight. A dedicated thread polls its pipes and its pidfd and
/// enforces the budget; nothing here blocks Swift's cooperative pool.
public final class RunningSlice: Sendable {
    public let pid: pid_t

    private struct Shared {
        var stopRequested = false
        var killRequested = false
        var result: SliceExit?
        var waiters: [CheckedContinuation<SliceExit, Never>] = []
    }

    private let shared = Mutex(Shared())
    /// Written to wake the poll loop when a stop is requested.
    private let wakeWrite: Int32

    /// What a periodic look (`Supervisor.launch`'s `check`) asks of a slice.
    public enum Request: Sendable { case none, terminate, kill }

    init(spec: SliceSpec, onLogLine: (@Sendable (String) -> Void)?) throws(SystemError) {
        var wake: [Int32] = [-1, -1]
        guard baton_pipe2(&wake, O_CLOEXEC | O_NONBLOCK) == 0 else { throw SystemError("pipe2", errno: errno) }
        let child: SpawnedProcess
        do {
            child = try Supervisor.spawnTracked(spec)
        } catch {
            close(wake[0]); close(wake[1])
            throw error
        }
        pid = child.pid
        wakeWrite = wake[1]
        let wakeRead = wake[0]
        PollThreads.shared.run { [self] in
            var loop = PollLoop(spec: spec, child: child, wakeRead: wakeRead, onLogLine: onLogLine)
            let exit = loop.run(stopState: { self.shared.withLock { ($0.stopRequested, $0.killRequested) } })
            close(wakeRead)
            Supervisor.untrack(child.pid)
            self.finish(exit)
        }
    }

    deinit { close(wakeWrite) }

    /// Graceful stop (cancel, shutdown): SIGTERM to the group now, SIGKILL after grace.
    public func terminate() {
        shared.withLock { $0.stopRequested = true }
        wake()
    }

    /// Hard stop: SIGKILL to the group now.
    public func kill() {
        shared.withLock { $0.killRequested = true; $0.stopRequested = true }
        wake()
    }

    /// Waits for the process (and its pipes) to finish; callable from many tasks.
    public func wait() async -> SliceExit {
        await withCheckedContinuation { (c: CheckedContinuation<SliceExit, Never>) in
            let ready: SliceExit? = shared.withLock { s in
                if let r = s.result { return r }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    private func wake() {
        var b: UInt8 = 1
        _ = Glibc.write(wakeWrite, &b, 1)
    }

    private func finish(_ exit: SliceExit) {
        let waiters = shared.withLock { s in
            s.result = exit
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: exit) }
    }
}
