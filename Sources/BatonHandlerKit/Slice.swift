import BatonProviders
import Foundation
import Synchronization

/// A slice as a handler's body sees it: the input, the decoded cursor, the clock and
/// SIGTERM, the log, `APP_DB`. Tests build one directly (`Slice(input:…)`) and call the
/// body in-process; `HandlerMain` builds it from stdin for a real run.
public final class Slice: @unchecked Sendable {
    public let input: SliceInput
    public let environment: [String: String]
    /// The cursor this slice starts from (`input.cursor` decoded).
    public let cursor: Cursor
    let clock: @Sendable () -> Int64
    let stop: StopFlag
    let logSink: @Sendable (String) -> Void

    /// - Throws: when the input's cursor cannot be read.
    public init(input: SliceInput, environment: [String: String], stop: StopFlag = StopFlag(),
                clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
    throws(HandlerError) {
        self.input = input; self.environment = environment; self.stop = stop; self.clock = clock; self.logSink = log
        cursor = try Cursor.decode(input.cursor)
    }

    public var params: Params { input.params }

    /// SIGTERM arrived (a cancel, a drain, the budget's end): take no new item.
    public var stopRequested: Bool { stop.isSet }

    /// The slice's clock: Unix epoch milliseconds.
    public var nowMs: Int64 { clock() }

    /// Milliseconds left before the slice's deadline.
    public var remainingMs: Int64 { input.deadlineMs - clock() }

    /// Whether to start another item that takes about `estimateMs`: no SIGTERM, and the
    /// budget left covers it with room to print the result.
    public func shouldTakeItem(estimateMs: Int64) -> Bool {
        !stopRequested && remainingMs > estimateMs + 500
    }

    /// The deadline provider calls are bounded by, keeping `reserveMs` to print the result.
    public func deadline(reserveMs: Int64 = 500) -> Deadline { Deadline(epochMs: input.deadlineMs, reserveMs: reserveMs) }

    /// One line of the slice's log (stderr). Counts and ids only, never text or secrets.
    public func log(_ line: String) { logSink(line) }

    /// Opens `APP_DB` (HANDLERS.md).
    /// - Throws: naming the URL's problem, the path, and what to do.
    public func openAppDB() throws(HandlerError) -> any AppDatabase { try AppDB.open(environment: environment) }

    /// Sleeps `ms`, waking early on SIGTERM. Returns false when it was woken.
    public func pause(ms: Int64) -> Bool {
        let end = clock() + ms
        while clock() < end {
            if stopRequested { return false }
            usleep(UInt32(min(50, max(1, end - clock())) * 1000))
        }
        return !stopRequested
    }
}

/// SIGTERM, as a flag the body polls. One per process in a real run; tests make their own.
public final class StopFlag: Sendable {
    let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .relaxed) }
    public func set() { flag.store(true, ordering: .relaxed) }
}
