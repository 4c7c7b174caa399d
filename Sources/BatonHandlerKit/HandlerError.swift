/// Why a slice cannot go on: bad input, a bad parameter, an unreachable `APP_DB`, a
/// provider that is not configured. The kit prints it on stderr and exits 1, so the
/// slice fails loudly (and is retried per the job's `retries=`), never passing for a
/// success.
public struct HandlerError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) { self.message = message; self.hint = hint }

    public var description: String { hint.map { "\(message) (hint: \($0))" } ?? message }
}

/// Exit 75 (EX_TEMPFAIL): baton retries the slice with the same cursor after back-off.
public struct TemporaryFailure: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
