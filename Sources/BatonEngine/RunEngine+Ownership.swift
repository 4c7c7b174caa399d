import BatonStore
import BatonSupervisor

extension RunEngine {
    /// Takes a cancelled, failed or partial run (or one whose driver died) back up:
    /// claims it, then reopens it (only status, cancel flag, error and retry count
    /// change, so nothing its last driver committed is rolled back). Returns it held by
    /// this process: `drive(…, claimed:)` continues it from its cursor.
    /// - Throws: `.heldElsewhere` when a live process drives it.
    public func reopen(runId: String, job: JobRunSpec) async throws(EngineError) -> RunRecord {
        var hadOwner = false
        let run = try await claim(runId, job: job, evenIfFinished: true, hadOwner: &hadOwner)
        guard let lease = Lease(run) else { throw .heldElsewhere(runId, owner: "nobody") }
        guard run.status.isFinished || run.cancelRequested else { return run }
        do { return try await store.reopen(lease, at: Self.nowMs()) } catch { throw EngineError(error, runId: runId) }
    }

    /// Cancels a run nobody drives any more (its driver died, or its lease ran out):
    /// takes it over, stops a handler it left behind, and ends it cancelled. Returns
    /// nil when a live process holds it (that process acts on the cancel flag).
    public func cancelAbandoned(runId: String) async throws(EngineError) -> RunRecord? {
        let run: RunRecord
        var hadOwner = false
        do {
            run = try await claim(runId, job: JobRunSpec(name: "", command: []), hadOwner: &hadOwner)
        } catch {
            if case .heldElsewhere = error { return nil }
            throw error
        }
        guard !run.status.isFinished, let lease = Lease(run) else { return run }
        // A handler its dead driver left running is stopped before the run ends.
        _ = try await repairLostSlice(run, lease: lease)
        do {
            let done = try await store.endRun(lease, status: .cancelled,
                                              error: "cancelled while nobody was driving it; resume continues from the cursor",
                                              at: Self.nowMs())
            observer?.event(.runFinished(run: done))
            return done
        } catch {
            throw EngineError(error, runId: runId)
        }
    }

    /// Takes ownership in one conditional store operation: a run nobody holds, one whose
    /// lease ran out (the store's clock), or one held by a process of this host that is
    /// gone. The epoch goes up, fencing off whoever held it.
    /// `hadOwner`: the run had an owner before (it may have left a slice running).
    func claim(_ runId: String, job: JobRunSpec, evenIfFinished: Bool = false,
               hadOwner: inout Bool, known: RunRecord? = nil) async throws(EngineError) -> RunRecord {
        do {
            var read = known
            if read == nil { read = try await store.run(id: runId) }
            guard let run = read else { throw EngineError.noSuchRun(runId) }
            hadOwner = run.owner != nil || run.epoch > 0
            if run.status.isFinished && !evenIfFinished { return run }
            let dead = run.owner.flatMap { $0 != environment.owner && RunID.isDeadLocalOwner($0) ? $0 : nil }
            guard let claimed = try await store.claim(runId: runId, owner: environment.owner, leaseMs: environment.leaseMs,
                                                      replacing: dead) else {
                let holder = (try? await store.run(id: runId))?.owner
                throw EngineError.heldElsewhere(runId, owner: holder ?? run.owner ?? "another process")
            }
            return claimed
        } catch {
            throw EngineError(error)
        }
    }

    /// A slice left `running` by a driver that died (kill -9) or was fenced off is
    /// marked lost; the next attempt of the same slice runs with the same cursor.
    func repairLostSlice(_ run: RunRecord, lease: Lease) async throws(EngineError) -> RunRecord {
        guard !run.status.isFinished else { return run }
        do {
            let slices = try await store.slices(runId: run.id)
            guard let lost = slices.last(where: { $0.outcome == .running }) else { return run }
            // A driver killed with -9 leaves its handler running: stop it (it carries the
            // run's id in its environment) before the same cursor runs again. The /proc
            // scan and the reaping block: a thread of their own does them.
            let marker = "BATON_RUN_ID=\(run.id)"
            _ = await Supervisor.offPool { Supervisor.stopEverywhere(marker: marker) }
            return try await store.markSliceLost(lease, number: lost.number, attempt: lost.attempt, at: Self.nowMs())
        } catch {
            throw EngineError(error, runId: run.id)
        }
    }
}
