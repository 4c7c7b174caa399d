import BatonStore

/// Slots for runs that requests (webhooks, API retries) record: a run is recorded
/// `running` (unowned; a driver here claims it at once) only when a driver slot is free
/// for it now; otherwise it is recorded `queued` (SPEC §1: recorded, no slice started
/// yet) and a driver claims it, oldest first, when one frees.
extension Scheduler {
    /// Whether a run of `job` that a request is about to record would start at once.
    /// When true, a slot is held for it until `unreserve()`, called once the run is
    /// handed over with `accepted(_:)` (or was not recorded).
    public func reserveStart(job name: String) -> Bool {
        guard isRunning, options.drives, let job = set.job(named: name) else { return false }
        // Drivers going, runs recorded here waiting for one, and slots already held.
        let busy = pool.drivers + pool.readyCount + pool.reserved
        guard busy < options.maxConcurrent else { return false }
        if job.options.overlap != .allow {
            // One driver per such job: a second run would wait behind the first.
            guard pool.perJob[name] == nil, pool.ready[name] == nil else { return false }
        }
        pool.reserved += 1
        return true
    }

    /// Gives back a slot `reserveStart` held.
    public func unreserve() {
        pool.reserved = max(0, pool.reserved - 1)
    }

    /// Takes a run a request just recorded here and drives it (at once when a slot is
    /// free). Called before the request is answered, so a cancel that follows the answer
    /// finds the run.
    public func accepted(_ run: RunRecord) {
        guard isRunning, options.drives, !run.status.isFinished else { return }
        accept(run)
    }
}
