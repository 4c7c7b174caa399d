import Foundation
import Synchronization

/// Dedicated threads for slices (a blocking spawn and `poll(2)` never run on Swift's
/// cooperative pool). A thread that finishes a slice sleeps until there is another;
/// a new thread starts whenever none is free, so slices never queue behind each other.
/// Nothing spins.
final class PollThreads: Sendable {
    static let shared = PollThreads()

    private struct State {
        var work: [@Sendable () -> Void] = []
        /// Threads asleep on `ready`, or woken and not yet back at `take`.
        var idle = 0
    }

    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    func run(_ job: @escaping @Sendable () -> Void) {
        let wake = state.withLock { s -> Bool in
            s.work.append(job)
            guard s.idle > 0 else { return false }
            s.idle -= 1
            return true
        }
        if wake {
            ready.signal()
        } else {
            let t = Thread { [self] in loop() }
            t.name = "baton-slice"
            t.start()
        }
    }

    private func loop() {
        while true {
            if let job = state.withLock({ s in s.work.isEmpty ? nil : s.work.removeFirst() }) {
                job()
                continue
            }
            state.withLock { $0.idle += 1 }
            ready.wait()
        }
    }
}
