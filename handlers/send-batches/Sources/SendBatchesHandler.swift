import BatonHandlerKit
import Foundation

/// `send-batches` (seed 004): sends a message to its recipients batch by batch. A slice
/// claims a batch (the one its run already holds, the next pending one, or one whose
/// lease ran out) with its run id, sends each recipient through `SendLedger` (intent in
/// `message_deliveries` before the call, outcome after, a recipient found `sending`
/// reported `unknown`, never resent) at `rate` sends a second, checks the message's
/// cancellation every 10 recipients, records progress (and renews its lease) every 10,
/// tags each recipient on success in the same statement as `sent`, and closes the batch
/// with its message summarised in one transaction. Several runs share one message: the
/// batch claim is conditional and a recipient's delivery row is unique. A rate limit
/// hands the recipient back and pauses the run (`retry_after_ms`); it fails nothing.
public struct SendBatchesHandler: SliceHandler {
    public init() {}

    public var commands: [String: HandlerCommand] {
        [
            "--seed": HandlerCommand("N [--batch_size 100] [--channel messenger]: a demo message to N recipients, in batches") { args, env in
                try BatchesCommands.seed(args, env)
            },
            "--stats": HandlerCommand("[--json]: each message's status, batches and totals") { args, env in
                try BatchesCommands.stats(args, env)
            },
        ]
    }

    /// The send window: recipients a slice may send before more of its commits reach
    /// the disk. A slice sending batches commits without sync (claim, each send's
    /// intent and outcome, progress, close): a commit survives `kill -9`, not a crash of
    /// the machine. That keeps at-most-once across both: SQLite's WAL comes back after a
    /// crash as a prefix of its commits, and every `checkpointEvery` recipients (and
    /// before the first of a batch) a checkpoint names the next `window` ones under this
    /// boot's id. The first checkpoint of a batch is committed synced; each later one is
    /// synced in the background (`AppDatabase.syncInBackground`), and the send at the
    /// next checkpoint waits for that sync, so whatever is sent is named by a window on
    /// disk (`window` >= 2 * `checkpointEvery`: the window synced at checkpoint c covers
    /// every send up to checkpoint c + 2 * `checkpointEvery`). A batch taken up under
    /// another boot records its window's recipients that have no outcome `unknown`
    /// (`recover`), never resends them. So after a power cut up to `window` recipients
    /// of each batch in flight are `unknown`; after `kill -9`, only the one in flight.
    static let window = 50

    /// How often a checkpoint names a new send window: a multiple of 10 (progress), at
    /// most half of `window`.
    static let checkpointEvery = 20

    struct Settings {
        var message: String?
        var leaseMs: Int64
        var intervalMs: Double
    }

    public func run(_ slice: Slice) throws -> SliceOutput {
        let rate = try slice.params.double("rate", default: 10, range: 0.01...10_000)
        let lease = try slice.params.duration("lease", default: .seconds(600))
        let settings = Settings(message: slice.params.string("message"),
                                leaseMs: Int64(lease.components.seconds) * 1000 + lease.components.attoseconds / 1_000_000_000_000_000,
                                intervalMs: 1000 / rate)
        let db = try slice.openAppDB()
        try db.migrate("send-batches", BatchesTable.migrations(db.dialect))
        var sender = try BatchSender(slice: slice, db: db, settings: settings)
        try db.setSyncEveryCommit(!sender.unsynced)
        if let retry = slice.input.retryItems {
            try sender.retry(retry)
        } else {
            while !sender.stopped, slice.shouldTakeItem(estimateMs: Int64(settings.intervalMs) + 300) {
                guard let batch = try sender.claim() else { break }
                sender.cursor.extra["batch"] = .string(batch.id)
                try sender.send(batch)
                if sender.batchDone { sender.cursor.extra["batch"] = nil; sender.cursor.after = batch.id }
            }
        }
        var out = sender.out
        out.cursor = sender.cursor
        out.cursor?.backoff = sender.backoff.multiplier
        let more = slice.input.retryItems == nil
            ? try BatchesTable.more(db, runId: slice.input.runId, message: settings.message, nowMs: slice.nowMs) : false
        out.hasMore = out.retryAfterMs != nil || sender.heldBatch || more || (slice.input.retryItems != nil && sender.stopped)
        out.message = "\(out.succeeded) sent, \(out.failed) failed or unknown, \(out.skipped) skipped"
        return out
    }
}
