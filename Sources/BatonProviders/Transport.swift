import BatonCurl
import BatonJSON
import Foundation

/// The end of the time a call may take: the slice's deadline (`BATON_DEADLINE_MS`), so
/// no request outlives the budget that baton enforces with SIGTERM.
public struct Deadline: Sendable {
    /// Unix epoch milliseconds.
    public var epochMs: Int64
    /// Kept back from every request for the handler to print its result.
    public var reserveMs: Int64

    public init(epochMs: Int64, reserveMs: Int64 = 500) { self.epochMs = epochMs; self.reserveMs = reserveMs }

    /// From now, `ms` milliseconds.
    public static func after(ms: Int64) -> Deadline { Deadline(epochMs: nowMs() + ms, reserveMs: 0) }

    public var remainingMs: Int64 { epochMs - reserveMs - Self.nowMs() }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// One provider's HTTP calls over one reused curl handle: every request bounded by the
/// time left, transport failures typed.
public final class Transport {
    public let provider: String
    public var deadline: Deadline
    /// The longest one request may take even with more budget left.
    public var requestCapMs: Int64 = 60_000
    /// Requests have side effects (a message sent): a failure after the request left is
    /// `ProviderError.maybeDelivered`, and so is an unreadable answer to an accepted one.
    public var sendsMessages = false
    let session: CurlSession
    /// Made on the first batch (`sendAll`): most handlers never need it.
    var multi: CurlMulti?

    public init(provider: String, deadline: Deadline) throws(ProviderError) {
        self.provider = provider
        self.deadline = deadline
        do { session = try CurlSession() } catch { throw .connectionFailed(provider: provider, reason: error.message) }
    }

    func send(_ request: CurlSession.Request) throws(ProviderError) -> CurlSession.Response {
        let left = deadline.remainingMs
        guard left >= 50 else { throw .noTimeLeft(provider: provider) }
        var request = request
        request.timeoutMs = min(left, requestCapMs)
        do { return try session.perform(request) } catch { throw .transport(provider, error, sendsMessages: sendsMessages) }
    }

    /// Sends `requests` at once (libcurl's multi interface), each bounded as `send`
    /// bounds one; the outcomes are in request order, each typed as `send` types it.
    func sendAll(_ requests: [CurlSession.Request]) -> [Result<CurlSession.Response, ProviderError>] {
        if requests.count == 1 {
            let one = requests[0]
            return [Result { () throws(ProviderError) in try send(one) }]
        }
        let left = deadline.remainingMs
        guard left >= 50 else { return requests.map { _ in .failure(.noTimeLeft(provider: provider)) } }
        if multi == nil {
            do { multi = try CurlMulti() } catch {
                return requests.map { _ in .failure(.connectionFailed(provider: provider, reason: error.message)) }
            }
        }
        let bounded = requests.map { r in
            var r = r
            r.timeoutMs = min(left, requestCapMs)
            return r
        }
        return multi!.perform(bounded).map { $0.mapError { .transport(provider, $0, sendsMessages: sendsMessages) } }
    }

    /// Reads an accepted send's answer; for a messaging client an unreadable one is
    /// `maybeDelivered` (the provider took the request, its answer was lost).
    func accepted<T>(_ response: CurlSession.Response, _ read: (JSONValue) throws(ProviderError) -> T) throws(ProviderError) -> T {
        do { return try read(try json(response)) } catch {
            guard sendsMessages, case let .badResponse(_, field) = error else { throw error }
            throw .maybeDelivered(provider: provider, reason: "accepted (\(response.status)) with an unreadable answer: \(field)")
        }
    }

    func json(_ response: CurlSession.Response) throws(ProviderError) -> JSONValue {
        let value: JSONValue
        // The position only: the body may hold message text, which must not reach a log.
        do { value = try JSONValue.decode(response.body) } catch {
            throw .badResponse(provider: provider, field: "the body is not JSON (\(error))")
        }
        guard case .object = value else { throw .badResponse(provider: provider, field: "the body is \(value.kind), not a JSON object") }
        return value
    }
}

/// Reads a typed field from a decoded JSON object by path, or says which field is wrong.
struct Fields {
    let provider: String
    let root: JSONValue

    func value(_ path: [Any]) -> JSONValue? {
        var node: JSONValue? = root
        for step in path {
            if let key = step as? String { node = node?[key] } else if let i = step as? Int { node = node?[i] }
        }
        return node
    }

    func string(_ path: Any...) throws(ProviderError) -> String {
        guard let s = value(path)?.string else { throw .badResponse(provider: provider, field: Self.name(path) + " is not a string") }
        return s
    }

    func int(_ path: Any...) throws(ProviderError) -> Int {
        guard let n = value(path)?.int else { throw .badResponse(provider: provider, field: Self.name(path) + " is not a whole number") }
        return n
    }

    static func name(_ path: [Any]) -> String {
        var out = ""
        for step in path {
            if let i = step as? Int { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + "\(step)" }
        }
        return out
    }
}
