import BatonJSON

/// A handler's cursor, versioned and encoded once by the kit: `{"v":1,"after":"epic_07"}`.
/// `after` is a key-set position (the key of the last item finished, never a list
/// index: an index skips items when earlier ones are deleted), `phase` a step of a
/// multi-step job, `backoff` the adaptive rate-limit multiplier carried between slices,
/// and `extra` whatever else a handler keeps.
public struct Cursor: Sendable, Equatable {
    /// The version this kit writes; a cursor from a newer handler is refused.
    public static let version: Int64 = 1

    public var after: String?
    public var phase: String?
    /// The adaptive back-off multiplier (1 when no rate limit is in force).
    public var backoff: Int
    public var extra: [String: JSONValue]

    public init(after: String? = nil, phase: String? = nil, backoff: Int = 1, extra: [String: JSONValue] = [:]) {
        self.after = after; self.phase = phase; self.backoff = backoff; self.extra = extra
    }

    /// Reads a committed cursor. Plain text (a cursor typed by a person, `baton invoke
    /// --cursor lead_41`) is taken as `after`.
    /// - Throws: when it is JSON of the wrong shape or from a newer version.
    public static func decode(_ text: String?) throws(HandlerError) -> Cursor {
        guard let text, !text.isEmpty else { return Cursor() }
        guard text.hasPrefix("{") else { return Cursor(after: text) }
        let value: JSONValue
        do { value = try JSONValue.decode(Array(text.utf8)) } catch {
            throw HandlerError("the cursor is not a JSON object this kit wrote: \(error)",
                               hint: "resume with a cursor the handler returned, or start again without --cursor")
        }
        guard case let .object(o) = value else {
            throw HandlerError("the cursor holds \(value.kind), not a JSON object this kit wrote",
                               hint: "resume with a cursor the handler returned, or start again without --cursor")
        }
        let v = o["v"]?.integer ?? 0
        guard v >= 1, v <= version else {
            throw HandlerError("the cursor has version \(o["v"]?.text ?? "none"); this handler reads version \(version)",
                               hint: "a cursor from a newer handler: run that handler, or start the run again")
        }
        var c = Cursor()
        var rest = o
        rest["v"] = nil
        if let a = rest.removeValue(forKey: "after") { c.after = a.string ?? a.integer.map(String.init) }
        if let p = rest.removeValue(forKey: "phase") { c.phase = p.string }
        if let b = rest.removeValue(forKey: "backoff") { c.backoff = max(1, min(Backoff.cap, b.int ?? 1)) }
        c.extra = rest
        return c
    }

    /// The text baton commits.
    public var encoded: String {
        var o = extra
        o["v"] = .number(String(Self.version))
        if let after { o["after"] = .string(after) }
        if let phase { o["phase"] = .string(phase) }
        if backoff > 1 { o["backoff"] = .number(backoff) }
        return JSONValue.object(o).text
    }
}
