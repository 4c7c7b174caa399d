/// Slots for runs that requests (webhooks, API retries) record: a run is recorded
/// `running`, owned here with its first slice's start, only when a driver slot is free
/// for it now; otherwise it is recorded `queued` (SPEC §1: recorded, no slice started
/// yet) and a driver claims it, oldest first, when one frees.
extension Scheduler {
    /// Whether a run of `job` that a request is about to record would start at once.
    /// When true, a slot is held for it until `unreserve()`, called once the run is
    /// adopted (or was not recorded).
    public func reserveStart(job name: String) -> Bool {
        guard !stopping, options.drives, let job = set.job(named: name) else { return false }
        // Drivers going, runs recorded here waiting for one, and slots already held.
        let busy = drivers.values.reduce(0, +) + prepared.count + reserved
        guard busy < options.maxConcurrent else { return false }
        if job.options.overlap != .allow {
            // One driver per such job: a second run would wait behind the first.
            guard drivers[name, default: 0] == 0, !prepared.values.contains(where: { $0.job == name }) else { return false }
        }
        reserved += 1
        return true
    }

    /// Gives back a slot `reserveStart` held.
    public func unreserve() {
        reserved = max(0, reserved - 1)
    }
}
