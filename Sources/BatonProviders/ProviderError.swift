import BatonCurl
import Foundation

/// What went wrong with a provider call, typed so a handler's retry and rate-limit
/// logic can act on it (HANDLERS.md). Messages name the provider, the status and the
/// provider's error code; never a key, a token or message text.
public enum ProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 429 (or Messenger code 613): wait `retryAfterMs` when the provider said how long.
    case rateLimited(provider: String, retryAfterMs: Int64?)
    /// The account's quota is gone (OpenAI `insufficient_quota`): not a rate limit.
    case quotaExhausted(provider: String)
    /// 5xx, 529 overloaded, 408/409 from OpenAI: transient.
    case server(provider: String, status: Int)
    /// No answer within the time left (the slice's remaining budget, or the cap).
    case timeout(provider: String)
    /// The connection could not be made (refused, unresolvable, TLS).
    case connectionFailed(provider: String, reason: String)
    /// The key or token was refused (401/403, Twilio 20003, Messenger 190).
    case authentication(provider: String, status: Int)
    /// Any other refusal of this request: permanent, do not retry it as it is.
    case rejected(provider: String, status: Int, code: String?)
    /// The answer did not have the expected shape: `field` says what was wrong.
    case badResponse(provider: String, field: String)
    /// Not enough budget left to make the call at all.
    case noTimeLeft(provider: String)
    /// A variable the client needs is not set: nothing was sent.
    case notConfigured(provider: String, variable: String)
    /// A message send failed after its request left this machine (a timeout while waiting
    /// for the answer, a reset connection, an empty or unreadable answer to an accepted
    /// request): the provider may have delivered it. Never resend it automatically
    /// (HANDLERS.md: the outcome is `unknown`, a person decides). Only the messaging
    /// clients (Twilio, Messenger, SMTP) say this; every other failure of theirs means the
    /// message was refused before it was taken.
    case maybeDelivered(provider: String, reason: String)

    /// Worth trying again later (with the same input).
    public var isTransient: Bool {
        switch self {
        case .rateLimited, .server, .timeout, .connectionFailed: true
        case .quotaExhausted, .authentication, .rejected, .badResponse, .noTimeLeft, .notConfigured, .maybeDelivered: false
        }
    }

    /// The request may have been acted on by the provider (see `maybeDelivered`).
    public var mayHaveBeenDelivered: Bool {
        if case .maybeDelivered = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .rateLimited(p, after): "\(p): rate limited" + (after.map { ", retry after \($0) ms" } ?? "")
        case let .quotaExhausted(p): "\(p): the account's quota is exhausted"
        case let .server(p, s): "\(p): server error \(s)"
        case let .timeout(p): "\(p): no answer within the time left"
        case let .connectionFailed(p, why): "\(p): connection failed: \(why)"
        case let .authentication(p, s): "\(p): authentication refused (\(s)); check the key or token"
        case let .rejected(p, s, code): "\(p): request refused (\(s)" + (code.map { ", code \($0)" } ?? "") + ")"
        case let .badResponse(p, field): "\(p): unexpected answer: \(field)"
        case let .noTimeLeft(p): "\(p): not enough budget left for a call"
        case let .maybeDelivered(p, why): "\(p): may have been delivered (\(why)); not resent automatically"
        case let .notConfigured(p, v):
            "\(p): \(v) is not set; handlers get a clean environment: set it in the schedule file (\(v)=…), "
                + "pass it from baton's own with pass-env=\(v), or with baton invoke --pass-env \(v)"
        }
    }

    /// Types a transfer failure. With `sendsMessages` (a messaging client), a failure
    /// after the request left this machine is `maybeDelivered`, not a timeout or a
    /// connection failure that a retry may safely repeat.
    static func transport(_ provider: String, _ error: CurlError, sendsMessages: Bool = false) -> ProviderError {
        if sendsMessages, error.requestSent {
            return .maybeDelivered(provider: provider, reason: error.kind == .timeout ? "no answer in time" : error.message)
        }
        switch error.kind {
        case .timeout: return .timeout(provider: provider)
        case .connect, .resolve, .tls, .send, .other: return .connectionFailed(provider: provider, reason: error.message)
        }
    }

    /// Milliseconds to wait from `retry-after-ms`, `Retry-After` (seconds or an HTTP date).
    static func retryAfter(_ headers: [String: String], now: Date = Date()) -> Int64? {
        // Clamped to a day: a provider (or a proxy) asking for more is not believed, and
        // no value can overflow.
        let day = 86_400_000.0
        if let ms = headers["retry-after-ms"].flatMap(Double.init), ms.isFinite, ms >= 0 { return Int64(min(ms, day)) }
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let s = Double(text), s.isFinite, s >= 0 { return Int64(min(s * 1000, day)) }
        if let at = httpDate(text), at < 100_000_000_000 { return min(Int64(day), max(0, at * 1000 - Int64(now.timeIntervalSince1970 * 1000))) }
        return nil
    }
}
