import Glibc

/// A failed system call: which call, the errno, and what the operator can do.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var errno: Int32
    public var message: String
    public var hint: String?

    public init(_ call: String, errno: Int32, _ message: String? = nil, hint: String? = nil) {
        self.call = call
        self.errno = errno
        self.message = message ?? String(cString: strerror(errno))
        self.hint = hint
    }

    public var description: String { "\(call): \(message)" + (hint.map { " (hint: \($0))" } ?? "") }

    public static var noSuchFile: Int32 { ENOENT }
    public static var permissionDenied: Int32 { EACCES }
}

/// An errno value as an error, for `Result`.
struct Errno: Error { var code: Int32 }

/// Retries a call interrupted by a signal (EINTR); returns its result or the errno.
@inline(__always)
func retryingInterrupts<T: BinaryInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let r = body()
        if r >= 0 { return .success(r) }
        if errno != EINTR { return .failure(Errno(code: errno)) }
    }
}

/// Milliseconds on the monotonic clock (never jumps with the wall clock).
@inline(__always)
func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
