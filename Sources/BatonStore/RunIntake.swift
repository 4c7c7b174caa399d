/// A run to create from a request (a webhook, an API retry), with the request's keys:
/// the store records them with the run in one transaction, so an answer sent after the
/// commit is a promise kept across a crash or restart.
public struct RunIntake: Sendable, Equatable {
    public var run: NewRun
    /// The caller's `Idempotency-Key`: while it lives, the same job and key find the
    /// first run instead of starting another.
    public var idempotencyKey: String?
    /// A key naming the signed request itself (its signature): a second arrival while it
    /// lives is a replay and starts nothing.
    public var replayKey: String?
    /// Where the replay key is remembered: the endpoint (`POST /hooks/JOB`), since the
    /// signature covers the timestamp and body, not the path. Default: the run's job.
    public var replayScope: String?
    /// When each key is forgotten (epoch ms).
    public var idempotencyExpiresAt: Int64
    public var replayExpiresAt: Int64
    /// Set when the run must not start (its job's overlap= refused it): the keys are
    /// still looked up, so a repeated call finds its first run, but nothing is written.
    public var refusal: String?

    public init(run: NewRun, idempotencyKey: String? = nil, replayKey: String? = nil,
                idempotencyExpiresAt: Int64 = 0, replayExpiresAt: Int64 = 0, refusal: String? = nil) {
        self.run = run; self.idempotencyKey = idempotencyKey; self.replayKey = replayKey; self.refusal = refusal
        self.idempotencyExpiresAt = idempotencyExpiresAt; self.replayExpiresAt = replayExpiresAt
    }
}

/// What became of one `RunIntake`.
public enum IntakeOutcome: Sendable, Equatable {
    case created(RunRecord)
    /// The idempotency key was used before: this is the run it started.
    case existing(runId: String)
    /// The same signed request was seen before, without an idempotency key.
    case replay
    /// `refusal` was set and no key matched: nothing was written.
    case refused(String)
}

extension RunRecord {
    /// The run as `createRun(new)` stores it, before any slice.
    public init(_ new: NewRun) {
        self.init(id: new.id, job: new.job, trigger: new.trigger, status: new.status, scheduledAt: new.scheduledAt,
                  createdAt: new.createdAt, updatedAt: new.createdAt, cursor: new.cursor, params: new.params,
                  payload: new.payload, command: new.command, parentRun: new.parentRun, owner: new.owner,
                  epoch: new.owner == nil ? 0 : 1)
    }
}
