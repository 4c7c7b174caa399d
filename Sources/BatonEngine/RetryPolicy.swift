/// When to try a failed slice again: `backoff` doubling per failed attempt, capped at
/// one hour, with full jitter (a uniform draw between zero and that), unless the
/// handler asked for a pause with `retry_after_ms`.
public struct RetryPolicy: Sendable {
    public static let cap: Int64 = 3_600_000

    public var backoffMs: Int64
    public var retries: Int

    public init(backoffMs: Int64, retries: Int) { self.backoffMs = backoffMs; self.retries = retries }

    /// The ceiling of the delay before attempt `failedAttempts + 1`.
    public func ceiling(afterFailures failedAttempts: Int) -> Int64 {
        guard backoffMs > 0, failedAttempts > 0 else { return 0 }
        let shift = min(failedAttempts - 1, 40)
        let (d, overflow) = backoffMs.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
        return overflow ? Self.cap : min(d, Self.cap)
    }

    /// The delay before the next attempt, drawn with `random`.
    public func delay(afterFailures failedAttempts: Int, retryAfterMs: Int64?, random: (ClosedRange<Int64>) -> Int64) -> Int64 {
        if let r = retryAfterMs { return min(r, Self.cap) }
        let c = ceiling(afterFailures: failedAttempts)
        return c == 0 ? 0 : random(0...c)
    }
}
