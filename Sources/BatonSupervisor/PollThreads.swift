import Foundation
import Glibc
import Synchronization

/// Dedicated threads for slice poll loops (blocking `poll(2)` never runs on Swift's
/// cooperative pool). A thread that finishes a slice looks for the next one for a short
/// while (a chain's next slice usually comes within it, and is then taken without a
/// wake-up), then sleeps until there is work. A new thread starts whenever none is free,
/// so slices never queue behind each other.
final class PollThreads: Sendable {
    static let shared = PollThreads()

    private struct State {
        var work: [@Sendable () -> Void] = []
        /// Threads looking for work without sleeping; each takes one job.
        var spinning = 0
        /// Threads asleep on `ready`.
        var idle = 0
    }

    private enum Action { case none, wake, newThread }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    /// How long a free thread looks for new work before it sleeps.
    static let spinNanoseconds: UInt64 = 150_000

    func run(_ job: @escaping @Sendable () -> Void) {
        let action = state.withLock { s -> Action in
            s.work.append(job)
            if s.work.count <= s.spinning { return .none }  // a spinning thread takes it
            if s.idle > 0 { s.idle -= 1; return .wake }
            return .newThread
        }
        switch action {
        case .none: break
        case .wake: ready.signal()
        case .newThread:
            let t = Thread { [self] in loop() }
            t.name = "baton-slice"
            t.start()
        }
    }

    private func loop() {
        var job = take()
        while true {
            if let j = job { j() }
            job = nextJob()
        }
    }

    private func take() -> (@Sendable () -> Void)? {
        state.withLock { s in s.work.isEmpty ? nil : s.work.removeFirst() }
    }

    /// The next job: looked for without sleeping for `spinNanoseconds` (by one thread at
    /// a time), then asleep.
    private func nextJob() -> (@Sendable () -> Void)? {
        // One thread spins at a time: enough for a chain's next slice, and a burst of
        // slices ending together does not turn into a burst of spinning threads.
        let spin = state.withLock { s -> Bool in
            if s.spinning > 0 { s.idle += 1; return false }
            s.spinning += 1
            return true
        }
        let until = DispatchTime.now().uptimeNanoseconds + (spin ? Self.spinNanoseconds : 0)
        while spin {
            let done = DispatchTime.now().uptimeNanoseconds >= until
            let (job, sleep) = state.withLock { s -> ((@Sendable () -> Void)?, Bool) in
                if !s.work.isEmpty { s.spinning -= 1; return (s.work.removeFirst(), false) }
                if done { s.spinning -= 1; s.idle += 1; return (nil, true) }
                return (nil, false)
            }
            if let job { return job }
            if sleep { break }
            sched_yield()
        }
        // Asleep until `run` hands over work (or another thread took it: look again).
        ready.wait()
        return take()
    }
}
