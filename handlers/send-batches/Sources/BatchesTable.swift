import BatonHandlerKit
import Foundation

/// send-batches' tables (HANDLERS.md, names and columns fixed there) and the statements
/// that claim, close and summarise batches. Every claim is conditional, and closing a
/// batch summarises its message in the same transaction.
enum BatchesTable {
    static func migrations(_ d: AppDialect) -> [String] { [
        """
        CREATE TABLE IF NOT EXISTS messages (
            id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL DEFAULT '', media_url TEXT,
            status TEXT NOT NULL DEFAULT 'pending', total_recipients INTEGER NOT NULL DEFAULT 0,
            sent_count INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,
            unknown_count INTEGER NOT NULL DEFAULT 0, channel TEXT NOT NULL DEFAULT 'messenger',
            created_at \(d.time)
        );
        CREATE TABLE IF NOT EXISTS message_batches (
            id TEXT PRIMARY KEY NOT NULL, message_id TEXT NOT NULL, batch_number INTEGER NOT NULL,
            total_batches INTEGER NOT NULL, recipients TEXT NOT NULL, recipient_count INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending', sent_count INTEGER NOT NULL DEFAULT 0,
            failed_count INTEGER NOT NULL DEFAULT 0, error_message TEXT, started_at \(d.time), completed_at \(d.time),
            lease_until \(d.time), claimed_by TEXT, unknown_count INTEGER NOT NULL DEFAULT 0,
            UNIQUE (message_id, batch_number)
        );
        CREATE INDEX IF NOT EXISTS message_batches_next ON message_batches (status, message_id, batch_number);
        CREATE TABLE IF NOT EXISTS message_deliveries (
            message_id TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
            provider_message_id TEXT, error TEXT, batch_id TEXT, tagged_at \(d.time),
            UNIQUE (message_id, recipient)
        );
        CREATE INDEX IF NOT EXISTS message_deliveries_batch ON message_deliveries (batch_id, status);
        """,
        // The send window (see `progress`): the recipients a batch's holder may send
        // before its next synced checkpoint, and the boot of the machine it ran under.
        // Deliveries indexed by batch alone: a send's outcome (its status) then writes
        // no index page (a batch's deliveries are at most its 100 or so recipients).
        """
        ALTER TABLE message_batches ADD COLUMN send_window TEXT;
        ALTER TABLE message_batches ADD COLUMN send_boot TEXT;
        DROP INDEX IF EXISTS message_deliveries_batch;
        CREATE INDEX IF NOT EXISTS message_deliveries_by_batch ON message_deliveries (batch_id);
        """,
        // Deliveries keyed by (message_id, recipient) alone, with no index by batch: a
        // send's commit (the last send's outcome and this one's intent) then writes one
        // page on SQLite (a `WITHOUT ROWID` table), not three, which halves what the
        // commit before each send costs. A batch's deliveries are looked up by their
        // key, its recipients (`deliveries`).
        """
        CREATE TABLE message_deliveries_keyed (
            message_id TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
            provider_message_id TEXT, error TEXT, batch_id TEXT, tagged_at \(d.time),
            PRIMARY KEY (message_id, recipient)
        )\(d.keyedTable);
        INSERT INTO message_deliveries_keyed (message_id, recipient, status, provider_message_id, error, batch_id, tagged_at)
            SELECT message_id, recipient, status, provider_message_id, error, batch_id, tagged_at FROM message_deliveries;
        DROP TABLE message_deliveries;
        ALTER TABLE message_deliveries_keyed RENAME TO message_deliveries;
        """,
    ] }

    struct Batch {
        let id: String
        let messageId: String
        let recipients: [String]
        /// Conditions (with their arguments) that match the batch's deliveries by their
        /// key, its message and recipients, up to `partSize` recipients each (deliveries
        /// have no index by batch; see the migrations). Made once per batch.
        let parts: [(sql: String, args: [AppValue])]

        init(id: String, messageId: String, recipients: [String]) {
            self.id = id; self.messageId = messageId; self.recipients = recipients
            parts = BatchesTable.parts(messageId: messageId, batchId: id, recipients[...])
        }
    }

    static let partSize = 500

    /// Conditions matching the deliveries of `recipients` (of batch `batchId`), by key.
    static func parts(messageId: String, batchId: String, _ recipients: ArraySlice<String>) -> [(sql: String, args: [AppValue])] {
        stride(from: recipients.startIndex, to: max(recipients.endIndex, recipients.startIndex + 1), by: partSize).map { start in
            let part = recipients[start..<min(start + partSize, recipients.endIndex)]
            let marks = part.isEmpty ? "NULL" : (0..<part.count).map { "?\($0 + 3)" }.joined(separator: ", ")
            return ("message_id = ?1 AND batch_id = ?2 AND recipient IN (\(marks))", [.text(messageId), .text(batchId)] + part.map { .text($0) })
        }
    }

    struct Message {
        var id: String
        var body: String
        var mediaURL: String?
        var channel: String
        var status: String
    }

    static func open(_ env: [String: String]) throws(HandlerError) -> any AppDatabase {
        let db = try AppDB.open(environment: env)
        try db.migrate("send-batches", migrations(db.dialect))
        return db
    }

    /// Claims a batch for `runId`: first one this run already holds (a slice of the run
    /// that died or stopped mid-batch), else the next pending one of a message not
    /// cancelled, or one whose lease ran out (its claimer died). A held batch of a
    /// message cancelled meanwhile is taken too: sending it closes it `cancelled` at its
    /// first check, so no batch stays `processing`. One transaction, and the
    /// update is conditional on the state just read, so two workers never hold one batch.
    /// `except`: a batch the run holds and is sending now (a claim ahead of its end).
    static func claim(_ db: any AppDatabase, runId: String, message: String?, nowMs: Int64, leaseMs: Int64,
                      except: String? = nil) throws(HandlerError) -> Batch? {
        let now = AppDB.timestamp(nowMs), until = AppDB.timestamp(nowMs + leaseMs)
        return try db.transaction { () throws(HandlerError) -> Batch? in
            // Each placeholder used (PostgreSQL types every one from the statement).
            var scope = "", args: [AppValue] = [.text(runId), .text(now)]
            if let message { args.append(.text(message)); scope += " AND b.message_id = ?\(args.count)" }
            if let except { args.append(.text(except)); scope += " AND b.id <> ?\(args.count)" }
            let row = try db.queryOne("""
                SELECT b.id FROM message_batches b JOIN messages m ON m.id = b.message_id
                WHERE (b.status = 'pending' AND m.status <> 'cancelled'\(scope)
                       OR b.status = 'processing' AND (b.claimed_by = ?1 OR b.lease_until < ?2)\(scope))
                ORDER BY CASE WHEN b.claimed_by = ?1 AND b.status = 'processing' THEN 0 ELSE 1 END, b.message_id, b.batch_number
                LIMIT 1
                """, args)
            guard let id = row?.string(0) else { return nil }
            let changed = try db.execute("""
                UPDATE message_batches SET status = 'processing', claimed_by = ?2, lease_until = ?4,
                    started_at = COALESCE(started_at, ?3)
                WHERE id = ?1 AND (status = 'pending' OR (status = 'processing' AND (claimed_by = ?2 OR lease_until < ?3)))
                """, [.text(id), .text(runId), .text(now), .text(until)])
            guard changed == 1 else { return nil }
            try db.execute("UPDATE messages SET status = 'sending' WHERE id = (SELECT message_id FROM message_batches WHERE id = ?1) AND status = 'pending'",
                           [.text(id)])
            return try load(db, id)
        }
    }

    static func load(_ db: any AppDatabase, _ id: String) throws(HandlerError) -> Batch? {
        guard let row = try db.queryOne("SELECT id, message_id, recipients FROM message_batches WHERE id = ?1", [.text(id)]) else { return nil }
        guard let text = row.string(2), let list = JSONValue.parse(Array(text.utf8)), case let .array(items) = list else {
            throw HandlerError("batch \(id): recipients is not a JSON array", hint: "store the batch's PSIDs as a JSON array of strings")
        }
        return Batch(id: id, messageId: row.string(1) ?? "", recipients: items.compactMap { $0.string ?? $0.integer.map(String.init) })
    }

    static func message(_ db: any AppDatabase, _ id: String) throws(HandlerError) -> Message? {
        try db.queryOne("SELECT id, body, media_url, channel, status FROM messages WHERE id = ?1", [.text(id)]).map {
            Message(id: $0.string(0) ?? id, body: $0.string(1) ?? "", mediaURL: $0.string(2), channel: $0.string(3) ?? "messenger",
                    status: $0.string(4) ?? "")
        }
    }

    /// Recipients of `batch` that already have an outcome (`sent`, `failed`, `unknown`):
    /// skipped when a batch is taken up again.
    static func settled(_ db: any AppDatabase, _ batch: Batch) throws(HandlerError) -> Set<String> {
        var settled = Set<String>()
        for (sql, args) in batch.parts {
            for row in try db.query("SELECT recipient FROM message_deliveries WHERE \(sql) AND status IN ('sent', 'failed', 'unknown')", args) {
                if let recipient = row.string(0) { settled.insert(recipient) }
            }
        }
        return settled
    }

    /// A batch's delivery counts, as `message_batches` keeps them.
    struct Counts: Equatable {
        var sent = 0, failed = 0, unknown = 0
    }

    /// The counts of `batch`'s deliveries (`unknown` counts those still `sending`).
    static func counts(_ db: any AppDatabase, _ batch: Batch) throws(HandlerError) -> Counts {
        try counts(db, batch.parts)
    }

    /// The counts of the deliveries `parts` match.
    static func counts(_ db: any AppDatabase, _ parts: [(sql: String, args: [AppValue])]) throws(HandlerError) -> Counts {
        var counts = Counts()
        for (sql, args) in parts {
            guard let row = try db.queryOne("""
                SELECT coalesce(sum(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0),
                       coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
                       coalesce(sum(CASE WHEN status IN ('unknown', 'sending') THEN 1 ELSE 0 END), 0)
                FROM message_deliveries WHERE \(sql)
                """, args) else { continue }
            counts.sent += row.int(0) ?? 0; counts.failed += row.int(1) ?? 0; counts.unknown += row.int(2) ?? 0
        }
        return counts
    }

    /// Progress: the batch's counts from its deliveries, its lease renewed, the message
    /// summarised (unless `summarise` is false), and (unless `window` is nil: kept as it is) its send window: `window`,
    /// the recipients the holder may send before its next synced checkpoint, written
    /// under `boot` (nil: no window; the holder syncs every commit). The holder writes a
    /// window with every commit synced, so it and every delivery row written before it
    /// are on disk; its sends until the next checkpoint commit without sync (they
    /// survive `kill -9`, not a power cut: see `recover`).
    /// False when the batch is no longer this run's (its lease ran out and another
    /// worker took it, or it was closed): stop sending it.
    @discardableResult
    static func progress(_ db: any AppDatabase, _ batch: Batch, runId: String, nowMs: Int64, leaseMs: Int64,
                         window: [String]? = [], boot: String? = nil, summarise: Bool = true) throws(HandlerError) -> Bool {
        try db.transaction { () throws(HandlerError) -> Bool in
            try recordProgress(db, batch, runId: runId, nowMs: nowMs, leaseMs: leaseMs, window: window, boot: boot, summarise: summarise)
        }
    }

    /// How progress counts a batch's deliveries: all of them, or only `recipients`,
    /// whose outcomes were written since the last count (they had none then), added to
    /// the counts the batch row has. A holder counts all at its first progress of a
    /// batch, then adds (10 lookups, not the batch's 100); the close counts all again.
    enum Recount {
        case all
        case added(ArraySlice<String>)
    }

    /// `progress` inside the caller's transaction (a send's intent commit).
    static func recordProgress(_ db: any AppDatabase, _ batch: Batch, runId: String, nowMs: Int64, leaseMs: Int64,
                               recount: Recount = .all, window: [String]?, boot: String?, summarise: Bool) throws(HandlerError) -> Bool {
        let held: Bool
        let counted: Counts, update: String
        switch recount {
        case .all:
            counted = try counts(db, batch)
            update = setCounts
        case let .added(recipients):
            counted = try counts(db, parts(messageId: batch.messageId, batchId: batch.id, recipients))
            update = "UPDATE message_batches SET sent_count = sent_count + ?3, failed_count = failed_count + ?4, unknown_count = unknown_count + ?5"
        }
        let args: [AppValue] = [.text(batch.id), .text(runId), .int(counted.sent), .int(counted.failed), .int(counted.unknown),
                                .text(AppDB.timestamp(nowMs + leaseMs))]
        if let window {
            held = try db.execute(update + ", lease_until = ?6, send_window = ?7, send_boot = ?8 WHERE id = ?1 AND claimed_by = ?2 AND status = 'processing'",
                                  args + [boot == nil || window.isEmpty ? .null : .text(JSONValue.array(window.map { .string($0) }).text),
                                          window.isEmpty ? .null : .string(boot)]) == 1
        } else {
            held = try db.execute(update + ", lease_until = ?6 WHERE id = ?1 AND claimed_by = ?2 AND status = 'processing'", args) == 1
        }
        if summarise { try Self.summarise(db, batch.messageId) }
        return held
    }

    /// A batch taken up after the machine restarted (its send window was written under
    /// another boot, or this one's is unknown): its holder's unsynced writes since its
    /// last progress may be lost, so a window recipient without an outcome may have been
    /// sent all the same. Each is recorded `unknown` (never resent; a person decides),
    /// and the window cleared. Under the same boot nothing was lost (a process's death
    /// loses no written commit): the window is left, and its recipients without a row
    /// were never sent. Returns the recipients it made `unknown`.
    static func recover(_ db: any AppDatabase, _ batch: Batch, boot: String?) throws(HandlerError) -> [String] {
        try db.transaction { () throws(HandlerError) -> [String] in
            guard let row = try db.queryOne("SELECT send_window, send_boot FROM message_batches WHERE id = ?1", [.text(batch.id)]),
                  let text = row.string(0), let was = row.string(1), was != boot else { return [] }
            guard let list = JSONValue.parse(Array(text.utf8)), case let .array(items) = list else {
                throw HandlerError("batch \(batch.id): send_window is not a JSON array", hint: "a handler's bug or a hand edit: set it to NULL")
            }
            var marked: [String] = []
            for recipient in items.compactMap(\.string) {
                let changed = try db.execute("""
                    INSERT INTO message_deliveries (message_id, recipient, status, batch_id, error)
                    VALUES (?1, ?2, 'unknown', ?3, ?4)
                    ON CONFLICT (message_id, recipient) DO UPDATE SET status = 'unknown', error = excluded.error
                    WHERE message_deliveries.status = 'sending'
                    """, [.text(batch.messageId), .text(recipient), .text(batch.id), .text(restartError)])
                if changed == 1 { marked.append(recipient) }
            }
            try db.execute("UPDATE message_batches SET send_window = NULL, send_boot = NULL WHERE id = ?1", [.text(batch.id)])
            return marked
        }
    }

    static let restartError = "the machine restarted while this send may have been in flight; not resent"

    /// Closes the batch `completed` (or `failed` when nothing of it was sent and some
    /// failed; `cancelled`) and summarises its message, in one transaction.
    static func close(_ db: any AppDatabase, _ batch: Batch, runId: String, nowMs: Int64, cancelled: Bool) throws(HandlerError) {
        try db.transaction { () throws(HandlerError) in
            let counted = try counts(db, batch)
            let status = cancelled ? "cancelled" : counted.sent == 0 && counted.failed > 0 ? "failed" : "completed"
            try db.execute(setCounts + """
                , lease_until = NULL, completed_at = ?6, send_window = NULL, send_boot = NULL, status = ?7, error_message = ?8
                WHERE id = ?1 AND claimed_by = ?2 AND status = 'processing'
                """, [.text(batch.id), .text(runId), .int(counted.sent), .int(counted.failed), .int(counted.unknown),
                      .text(AppDB.timestamp(nowMs)), .text(status), counted.failed > 0 ? .text("\(counted.failed) recipients failed") : .null])
            if cancelled {
                try db.execute("UPDATE message_batches SET status = 'cancelled', lease_until = NULL WHERE message_id = ?1 AND status = 'pending'",
                               [.text(batch.messageId)])
            }
            try summarise(db, batch.messageId)
        }
    }

    /// The batch's counts (`?3`, `?4`, `?5`) set; the caller adds its columns and `WHERE`.
    static let setCounts = "UPDATE message_batches SET sent_count = ?3, failed_count = ?4, unknown_count = ?5"

    /// Recounts `batch`'s deliveries into its row (a retry's outcomes), whoever holds it.
    static func recount(_ db: any AppDatabase, _ batch: Batch) throws(HandlerError) {
        let counted = try counts(db, batch)
        try db.execute("UPDATE message_batches SET sent_count = ?2, failed_count = ?3, unknown_count = ?4 WHERE id = ?1",
                       [.text(batch.id), .int(counted.sent), .int(counted.failed), .int(counted.unknown)])
    }

    /// The message's status and totals from its batches.
    static func summarise(_ db: any AppDatabase, _ message: String) throws(HandlerError) {
        try db.execute("""
            UPDATE messages SET
                sent_count = (SELECT COALESCE(sum(sent_count), 0) FROM message_batches WHERE message_id = ?1),
                failed_count = (SELECT COALESCE(sum(failed_count), 0) FROM message_batches WHERE message_id = ?1),
                unknown_count = (SELECT COALESCE(sum(unknown_count), 0) FROM message_batches WHERE message_id = ?1),
                status = CASE
                    WHEN status = 'cancelled' THEN 'cancelled'
                    WHEN EXISTS (SELECT 1 FROM message_batches WHERE message_id = ?1 AND status IN ('pending', 'processing')) THEN
                        CASE WHEN EXISTS (SELECT 1 FROM message_batches WHERE message_id = ?1 AND status <> 'pending') THEN 'sending' ELSE status END
                    WHEN NOT EXISTS (SELECT 1 FROM message_batches WHERE message_id = ?1 AND status <> 'failed') THEN 'failed'
                    ELSE 'completed' END
            WHERE id = ?1
            """, [.text(message)])
    }

    /// Whether any batch is left to claim (pending, or processing by this run or past its
    /// lease: of a cancelled message too, to be closed).
    static func more(_ db: any AppDatabase, runId: String, message: String?, nowMs: Int64) throws(HandlerError) -> Bool {
        let scope = message == nil ? "" : " AND b.message_id = ?3"
        let args: [AppValue] = [.text(runId), .text(AppDB.timestamp(nowMs))] + (message.map { [AppValue.text($0)] } ?? [])
        return try db.queryOne("""
            SELECT 1 FROM message_batches b JOIN messages m ON m.id = b.message_id
            WHERE (b.status = 'pending' AND m.status <> 'cancelled'\(scope)
                   OR b.status = 'processing' AND (b.claimed_by = ?1 OR b.lease_until < ?2)\(scope))
            LIMIT 1
            """, args) != nil
    }

    /// A message to `recipients`, split into batches of `batchSize`, each holding its list.
    static func create(_ db: any AppDatabase, id: String, body: String, mediaURL: String?, channel: String,
                       recipients: [String], batchSize: Int, nowMs: Int64) throws(HandlerError) {
        var seen = Set<String>()
        let unique = recipients.filter { seen.insert($0).inserted }
        let chunks = stride(from: 0, to: unique.count, by: batchSize).map { Array(unique[$0..<min($0 + batchSize, unique.count)]) }
        try db.transaction { () throws(HandlerError) in
            try db.execute("INSERT INTO messages (id, body, media_url, status, total_recipients, channel, created_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6)",
                           [.text(id), .text(body), .string(mediaURL), .int(unique.count), .text(channel), .text(AppDB.timestamp(nowMs))])
            for (k, chunk) in chunks.enumerated() {
                try db.execute("""
                    INSERT INTO message_batches (id, message_id, batch_number, total_batches, recipients, recipient_count, status)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')
                    """, [.text("\(id)_b\(String(format: "%04d", k + 1))"), .text(id), .int(k + 1), .int(chunks.count),
                          .text(JSONValue.array(chunk.map { .string($0) }).text), .int(chunk.count)])
            }
        }
    }
}
