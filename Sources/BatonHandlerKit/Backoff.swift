import BatonProviders

/// Adaptive back-off on rate limits (seed 001): the pause doubles with each rate limit
/// in a row, up to ×8, and drops back to ×1 after a success. It lives in the cursor, so
/// it survives from one slice to the next.
public struct Backoff: Sendable, Equatable {
    public static let cap = 8
    /// 1, 2, 4 or 8.
    public private(set) var multiplier: Int

    public init(multiplier: Int = 1) { self.multiplier = max(1, min(Self.cap, multiplier)) }

    /// A rate limit: how long to pause. The provider's own `Retry-After` wins when it
    /// asks for longer than `baseMs` × the multiplier; the multiplier then doubles.
    public mutating func rateLimited(retryAfterMs: Int64?, baseMs: Int64) -> Int64 {
        let ours = baseMs * Int64(multiplier)
        multiplier = min(Self.cap, multiplier * 2)
        return max(ours, retryAfterMs ?? 0)
    }

    /// A success resets it.
    public mutating func succeeded() { multiplier = 1 }
}

/// What a provider error means for the slice (one function, so every handler agrees).
public enum ProviderVerdict: Sendable, Equatable {
    /// This item failed on its own; go on with the next (reported in `items`).
    case itemFailed(String)
    /// A rate limit: stop taking items and return the cursor of this item with
    /// `retry_after_ms` and exit 0: the run pauses, no retry is spent.
    case pause(retryAfterMs: Int64)
    /// No time left for a call: stop taking items, return the cursor of this item.
    case stopTaking
    /// Every further item would fail the same way (no key, key refused, quota gone):
    /// fail the slice with this message (exit 1) instead of failing each item.
    case failSlice(String)

    /// As `of(_:backoff:baseMs:)`, knowing the slice: a call cut off by the slice's own
    /// deadline (or after SIGTERM) says nothing against the item, so the slice stops
    /// taking items and the item stays unfinished for the next slice.
    public static func of(_ error: ProviderError, backoff: inout Backoff, baseMs: Int64 = 1_000, in slice: Slice) -> ProviderVerdict {
        if case .timeout = error, slice.remainingMs < 1_000 || slice.stopRequested { return .stopTaking }
        return of(error, backoff: &backoff, baseMs: baseMs)
    }

    /// Maps `error` to what the slice does; a rate limit also advances `backoff`.
    public static func of(_ error: ProviderError, backoff: inout Backoff, baseMs: Int64 = 1_000) -> ProviderVerdict {
        switch error {
        case let .rateLimited(_, after):
            return .pause(retryAfterMs: backoff.rateLimited(retryAfterMs: after, baseMs: baseMs))
        case .noTimeLeft:
            return .stopTaking
        case .authentication, .quotaExhausted, .notConfigured:
            return .failSlice(error.description)
        case .server, .timeout, .connectionFailed, .rejected, .badResponse:
            return .itemFailed(error.description)
        case .maybeDelivered:
            // Only messaging clients say this; their sends go through `SendLedger`, which
            // records the item `unknown` before any verdict is asked for.
            return .itemFailed(error.description)
        }
    }
}
