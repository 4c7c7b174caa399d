import BatonStore
import Foundation
import Synchronization

/// The engine's one watch over the runs it drives: it renews each one's lease on a
/// heartbeat (every third of the lease), and every 250 ms reads, for all of them at
/// once, the cancel flags other processes set (`baton cancel`, another baton's API) and
/// whether another process took one over. What it finds arrives at the drive as an event on its `RunControl`: a cancel,
/// or a kill when the lease was lost to another process (`Hold.lost` says so).
final class DriveWatch: Sendable {
    /// One drive's hold on its run, as the watch keeps it.
    final class Hold: Sendable {
        let lease: Lease
        let leaseMs: Int64
        let control: RunControl
        private let state: Mutex<(renewedAt: ContinuousClock.Instant, lost: StoreError?)>

        init(lease: Lease, leaseMs: Int64, control: RunControl) {
            self.lease = lease; self.leaseMs = leaseMs; self.control = control
            state = Mutex((ContinuousClock.now, nil))
        }

        /// Set when a renewal was refused: another process holds the run now.
        var lost: StoreError? { state.withLock { $0.lost } }

        var renewDue: Bool {
            state.withLock { ContinuousClock.now - $0.renewedAt >= .milliseconds(leaseMs / 3) }
        }

        func renewed() { state.withLock { $0.renewedAt = ContinuousClock.now } }

        func lose(_ error: StoreError) {
            state.withLock { $0.lost = error }
            control.request(.kill)
        }
    }

    let store: any RunStore
    private let state = Mutex<(holds: [String: Hold], looping: Bool)>(([:], false))
    static let cancelLookMs: Int64 = 250

    init(store: any RunStore) { self.store = store }

    /// Watches `lease` until `end(hold)`.
    func begin(_ lease: Lease, leaseMs: Int64, control: RunControl) -> Hold {
        let hold = Hold(lease: lease, leaseMs: leaseMs, control: control)
        let start = state.withLock { s -> Bool in
            s.holds[lease.runId] = hold
            if s.looping { return false }
            s.looping = true
            return true
        }
        if start { Task { await self.loop() } }
        return hold
    }

    func end(_ hold: Hold) {
        state.withLock { s in
            if s.holds[hold.lease.runId] === hold { s.holds[hold.lease.runId] = nil }
        }
    }

    /// 250 ms, or the test's `Backstop.override`, kept within a third of the shortest
    /// lease so that renewals stay on time.
    private func lookInterval() -> Duration {
        guard let stretched = Backstop.override else { return .milliseconds(Self.cancelLookMs) }
        let shortest = state.withLock { $0.holds.values.map(\.leaseMs).min() } ?? Self.cancelLookMs * 3
        return min(stretched, .milliseconds(max(Self.cancelLookMs, shortest / 3)))
    }

    private func loop() async {
        while true {
            try? await Task.sleep(for: lookInterval())
            let holds = state.withLock { s -> [Hold] in
                if s.holds.isEmpty { s.looping = false }
                return Array(s.holds.values)
            }
            if holds.isEmpty { return }
            if let seen = try? await store.watch(holds.map(\.lease)) {
                for h in holds {
                    if let lost = seen.lost[h.lease.runId] { h.lose(lost) }
                    if seen.cancelRequested.contains(h.lease.runId) { h.control.request(.cancel) }
                }
            }
            for h in holds where h.renewDue && h.lost == nil {
                do {
                    _ = try await store.renew(h.lease, leaseMs: h.leaseMs)
                    h.renewed()
                } catch where error.kind == .fenced || error.kind == .notFound {
                    h.lose(error)
                } catch {
                    // Busy or full: the next beat tries again; the lease outlasts a few.
                }
            }
        }
    }
}
