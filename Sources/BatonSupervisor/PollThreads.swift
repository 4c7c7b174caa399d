import Foundation
import Synchronization

/// Dedicated threads for slice poll loops (blocking `poll(2)` never runs on Swift's
/// cooperative pool). A thread that finishes a slice waits for the next one instead of
/// exiting, so a chain of short slices does not pay for a new thread each time; a new
/// thread starts whenever none is idle, so slices never queue behind each other.
final class PollThreads: Sendable {
    static let shared = PollThreads()

    private struct State {
        var work: [@Sendable () -> Void] = []
        var idle = 0
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    func run(_ job: @escaping @Sendable () -> Void) {
        let startNew = state.withLock { s -> Bool in
            s.work.append(job)
            if s.idle > 0 { s.idle -= 1; return false }
            return true
        }
        if startNew {
            let t = Thread { [self] in loop() }
            t.name = "baton-slice"
            t.start()
        } else {
            ready.signal()
        }
    }

    private func loop() {
        while true {
            let job = state.withLock { s -> (@Sendable () -> Void)? in s.work.isEmpty ? nil : s.work.removeFirst() }
            if let job { job(); state.withLock { $0.idle += 1 }; ready.wait(); continue }
            // Woken with nothing to do (another thread took it): wait again.
            state.withLock { $0.idle += 1 }
            ready.wait()
        }
    }
}
