import Synchronization

/// Wakes one waiting task at the first of: a `signal()` (something happened: a driver
/// ended, a stop, a reload, a pause, a lock let go) or its deadline. A signal with
/// nobody waiting is kept for the next `wait`, so none is lost between two waits.
/// The scheduler waits on this instead of sleeping in a loop and looking.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var timer: Task<Void, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    func signal() {
        let (waiter, timer) = state.withLock { s -> (CheckedContinuation<Void, Never>?, Task<Void, Never>?) in
            guard let w = s.waiter else { s.pending = true; return (nil, nil) }
            s.waiter = nil
            defer { s.timer = nil }
            return (w, s.timer)
        }
        timer?.cancel()
        waiter?.resume()
    }

    /// Returns at the next signal (or a pending one), or at `deadline`. One waiter at a time.
    func wait(until deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                precondition(s.waiter == nil, "Wakeup has one waiter at a time")
                if s.pending { s.pending = false; return nil }
                s.waiter = c
                s.generation += 1
                return s.generation
            }
            guard let generation else { return c.resume() }
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                let w = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard s.generation == generation, let w = s.waiter else { return nil }
                    s.waiter = nil
                    s.timer = nil
                    return w
                }
                w?.resume()
            }
            state.withLock { s in if s.generation == generation, s.waiter != nil { s.timer = timer } else { timer.cancel() } }
        }
    }
}
