/// A driver's hold on a run: its owner name and the ownership epoch (a fencing token)
/// its claim got. Every claim or takeover raises the epoch, so a stale holder (paused
/// by a debugger, a stopped VM, a partition) presents an old epoch and the store
/// refuses each of its writes.
public struct Lease: Sendable, Equatable, CustomStringConvertible {
    public var runId: String
    public var owner: String
    public var epoch: Int64

    public init(runId: String, owner: String, epoch: Int64) {
        self.runId = runId; self.owner = owner; self.epoch = epoch
    }

    /// The hold `run` records, when it has an owner.
    public init?(_ run: RunRecord) {
        guard let owner = run.owner else { return nil }
        self.init(runId: run.id, owner: owner, epoch: run.epoch)
    }

    public var description: String { "\(owner)@\(epoch)" }
}

/// What `RunStore.watch` found.
public struct RunWatch: Sendable, Equatable {
    /// Runs whose cancel flag is set.
    public var cancelRequested: Set<String> = []
    /// Runs the given lease no longer holds, with the refusal a write would get.
    public var lost: [String: StoreError] = [:]

    public init(cancelRequested: Set<String> = [], lost: [String: StoreError] = [:]) {
        self.cancelRequested = cancelRequested; self.lost = lost
    }
}
