import BatonCore
import BatonEngine
import BatonStore

/// lock= (jobs sharing a name never run slices at once, on every machine sharing the
/// store) and on-failure=.
extension Scheduler {
    /// How long a lock outlives its holder's last renewal (a holder that died).
    static let lockLeaseMs: Int64 = 60_000
    /// How often this process renews the locks it holds.
    static let lockRenewal: Duration = .seconds(10)

    /// Renews the locks this process holds (every `lockRenewal`) and gives the jobs
    /// waiting for a lock held elsewhere another try (each `lockRetry`).
    func tendLocks() async {
        let now = ContinuousClock.now
        // Locks are held only by runs driven here: with none, there is nothing to renew.
        if now - pool.lastLockRenewal >= Self.lockRenewal, !pool.active.isEmpty {
            pool.lastLockRenewal = now
            do {
                try await store.renewLocks(owner: engine.environment.owner, leaseMs: Self.lockLeaseMs)
            } catch {
                storeFailed("renewing locks", error)
            }
        }
        for name in pool.lockWaiting.sorted() { driveQueue(name) }
    }

    /// A run of `job` let its lock go here: the jobs waiting for that lock try at once.
    func lockFreed(by job: Job) {
        guard let lock = job.options.lock else { return }
        for name in pool.lockWaiting.sorted() where set.job(named: name)?.options.lock == lock { driveQueue(name) }
    }

    /// Starts the run on-failure= names for a failed run of `job`, and drives it.
    func startOnFailure(of failed: RunRecord, job: Job) async {
        let set = self.set
        do {
            switch try await engine.followOnFailure(of: failed, job: JobRunSpec(job), lookup: { set.job(named: $0).map(JobRunSpec.init) }) {
            case .none: break
            case let .started(run, target):
                report(.onFailure(job: job.name, run: failed.id, target: target.name, started: run.id, why: nil))
                accept(run)
            case let .refused(target, why):
                report(.onFailure(job: job.name, run: failed.id, target: target, started: nil, why: why))
            }
        } catch {
            report(.error("on-failure \(job.options.onFailure ?? ""): \(error.description)"))
        }
    }
}
