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

        /// The item's outcome for the slice's result, nil for `notSent` (not an outcome).
        public func item(_ id: String) -> ItemOutcome? {
            switch self {
            case .sent: ItemOutcome(id: id, status: .succeeded)
            case .alreadySent: ItemOutcome(id: id, status: .skipped, error: "already sent")
            case let .failed(e): ItemOutcome(id: id, status: .failed, error: e.description)
            case let .unknown(e): ItemOutcome(id: id, status: .unknown,
                                              error: e?.description ?? "an earlier send's outcome is unknown; not resent")
            case .notSent: nil
            case let .skipped(why): ItemOutcome(id: id, status: .skipped, error: why)
            }
        }
    }

    public let db: any AppDatabase
    /// Write `sent` with the next intent (see above); call `flush()` before reading
    /// the outcomes back (totals) and when done.
    public let deferOutcomes: Bool
    private let pending = Pending()

    /// The `sent` outcome not yet written (with `deferOutcomes`).
    final class Pending {
        var statement: (sql: String, args: [AppValue])?
    }

    public init(db: any AppDatabase, deferOutcomes: Bool = false) {
        self.db = db
        self.deferOutcomes = deferOutcomes
    }

    /// Writes the `sent` outcome held back by `deferOutcomes`, if any.
    public func flush() throws(HandlerError) {
        guard let (sql, args) = pending.statement else { return }
        try db.execute(sql, args)
        pending.statement = nil
    }

    /// Sends once: claims `row` from one of the states `from` (default `pending`),
    /// calls `send`, records the outcome.
    /// - Throws: `HandlerError` when the database cannot record the intent (nothing was
    ///   sent) or, after a send, its outcome (the row stays `sending`: `unknown` later).
    public func send(_ row: Row, from: [String] = ["pending"], _ send: () throws(ProviderError) -> Receipt) throws(HandlerError) -> Outcome {
        let inserted: Bool
        // A held-back outcome goes in the intent's commit.
        let claimed: Claim
        if let (sql, args) = pending.statement {
            claimed = try db.transaction { () throws(HandlerError) -> Claim in
                try db.execute(sql, args)
                return try claim(row, from: from)
            }
        } else {
            claimed = try claim(row, from: from)
        }
        pending.statement = nil   // committed (a failed commit throws: the row stays `sending`)
        switch claimed {
        case .claimed(let i): inserted = i
        case .found(let outcome): return outcome
        }
        let result = Result { () throws(ProviderError) in try send() }
        switch result {
        case let .success(receipt):
            var sets = ["\(row.status) = 'sent'"]
            var args: [AppValue] = []
            if let c = row.providerId { sets.append("\(c) = ?\(row.key.count + 1)"); args.append(.text(receipt.id)) }
            for (column, value) in row.onSent {
                sets.append("\(column) = ?\(row.key.count + args.count + 1)")
                args.append(value)
            }
            if deferOutcomes {
                pending.statement = finishStatement(row, sets: sets, args: args)
            } else {
                try finish(row, sets: sets, args: args)
            }
            return .sent(receipt)
        case let .failure(error):
            switch error {
            case .maybeDelivered:
                try finish(row, sets: ["\(row.status) = 'unknown'"] + errorSet(row), args: errorArg(row, error))
                return .unknown(error)
            case .rateLimited, .noTimeLeft, .authentication, .quotaExhausted, .notConfigured:
                // Refused before it was taken, and not this item's fault: as it was.
                if inserted {
                    try db.execute("DELETE FROM \(row.table) WHERE \(match(row)) AND \(row.status) = 'sending'", keyArgs(row))
                } else {
                    try db.execute("UPDATE \(row.table) SET \(row.status) = ?\(row.key.count + 1) WHERE \(match(row)) AND \(row.status) = 'sending'",
                                   keyArgs(row) + [.text(from.first ?? "pending")])
                }
                return .notSent(error)
            case .server, .timeout, .connectionFailed, .rejected, .badResponse:
                try finish(row, sets: ["\(row.status) = 'failed'"] + errorSet(row), args: errorArg(row, error))
                return .failed(error)
            }
        }
    }

    enum Claim { case claimed(inserted: Bool), found(Outcome) }

    func claim(_ row: Row, from: [String]) throws(HandlerError) -> Claim {
        let n = row.key.count
        if row.insert {
            let all = row.key + row.onInsert
            let columns = all.map(\.0).joined(separator: ", ")
            let marks = (1...all.count).map { "?\($0)" }.joined(separator: ", ")
            // ON CONFLICT DO NOTHING: SQLite 3.24+ and PostgreSQL alike; the unique key decides.
            if try db.execute("INSERT INTO \(row.table) (\(columns), \(row.status)) VALUES (\(marks), 'sending') ON CONFLICT DO NOTHING",
                              all.map(\.1)) == 1 { return .claimed(inserted: true) }
        }
        let states = from.enumerated().map { "?\(n + 1 + $0.offset)" }.joined(separator: ", ")
        if !from.isEmpty,
           try db.execute("UPDATE \(row.table) SET \(row.status) = 'sending' WHERE \(match(row)) AND \(row.status) IN (\(states))",
                          keyArgs(row) + from.map { .text($0) }) == 1 {
            return .claimed(inserted: false)
        }
        guard let found = try db.queryOne("SELECT \(row.status) FROM \(row.table) WHERE \(match(row))", keyArgs(row)) else {
            return .found(.skipped("no such row"))
        }
        switch found.string(0) {
        case "sent"?: return .found(.alreadySent)
        case "sending"?, "unknown"?:
            // Marked so every reader (a summary, `--stats`) sees it; the original sender,
            // if alive after all, still records `sent` over it (see `finish`).
            try db.execute("UPDATE \(row.table) SET \(row.status) = 'unknown' WHERE \(match(row)) AND \(row.status) = 'sending'", keyArgs(row))
            return .found(.unknown(nil))
        case let other: return .found(.skipped("status \(other ?? "null")"))
        }
    }

    /// The outcome over `sending` (ours) or `unknown` (a reader marked ours while we
    /// waited: the truth we learnt wins).
    func finish(_ row: Row, sets: [String], args: [AppValue]) throws(HandlerError) {
        let (sql, all) = finishStatement(row, sets: sets, args: args)
        try db.execute(sql, all)
    }

    func finishStatement(_ row: Row, sets: [String], args: [AppValue]) -> (sql: String, args: [AppValue]) {
        ("UPDATE \(row.table) SET \(sets.joined(separator: ", ")) WHERE \(match(row)) AND \(row.status) IN ('sending', 'unknown')",
         keyArgs(row) + args)
    }

    func match(_ row: Row) -> String {
        row.key.enumerated().map { "\($0.element.0) = ?\($0.offset + 1)" }.joined(separator: " AND ")
    }

    func keyArgs(_ row: Row) -> [AppValue] { row.key.map(\.1) }
    func errorSet(_ row: Row) -> [String] { row.error.map { ["\($0) = ?\(row.key.count + 1)"] } ?? [] }
    func errorArg(_ row: Row, _ e: ProviderError) -> [AppValue] { row.error == nil ? [] : [.text(e.description)] }
}
