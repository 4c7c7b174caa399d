/// A store failure, typed per cause, with what the operator can do about it.
/// Never carries cursor, payload or log contents.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Another process held the database longer than the busy timeout.
        case busy
        /// The disk (or the database's size limit) is full.
        case full
        /// The file or its directory is not writable.
        case readOnly
        /// The file could not be opened or created.
        case cantOpen
        /// Not a database, or damaged.
        case corrupt
        /// Written by a newer baton (schema version unknown).
        case tooNew
        case notFound
        case conflict
        /// The caller's hold on a run is over: another process took it over (a higher
        /// epoch) or it was let go. The write had no effect; the caller must stop.
        case fenced
        /// Anything else from the driver.
        case io
    }

    public var kind: Kind
    /// Where: the database path or URL (without credentials).
    public var location: String
    public var message: String
    public var hint: String?
    /// The driver's raw code, for the log.
    public var code: Int32

    public init(_ kind: Kind, location: String, _ message: String, hint: String? = nil, code: Int32 = 0) {
        self.kind = kind; self.location = location; self.message = message; self.hint = hint; self.code = code
    }

    public var description: String {
        "\(location): \(message)" + (hint.map { " (hint: \($0))" } ?? "")
    }
}

extension StoreError {
    /// The refusal of a write made under `lease` after the run moved on to `current`
    /// (its owner and epoch now, nil owner when nobody holds it).
    public static func fenced(_ lease: Lease, current: (owner: String?, epoch: Int64)?, location: String) -> StoreError {
        let now = current.map { c in c.owner.map { "\($0) holds it at epoch \(c.epoch)" } ?? "nobody holds it (epoch \(c.epoch))" }
            ?? "it no longer exists"
        return StoreError(.fenced, location: location,
                          "this process lost run \(lease.runId): it held epoch \(lease.epoch), and \(now)",
                          hint: "another baton took the run over (this one was stopped or cut off past its lease); it goes on from the last committed cursor there")
    }
}
