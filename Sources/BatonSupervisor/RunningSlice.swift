import CProcessShims
import Foundation
import Glibc
import Synchronization

/// A slice's process in flight. One thread of its own spawns it (posix_spawn blocks
/// until the child has exec'd), polls its pipes and its pidfd, and enforces the budget;
/// nothing here blocks Swift's cooperative pool. The caller asks it to stop
/// (`terminate`, `kill`: a byte on a wake pipe, seen at once) and awaits `result()`:
/// what happened, handed back once, with no decision taken here.
public final class RunningSlice: Sendable {
    private struct Shared {
        var stopRequested = false
        var killRequested = false
        var pid: Result<pid_t, SystemError>?
        var spawnWaiters: [CheckedContinuation<Result<pid_t, SystemError>, Never>] = []
        var result: Result<SliceExit, SystemError>?
        var waiters: [CheckedContinuation<Result<SliceExit, SystemError>, Never>] = []
    }

    private let shared = Mutex(Shared())
    /// Written to wake the poll loop when a stop is requested; -1 when the pipe failed.
    private let wakeWrite: Int32

    init(spec: SliceSpec, onLogLine: (@Sendable (String) -> Void)?) {
        var wake: [Int32] = [-1, -1]
        guard baton_pipe2(&wake, O_CLOEXEC | O_NONBLOCK) == 0 else {
            let error = SystemError("pipe2", errno: errno)
            wakeWrite = -1
            shared.withLock { $0.pid = .failure(error); $0.result = .failure(error) }
            return
        }
        wakeWrite = wake[1]
        let wakeRead = wake[0]
        PollThreads.shared.run { [self] in
            let child: SpawnedProcess
            do throws(SystemError) {
                child = try Supervisor.spawnTracked(spec)
            } catch {
                close(wakeRead)
                self.spawned(.failure(error))
                self.finish(.failure(error))
                return
            }
            self.spawned(.success(child.pid))
            var loop = PollLoop(spec: spec, child: child, wakeRead: wakeRead, onLogLine: onLogLine)
            // A subreaper's orphans are handed to its main thread; the handler itself was
            // this thread's child. Those two threads are all the sweep needs to read.
            loop.sweepThreads = [getpid(), baton_gettid()]
            let exit = loop.run(stopState: { self.shared.withLock { ($0.stopRequested, $0.killRequested) } })
            close(wakeRead)
            Supervisor.untrack(child.pid)
            self.finish(.success(exit))
        }
    }

    deinit { if wakeWrite >= 0 { close(wakeWrite) } }

    /// Graceful stop (cancel, shutdown, a lost lease): SIGTERM to the group now, SIGKILL
    /// after grace. A stop asked before the spawn is done applies as soon as it is.
    public func terminate() {
        shared.withLock { $0.stopRequested = true }
        wake()
    }

    /// Hard stop: SIGKILL to the group now.
    public func kill() {
        shared.withLock { $0.killRequested = true; $0.stopRequested = true }
        wake()
    }

    /// The handler's pid once it has exec'd, or why it could not start.
    public func pid() async throws(SystemError) -> pid_t {
        let r = await withCheckedContinuation { (c: CheckedContinuation<Result<pid_t, SystemError>, Never>) in
            let ready: Result<pid_t, SystemError>? = shared.withLock { s in
                if let p = s.pid { return p }
                s.spawnWaiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
        return try r.get()
    }

    /// How the slice ended (its process and pipes done), or why it could not start;
    /// callable from many tasks.
    public func result() async -> Result<SliceExit, SystemError> {
        await withCheckedContinuation { (c: CheckedContinuation<Result<SliceExit, SystemError>, Never>) in
            let ready: Result<SliceExit, SystemError>? = shared.withLock { s in
                if let r = s.result { return r }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// How the slice ended; throws why it could not start.
    public func wait() async throws(SystemError) -> SliceExit {
        try await result().get()
    }

    private func wake() {
        guard wakeWrite >= 0 else { return }
        var b: UInt8 = 1
        _ = Glibc.write(wakeWrite, &b, 1)
    }

    private func spawned(_ pid: Result<pid_t, SystemError>) {
        let waiters = shared.withLock { s in
            s.pid = pid
            defer { s.spawnWaiters = [] }
            return s.spawnWaiters
        }
        for w in waiters { w.resume(returning: pid) }
    }

    private func finish(_ result: Result<SliceExit, SystemError>) {
        let waiters = shared.withLock { s in
            s.result = result
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(returning: result) }
    }
}
