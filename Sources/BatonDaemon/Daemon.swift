import BatonConfig
import BatonSupervisor
import Dispatch
import Foundation
import Glibc
import Synchronization

/// `baton run` and `baton serve`: the scheduler and what keeps it going — signals
/// (SIGTERM/SIGINT drain, a second one stops slices at once, SIGHUP reloads), a watch
/// on the schedules directory, the stray reaper on a thread of its own — and the order
/// things stop in (STYLE: stop scheduling, signal running groups, wait with a deadline,
/// stop services in reverse start order).
public final class Daemon: Sendable {
    public let scheduler: Scheduler
    let schedules: String
    let load: @Sendable () -> ScheduleSet
    let log: @Sendable (_ event: String, _ fields: [(String, String)]) -> Void
    let roster: Roster?

    /// - Parameters:
    ///   - schedules: the directory watched for changes.
    ///   - load: reads the schedules again (a reload).
    ///   - roster: this daemon's heartbeat in the store, beaten while it runs.
    ///   - log: an info line of the daemon's own (signals).
    public init(scheduler: Scheduler, schedules: String, load: @escaping @Sendable () -> ScheduleSet, roster: Roster? = nil,
                log: @escaping @Sendable (_ event: String, _ fields: [(String, String)]) -> Void) {
        self.scheduler = scheduler; self.schedules = schedules; self.load = load; self.roster = roster; self.log = log
    }

    /// Runs until a signal has drained the scheduler; then stops `services` (the HTTP
    /// server: blocking, so on a thread of its own) and sweeps the strays left.
    public func run(stopServices: @escaping @Sendable () -> Void = {}) async {
        let scheduler = self.scheduler, load = self.load, roster = self.roster
        let signals = trapSignals()
        let watcher = DirectoryWatcher(path: schedules) {
            Task {
                await scheduler.reload(load())
                await roster?.beat()
            }
        }
        let reaper = StrayReaper(every: .seconds(5))
        let beats = roster?.start()
        await scheduler.run()
        beats?.cancel()
        await roster?.leave()
        await Self.offPool(stopServices)
        reaper.stop()
        watcher?.stop()
        for s in signals { s.cancel() }
        await Self.offPool { Supervisor.sweepStrays(reapZombies: true) }
    }

    /// SIGTERM/SIGINT: drain, then (a second time) stop at once; SIGHUP: reload.
    func trapSignals() -> [DispatchSourceSignal] {
        let count = Atomic<Int>(0)
        let scheduler = self.scheduler, log = self.log, load = self.load, roster = self.roster
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                let hard = count.add(1, ordering: .relaxed).newValue > 1
                log("signal", [("signal", sig == SIGTERM ? "TERM" : "INT"), ("action", hard ? "stop now" : "drain")])
                Task { await scheduler.stop(hard: hard) }
            }
            s.resume()
            sources.append(s)
        }
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hup.setEventHandler {
            Task {
                await scheduler.reload(load())
                await roster?.beat()
            }
        }
        hup.resume()
        return sources + [hup]
    }

    /// Runs a blocking call on a thread of its own, off Swift's cooperative pool.
    public static func offPool(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread { body(); c.resume() }.start()
        }
    }
}

/// Sweeps stray processes (a handler's grandchildren left behind, zombies) every so
/// often on a thread of its own: the sweep reads `/proc` and may `waitpid`, which
/// must never run on Swift's cooperative pool.
final class StrayReaper: Sendable {
    private let stopped = Mutex(false)
    private let wakeup = DispatchSemaphore(value: 0)

    init(every period: Duration) {
        let seconds = Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18
        let thread = Thread { [self] in
            while true {
                _ = wakeup.wait(timeout: .now() + seconds)
                if stopped.withLock({ $0 }) { return }
                Supervisor.sweepStrays(reapZombies: true)
            }
        }
        thread.name = "baton-reaper"
        thread.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        wakeup.signal()
    }
}

/// Calls back (at most every 200 ms) when a file in `path` changes, via inotify(7) read
/// on a thread of its own.
final class DirectoryWatcher: Sendable {
    let fd: Int32
    private let stopped = Mutex(false)

    init?(path: String, onChange: @escaping @Sendable () -> Void) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE)
        guard inotify_add_watch(fd, path, mask) >= 0 else { close(fd); return nil }
        let fd = self.fd
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n <= 0 || stopped.withLock({ $0 }) { return }
                usleep(200_000)  // let an editor finish writing; one reload for a burst
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while poll(&pfd, 1, 0) > 0 { _ = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
                onChange()
            }
        }
        thread.name = "baton-inotify"
        thread.start()
    }

    func stop() {
        stopped.withLock { $0 = true }
        close(fd)
    }
}
