import BatonHandlerKit
import Foundation

/// One slice's sending: a batch's recipients in order, paced, through `SendLedger`.
struct BatchSender {
    let slice: Slice
    let db: any AppDatabase
    let settings: SendBatchesHandler.Settings
    let ledger: SendLedger
    var channels = Channels()
    var cursor: Cursor
    var out: SliceOutput
    var backoff: Backoff
    /// A rate limit, SIGTERM or the budget ended the slice.
    var stopped = false
    /// The last batch sent was closed (else this run still holds it).
    var batchDone = false
    var heldBatch = false
    var nextSendMs: Int64 = 0
    /// The last `tagged_at` text and its second: formatted once a second, not per send.
    var stamp: (second: Int64, text: String) = (-1, "")
    /// What stamps the send windows: this machine's boot on SQLite; nil on PostgreSQL,
    /// whose commits are all synchronous (`AppDatabase.unsyncedCommitEpoch`): no window.
    let boot: String?
    /// Commits between checkpoints are not synced (see `SendBatchesHandler.window`):
    /// sending batches (not a retry) with a boot id to stamp the windows with.
    var unsynced: Bool { boot != nil && slice.input.retryItems == nil }
    /// The next batch, claimed ahead of the current one's end: taken up, its first send
    /// window written and syncing in the background while the last recipients of the
    /// current one go out, so its first send need not wait for a sync.
    var ahead: Ahead?

    struct Ahead {
        let batch: BatchesTable.Batch
        /// Its recipients without an outcome, in order.
        let todo: [String]
    }

    init(slice: Slice, db: any AppDatabase, settings: SendBatchesHandler.Settings) throws(HandlerError) {
        self.slice = slice; self.db = db; self.settings = settings
        ledger = SendLedger(db: db, deferOutcomes: true)
        cursor = slice.cursor
        out = SliceOutput(cursor: slice.cursor)
        backoff = Backoff(multiplier: slice.cursor.backoff)
        boot = db.unsyncedCommitEpoch(environment: slice.environment)
    }

    /// The next batch to send: the one claimed ahead, else one claimed now.
    mutating func claim() throws(HandlerError) -> BatchesTable.Batch? {
        if let next = ahead?.batch { return next }
        return try BatchesTable.claim(db, runId: slice.input.runId, message: settings.message, nowMs: slice.nowMs, leaseMs: settings.leaseMs)
    }

    /// A batch taken up: a recipient a restart may have lost is recorded `unknown`
    /// (`recover`); returns those without an outcome, in order.
    mutating func takeUp(_ batch: BatchesTable.Batch) throws(HandlerError) -> [String] {
        for recipient in try BatchesTable.recover(db, batch, boot: boot) {
            out.record(ItemOutcome(id: "\(batch.messageId)/\(recipient)", status: .unknown, error: BatchesTable.restartError))
        }
        let settled = try BatchesTable.settled(db, batch)
        return batch.recipients.filter { !settled.contains($0) }
    }

    /// Claims the batch after `current` (see `ahead`), with its first send window
    /// written and synced in the background.
    mutating func claimAhead(after current: BatchesTable.Batch) throws(HandlerError) {
        guard ahead == nil, unsynced, !slice.stopRequested,
              let next = try BatchesTable.claim(db, runId: slice.input.runId, message: settings.message, nowMs: slice.nowMs,
                                                leaseMs: settings.leaseMs, except: current.id) else { return }
        let todo = try takeUp(next)
        try BatchesTable.progress(db, next, runId: slice.input.runId, nowMs: slice.nowMs, leaseMs: settings.leaseMs,
                                  window: Array(todo.prefix(SendBatchesHandler.window)), boot: boot, summarise: false)
        db.syncInBackground()
        ahead = Ahead(batch: next, todo: todo)
    }

    mutating func send(_ batch: BatchesTable.Batch) throws {
        batchDone = false
        heldBatch = true
        guard let message = try BatchesTable.message(db, batch.messageId) else {
            throw HandlerError("batch \(batch.id) names message \(batch.messageId), which does not exist")
        }
        // Claimed ahead: taken up then, and its first window already syncing.
        let early = ahead?.batch.id == batch.id ? ahead : nil
        ahead = nil
        let todo = try early?.todo ?? takeUp(batch)
        // A send's `sent` is written with the next one's intent (`deferOutcomes`), in
        // that commit before progress reads the counts, or by `flush()`.
        defer { try? ledger.flush() }
        let (db, slice, settings, boot) = (db, slice, settings, boot)
        // Recipients whose rows this slice inserted since the last progress (they had
        // none then): what the next progress adds to the batch's counts.
        var fresh: [String] = []
        let lastCheckpoint = (todo.count - 1) / SendBatchesHandler.checkpointEvery * SendBatchesHandler.checkpointEvery
        for (taken, recipient) in todo.enumerated() {
            guard try pace() else { stopped = true; break }
            let item = "\(batch.messageId)/\(recipient)"
            let row = SendLedger.Row(table: "message_deliveries", key: [("message_id", .text(batch.messageId)), ("recipient", .text(recipient))],
                                     providerId: "provider_message_id", error: "error", insert: true,
                                     onInsert: [("batch_id", .text(batch.id))],
                                     onSent: [("tagged_at", .text(taggedAt()))])
            // Every 10 recipients (and before the first), in this send's intent commit:
            // the message's cancellation checked, and progress (the batch's counts and
            // its lease renewed; the message is summarised at the batch's close). Every
            // `checkpointEvery` recipients (and before the first) a checkpoint: the
            // next `window` ones named as the send window (see `SendBatchesHandler.window`).
            var halt: Halt?
            let checkpoint = taken % SendBatchesHandler.checkpointEvery == 0
            let first: (() throws(HandlerError) -> Bool)? = taken % 10 != 0 ? nil : { () throws(HandlerError) -> Bool in
                if try BatchesTable.message(db, batch.messageId)?.status == "cancelled" { halt = .cancelled; return false }
                // A batch claimed ahead has its first window written already (nil: kept).
                let window = checkpoint && !(taken == 0 && early != nil)
                    ? Array(todo[taken..<min(taken + SendBatchesHandler.window, todo.count)]) : nil
                // All counted at the batch's first progress (the claim ahead's, if any),
                // then the rows sent since added.
                guard try BatchesTable.recordProgress(db, batch, runId: slice.input.runId, nowMs: slice.nowMs, leaseMs: settings.leaseMs,
                                                      recount: taken == 0 && early == nil ? .all : .added(fresh[...]),
                                                      window: window, boot: boot, summarise: false) else {
                    halt = .leaseLost; return false
                }
                return true
            }
            // A checkpoint's commit is synced in the background (holding no lock). The
            // first one's sync is waited for before this send; a later one's before the
            // next checkpoint's send, which waits for it first: either way the window
            // that names a send is on disk before it leaves.
            let committed: (() throws(HandlerError) -> Void)? = !(checkpoint && unsynced) ? nil : { () throws(HandlerError) in
                switch (taken == 0, early != nil) {
                case (true, true): try db.waitForSync()                          // synced since the claim ahead
                case (true, false): db.syncInBackground(); try db.waitForSync()  // the batch's first window
                case (false, _): try db.waitForSync(); db.syncInBackground()     // the last checkpoint's, then this one's
                }
            }
            let outcome = try ledger.send(row, from: [], first: first, committed: committed) { () throws(ProviderError) in
                try channels.send(message, to: recipient, slice: slice)
            }
            if first != nil { fresh.removeAll(keepingCapacity: true) }   // counted
            switch halt {
            case .cancelled?:
                try BatchesTable.close(db, batch, runId: slice.input.runId, nowMs: slice.nowMs, cancelled: true)
                if let next = ahead?.batch, next.messageId == batch.messageId {
                    try BatchesTable.close(db, next, runId: slice.input.runId, nowMs: slice.nowMs, cancelled: true)
                    ahead = nil
                }
                slice.log("event=cancelled message=\(batch.messageId) batch=\(batch.id)")
                batchDone = true; heldBatch = false
                return
            case .leaseLost?:
                slice.log("event=lease_lost batch=\(batch.id)")
                batchDone = true; heldBatch = false
                return
            case nil: break
            }
            if case let .notSent(error) = outcome {
                switch ProviderVerdict.of(error, backoff: &backoff, baseMs: 500) {
                case let .pause(ms):
                    out.retryAfterMs = ms
                    // Keep the batch through the pause.
                    try BatchesTable.progress(db, batch, runId: slice.input.runId, nowMs: slice.nowMs, leaseMs: settings.leaseMs + ms)
                case .stopTaking: break
                case let .failSlice(why): throw HandlerError(why)
                case let .itemFailed(why): out.record(ItemOutcome(id: item, status: .failed, error: why))
                }
                stopped = true
                break
            }
            switch outcome {
            case .sent: backoff.succeeded(); fresh.append(recipient)
            case .failed, .unknown(_?): fresh.append(recipient)
            default: break
            }
            if let done = outcome.item(item) { out.record(done) }
            // The next batch claimed after this one's last checkpoint: its sync is not
            // waited for before this batch's end (a checkpoint waits for every sync).
            if taken == lastCheckpoint, slice.shouldTakeItem(estimateMs: Int64(settings.intervalMs) * Int64(todo.count - taken) + 300) {
                try claimAhead(after: batch)
            }
        }
        try ledger.flush()
        if stopped || slice.stopRequested {
            try BatchesTable.progress(db, batch, runId: slice.input.runId, nowMs: slice.nowMs, leaseMs: settings.leaseMs)
            stopped = true
            return
        }
        try BatchesTable.close(db, batch, runId: slice.input.runId, nowMs: slice.nowMs, cancelled: false)
        batchDone = true; heldBatch = false
    }

    /// Why a batch stopped being sent before its end.
    enum Halt { case cancelled, leaseLost }

    /// Now as `tagged_at` text (to the second).
    mutating func taggedAt() -> String {
        let ms = slice.nowMs
        let second = ms / 1000
        if second != stamp.second { stamp = (second, AppDB.timestamp(ms)) }
        return stamp.text
    }

    /// Waits for the next send's turn at `rate`; false when the slice must stop first.
    /// A held-back outcome is written first when the wait is noticeable (at low rates),
    /// so a send's row does not sit in `sending` after it is done.
    mutating func pace() throws -> Bool {
        let now = slice.nowMs
        if nextSendMs > now + 5 { try ledger.flush() }
        if nextSendMs > now, !slice.pause(ms: nextSendMs - now) { return false }
        guard slice.shouldTakeItem(estimateMs: 300) else { return false }
        // No catching up after a slow send: the provider's allowed rate is never exceeded.
        nextSendMs = max(nextSendMs, slice.nowMs) + Int64(settings.intervalMs.rounded())
        return true
    }

    /// A `baton retry` run: exactly the listed `message/recipient` items, each from
    /// `failed` (and `unknown`, which the listing includes only with --include-unknown).
    mutating func retry(_ items: [String]) throws {
        var touched = Set<String>()
        for item in items {
            guard !stopped, slice.shouldTakeItem(estimateMs: Int64(settings.intervalMs) + 300) else { break }
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let message = try BatchesTable.message(db, parts[0]) else {
                out.record(ItemOutcome(id: item, status: .skipped, error: "no such message/recipient"))
                continue
            }
            guard try pace() else { break }
            let row = SendLedger.Row(table: "message_deliveries", key: [("message_id", .text(parts[0])), ("recipient", .text(parts[1]))],
                                     providerId: "provider_message_id", error: "error",
                                     onSent: [("tagged_at", .text(AppDB.timestamp(slice.nowMs)))])
            let outcome = try ledger.send(row, from: ["failed", "unknown"]) { () throws(ProviderError) in
                try channels.send(message, to: parts[1], slice: slice)
            }
            if case let .notSent(error) = outcome {
                if case let .pause(ms) = ProviderVerdict.of(error, backoff: &backoff) { out.retryAfterMs = ms }
                stopped = true
                break
            }
            if let done = outcome.item(item) { out.record(done) }
            touched.insert(parts[0])
        }
        try ledger.flush()
        // The batches' and messages' totals follow the deliveries.
        for message in touched {
            try db.transaction { () throws(HandlerError) in
                for row in try db.query("SELECT id FROM message_batches WHERE message_id = ?1", [.text(message)]) {
                    if let id = row.string(0), let batch = try BatchesTable.load(db, id) { try BatchesTable.recount(db, batch) }
                }
                try BatchesTable.summarise(db, message)
            }
        }
    }
}
