/// The pacing profiles of seed 001 (`PACING_CONFIGS`), number for number. Requests are
/// always one at a time (the seed's `maxConcurrentRequests` is 1 in every profile).
public enum Pacing: String, CaseIterable, Sendable {
    case safe, normal, fast

    /// The pause between two epics, and the base of the adaptive back-off (seed §2.2).
    public var delayBetweenEpicsMs: Int64 {
        switch self { case .safe: 3_000; case .normal: 1_000; case .fast: 500 }
    }

    /// `max_tokens` of every story request (the seed defines it and never sends it).
    public var maxTokensPerRequest: Int {
        switch self { case .safe: 2_000; case .normal, .fast: 4_000 }
    }

    /// The first wait before retrying a transient error; it doubles per retry.
    public var retryDelayMs: Int64 {
        switch self { case .safe: 10_000; case .normal: 5_000; case .fast: 3_000 }
    }

    /// Retries of a transient error (5xx, 529, timeout, connection) before the epic fails:
    /// `maxRetries + 1` calls in all.
    public var maxRetries: Int {
        switch self { case .safe: 3; case .normal, .fast: 2 }
    }

    /// The wait before retry `attempt` (0-based): `retryDelayMs × 2^attempt`, so normal
    /// waits 5 s then 10 s.
    public func retryWaitMs(attempt: Int) -> Int64 { retryDelayMs << Int64(min(attempt, 16)) }
}
