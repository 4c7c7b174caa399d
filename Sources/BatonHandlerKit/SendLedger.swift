import BatonProviders

/// At-most-once sends (HANDLERS.md: a message sent twice is not acceptable). Twilio,
/// Messenger and SMTP take no idempotency key, so a send is guarded by its item's own
/// row in `APP_DB`:
///
/// 1. intent: the row moves to `sending` conditionally (`UPDATE … WHERE status IN
///    (from)`, or an `INSERT` that a unique key lets only one writer make); only the one
///    whose write changed the row calls the provider. If the write fails, nothing is sent;
/// 2. the call;
/// 3. the outcome: `sent` with the provider's id; `failed` when the provider refused it
///    before taking it; `unknown` when it may have been delivered
///    (`ProviderError.maybeDelivered`); the row handed back (to the state it came from,
///    or deleted when the claim inserted it) when nothing was sent and the item should
///    be tried again (a rate limit, no time left, a refused key).
///
/// A row found in `sending` or `unknown` is never sent again here: its sender died
/// between intent and outcome (or is still waiting), so the outcome is `unknown` and a
/// person decides (`baton retry RUN --include-unknown` puts `unknown` in `from`).
///
/// With `deferOutcomes`, a `sent` outcome is written in the same commit as the next
/// send's intent (or by `flush()`): one commit per send instead of two. The window this
/// opens: if the process dies after a send succeeded and before that commit, the send
/// is found in `sending` and reported `unknown`, never resent, as when it dies while
/// the request is in flight; at most one item per sender is ever in this state.
public struct SendLedger {
    /// The row of one send.
    public struct Row: Sendable {
        public var table: String
        /// Column and value pairs naming the row (its key).
        public var key: [(String, AppValue)]
        public var status = "status"
        /// Where the provider's id goes on success (nil: not kept).
        public var providerId: String?
        /// Where the error text goes on failure (nil: not kept). Never message text.
        public var error: String?
        /// Insert the row as `sending` when it does not exist (its table has a unique key
        /// over `key`); otherwise the row must exist.
        public var insert = false
        /// Further columns of an inserted intent row (which batch it belongs to).
        public var onInsert: [(String, AppValue)] = []
        /// Further columns written with `sent`, in the same statement (an instant tag).
        public var onSent: [(String, AppValue)] = []

        public init(table: String, key: [(String, AppValue)], status: String = "status", providerId: String? = nil,
                    error: String? = nil, insert: Bool = false, onInsert: [(String, AppValue)] = [], onSent: [(String, AppValue)] = []) {
            self.table = table; self.key = key; self.status = status; self.providerId = providerId
            self.error = error; self.insert = insert; self.onInsert = onInsert; self.onSent = onSent
        }
    }

    /// What became of one send.
    public enum Outcome: Sendable, Equatable {
        /// Sent now; the row says `sent`.
        case sent(Receipt)
        /// Already `sent` before: skipped.
        case alreadySent
        /// Refused before it was taken; the row says `failed`.
        case failed(ProviderError)
        /// It may have been delivered: by this call (`error` set) or by an earlier one
        /// that left the row in `sending` (`error` nil). The row says `unknown`.
        case unknown(ProviderError?)
        /// Nothing was sent and the row is as it was: try it later (see `error`:
        /// `ProviderVerdict.of` says whether to pause or fail the slice).
        case notSent(ProviderError)
        /// Another state (another writer's, or one `from` does not include): not touched.
        case skipped(String)
        /// The caller's `first` work said stop: nothing was claimed or sent.
        case stopped

        /// The item's outcome for the slice's result, nil for `notSent` (not an outcome).
        public func item(_ id: String) -> ItemOutcome? {
            switch self {
            case .sent: ItemOutcome(id: id, status: .succeeded)
            case .alreadySent: ItemOutcome(id: id, status: .skipped, error: "already sent")
            case let .failed(e): ItemOutcome(id: id, status: .failed, error: e.description)
            case let .unknown(e): ItemOutcome(id: id, status: .unknown,
                                              error: e?.description ?? "an earlier send's outcome is unknown; not resent")
            case .notSent, .stopped: nil
            case let .skipped(why): ItemOutcome(id: id, status: .skipped, error: why)
            }
        }
    }

    public let db: any AppDatabase
    /// Write `sent` with the next intent (see above); call `flush()` before reading
    /// the outcomes back (totals) and when done.
    public let deferOutcomes: Bool
    private let state = State()

    /// The `sent` outcome not yet written (with `deferOutcomes`), and the SQL of the
    /// last row shape sent (built once per shape, not once per send).
    final class State {
        var pending: (sql: String, args: [AppValue])?
        var statements: Statements?
    }

    public init(db: any AppDatabase, deferOutcomes: Bool = false) {
        self.db = db
        self.deferOutcomes = deferOutcomes
    }

    /// Writes the `sent` outcome held back by `deferOutcomes`, if any.
    public func flush() throws(HandlerError) {
        guard let (sql, args) = state.pending else { return }
        try db.execute(sql, args)
        state.pending = nil
    }

    /// Sends once: claims `row` from one of the states `from` (default `pending`),
    /// calls `send`, records the outcome.
    ///
    /// `first`, when given, runs inside the intent's transaction before the claim (after
    /// a held-back outcome): work that commits with it, such as a batch's progress, at no
    /// commit of its own. When it returns false, what it wrote commits and nothing is
    /// claimed or sent (`.stopped`).
    ///
    /// `committed`, when given, runs once the intent is committed, before the request:
    /// waiting for that commit to reach the disk, say. When it throws, nothing is sent,
    /// the row is handed back as it was (if the database lets it), and the error is
    /// thrown.
    /// - Throws: `HandlerError` when the database cannot record the intent (nothing was
    ///   sent) or, after a send, its outcome (the row stays `sending`: `unknown` later).
    public func send(_ row: Row, from: [String] = ["pending"], first: (() throws(HandlerError) -> Bool)? = nil,
                     committed: (() throws(HandlerError) -> Void)? = nil,
                     _ send: () throws(ProviderError) -> Receipt) throws(HandlerError) -> Outcome {
        let sql = statements(row, from: from)
        let keys = row.key.map(\.1)
        let inserted: Bool
        // A held-back outcome and the caller's `first` go in the intent's commit.
        let claimed: Claim?
        if state.pending != nil || first != nil {
            claimed = try db.transaction { () throws(HandlerError) -> Claim? in
                if let (held, args) = state.pending { try db.execute(held, args) }
                guard try first?() ?? true else { return nil }
                return try claim(row, sql, keys: keys, from: from)
            }
        } else {
            claimed = try claim(row, sql, keys: keys, from: from)
        }
        state.pending = nil   // committed (a failed commit throws: the row stays `sending`)
        switch claimed {
        case .claimed(let i)?: inserted = i
        case .found(let outcome)?: return outcome
        case nil: return .stopped
        }
        do throws(HandlerError) { try committed?() } catch {
            _ = try? handBack(sql, keys: keys, inserted: inserted, from: from)
            throw error
        }
        let result = Result { () throws(ProviderError) in try send() }
        switch result {
        case let .success(receipt):
            var args = keys
            if row.providerId != nil { args.append(.text(receipt.id)) }
            args += row.onSent.map(\.1)
            if deferOutcomes {
                state.pending = (sql.sent, args)
            } else {
                try db.execute(sql.sent, args)
            }
            return .sent(receipt)
        case let .failure(error):
            let errorArg: [AppValue] = row.error == nil ? [] : [.text(error.description)]
            switch error {
            case .maybeDelivered:
                try db.execute(sql.unknown, keys + errorArg)
                return .unknown(error)
            case .rateLimited, .noTimeLeft, .authentication, .quotaExhausted, .notConfigured:
                // Refused before it was taken, and not this item's fault: as it was.
                try handBack(sql, keys: keys, inserted: inserted, from: from)
                return .notSent(error)
            case .server, .timeout, .connectionFailed, .rejected, .badResponse:
                try db.execute(sql.failed, keys + errorArg)
                return .failed(error)
            }
        }
    }

    enum Claim { case claimed(inserted: Bool), found(Outcome) }

    /// Nothing was sent: the row the intent inserted is deleted, or the row handed back
    /// to the state it was claimed from.
    func handBack(_ sql: Statements, keys: [AppValue], inserted: Bool, from: [String]) throws(HandlerError) {
        if inserted {
            try db.execute(sql.delete, keys)
        } else {
            try db.execute(sql.handBack, keys + [.text(from.first ?? "pending")])
        }
    }

    func claim(_ row: Row, _ sql: Statements, keys: [AppValue], from: [String]) throws(HandlerError) -> Claim {
        if let insert = sql.insert {
            // ON CONFLICT DO NOTHING: SQLite 3.24+ and PostgreSQL alike; the unique key decides.
            if try db.execute(insert, keys + row.onInsert.map(\.1)) == 1 { return .claimed(inserted: true) }
        }
        if !from.isEmpty, try db.execute(sql.claim, keys + from.map { .text($0) }) == 1 {
            return .claimed(inserted: false)
        }
        guard let found = try db.queryOne(sql.read, keys) else {
            return .found(.skipped("no such row"))
        }
        switch found.string(0) {
        case "sent"?: return .found(.alreadySent)
        case "sending"?, "unknown"?:
            // Marked so every reader (a summary, `--stats`) sees it; the original sender,
            // if alive after all, still records `sent` over it (see `Statements.sent`).
            try db.execute(sql.markUnknown, keys)
            return .found(.unknown(nil))
        case let other: return .found(.skipped("status \(other ?? "null")"))
        }
    }

    /// The SQL for `row`'s shape, made when the shape differs from the last send's.
    func statements(_ row: Row, from: [String]) -> Statements {
        let shape = Statements.Shape(row, from: from.count)
        if let made = state.statements, made.shape == shape { return made }
        let made = Statements(shape)
        state.statements = made
        return made
    }

    /// Every statement of one row shape (its table and column names; the values are
    /// bound). Keys are `?1…?n`; what follows them is numbered on.
    struct Statements {
        struct Shape: Equatable {
            var table: String, key: [String], status: String, providerId: String?, error: String?
            var insert: Bool, onInsert: [String], onSent: [String], from: Int

            init(_ row: Row, from: Int) {
                table = row.table; key = row.key.map(\.0); status = row.status; providerId = row.providerId
                error = row.error; insert = row.insert; onInsert = row.onInsert.map(\.0); onSent = row.onSent.map(\.0)
                self.from = from
            }
        }

        let shape: Shape
        /// The intent as an inserted row (`insert`), else nil.
        let insert: String?
        /// The intent over a row in one of `from`'s states.
        let claim: String
        let read: String
        let markUnknown: String
        /// The outcomes over `sending` (ours) or `unknown` (a reader marked ours while
        /// we waited: the truth we learnt wins).
        let sent: String, unknown: String, failed: String
        /// Nothing was sent: the inserted row deleted, or the row handed back.
        let delete: String, handBack: String

        init(_ shape: Shape) {
            self.shape = shape
            let n = shape.key.count
            let table = shape.table, status = shape.status
            let match = shape.key.enumerated().map { "\($0.element) = ?\($0.offset + 1)" }.joined(separator: " AND ")
            if shape.insert {
                let columns = (shape.key + shape.onInsert).joined(separator: ", ")
                let marks = (1...(n + shape.onInsert.count)).map { "?\($0)" }.joined(separator: ", ")
                insert = "INSERT INTO \(table) (\(columns), \(status)) VALUES (\(marks), 'sending') ON CONFLICT DO NOTHING"
            } else {
                insert = nil
            }
            let states = (0..<shape.from).map { "?\(n + 1 + $0)" }.joined(separator: ", ")
            claim = "UPDATE \(table) SET \(status) = 'sending' WHERE \(match) AND \(status) IN (\(states))"
            read = "SELECT \(status) FROM \(table) WHERE \(match)"
            markUnknown = "UPDATE \(table) SET \(status) = 'unknown' WHERE \(match) AND \(status) = 'sending'"
            func outcome(_ sets: [String]) -> String {
                "UPDATE \(table) SET \(sets.joined(separator: ", ")) WHERE \(match) AND \(status) IN ('sending', 'unknown')"
            }
            var sentSets = ["\(status) = 'sent'"]
            if let c = shape.providerId { sentSets.append("\(c) = ?\(n + 1)") }
            for column in shape.onSent { sentSets.append("\(column) = ?\(n + sentSets.count)") }
            sent = outcome(sentSets)
            let errorSet = shape.error.map { ["\($0) = ?\(n + 1)"] } ?? []
            unknown = outcome(["\(status) = 'unknown'"] + errorSet)
            failed = outcome(["\(status) = 'failed'"] + errorSet)
            delete = "DELETE FROM \(table) WHERE \(match) AND \(status) = 'sending'"
            handBack = "UPDATE \(table) SET \(status) = ?\(n + 1) WHERE \(match) AND \(status) = 'sending'"
        }
    }
}
