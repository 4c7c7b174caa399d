import BatonHandlerKit
import Foundation

/// One slice of the run: takes leads in key order, `concurrency` at a time, and keeps
/// the cursor at the last lead of an unbroken run of finished ones.
struct DraftRun {
    let slice: Slice
    let db: any AppDatabase
    let ai: AIModel
    let settings: RegenerateDraftsHandler.Settings
    var out: SliceOutput
    var backoff: Backoff
    /// The last key finished with every key before it finished too.
    var last: DraftKey?
    /// Keys past `last` already finished (a batch's later items when an earlier one was
    /// paused by a rate limit): carried in the cursor so the next slice does not redo them.
    var done: Set<DraftKey>
    var more = true
    /// Drafts answered and not yet written (see `flush`).
    var writes: [(DraftKey, String)] = []
    var lastFlushMs = Int64(Date().timeIntervalSince1970 * 1000)
    /// A retry run's cursor: the last of its ids finished.
    var retryCursor: String?
    var taken = 0
    /// The longest batch so far: the estimate for the next one.
    var estimateMs: Int64 = 1_000

    init(slice: Slice, db: any AppDatabase, ai: AIModel, settings: RegenerateDraftsHandler.Settings) {
        self.slice = slice; self.db = db; self.ai = ai; self.settings = settings
        out = SliceOutput(cursor: slice.cursor)
        backoff = Backoff(multiplier: slice.cursor.backoff)
        last = nil
        done = []
    }

    mutating func start() throws(HandlerError) {
        let c = slice.cursor
        if c.phase != "retry", c.after != nil || c.extra["key"] != nil {
            guard let key = DraftKey(c.extra["key"]) else {
                throw HandlerError("the cursor has no (workspace, channel, lead) key",
                                   hint: "resume with a cursor this handler returned, or start again without --cursor")
            }
            last = key
        }
        if c.phase == "retry" { retryCursor = c.after }
        if case let .array(list)? = c.extra["done"] { done = Set(list.compactMap { DraftKey($0) }) }
        if let retry = slice.input.retryItems { out.total = retry.count } else { out.total = try DraftStore.count(db, settings.scope) }
        slice.log("regenerate-drafts: \(out.total ?? 0) eligible, concurrency \(settings.concurrency), "
                  + "only_pending \(settings.scope.onlyPending), channels \(settings.scope.channels.map(\.rawValue).joined(separator: ","))"
                  + (last.map { ", after \($0.itemId)" } ?? ""))
    }

    /// A normal run: pages in key order after the cursor.
    mutating func walk() throws {
        while more {
            let page = try DraftStore.page(db, settings.scope, after: last, limit: RegenerateDraftsHandler.pageSize)
            if page.isEmpty { more = false; break }
            var i = 0
            while i < page.count {
                // Finished by an earlier slice past its cursor: step over it without a call.
                if done.contains(page[i].key) { advance(page[i].key); i += 1; continue }
                guard canTake() else { return }
                var batch: [DraftItem] = []
                var j = i
                while j < page.count, batch.count < settings.concurrency, taken + batch.count < (settings.perSlice ?? .max) {
                    if !done.contains(page[j].key) { batch.append(page[j]) }
                    j += 1
                }
                let finished = try regenerate(batch).union(done)
                // The cursor moves over the unbroken prefix of finished leads; those
                // finished after an unfinished one wait in `done`.
                var broken = false
                for item in page[i..<j] {
                    if !finished.contains(item.key) { broken = true } else if broken { done.insert(item.key) } else { advance(item.key) }
                }
                if broken { return }
                i = j
            }
        }
    }

    /// A retry run: exactly the listed items, in id order; those no longer eligible
    /// are reported skipped. Its cursor is the last id finished.
    mutating func retry(_ ids: [String]) throws {
        let after = slice.cursor.phase == "retry" ? slice.cursor.after : nil
        let todo = Array(Set(ids)).sorted().filter { after == nil || $0 > after! }
        var i = 0
        while i < todo.count {
            guard canTake() else { return }
            let chunk = Array(todo[i..<min(todo.count, i + settings.concurrency)])
            let found = try DraftStore.items(db, settings.scope, ids: chunk)
            let finished = try regenerate(chunk.compactMap { found[$0] })
            for id in chunk {
                if let item = found[id] {
                    guard finished.contains(item.key) else { return }
                } else {
                    out.record(ItemOutcome(id: id, status: .skipped, error: "no longer eligible"))
                }
                retryCursor = id
            }
            i += chunk.count
        }
        more = false
    }

    func canTake() -> Bool {
        if let cap = settings.perSlice, taken >= cap { return false }
        return slice.shouldTakeItem(estimateMs: estimateMs)
    }

    mutating func advance(_ key: DraftKey) {
        last = key
        done.remove(key)
    }

    /// One call per lead, all at once; returns the keys finished (regenerated, skipped
    /// or failed). A lead paused by a rate limit or left for lack of time is not finished.
    mutating func regenerate(_ batch: [DraftItem]) throws -> Set<DraftKey> {
        guard !batch.isEmpty else { return [] }
        taken += batch.count
        let started = Int64(Date().timeIntervalSince1970 * 1000)
        let results = ai.completeAll(batch.map(DraftPrompt.messages), maxTokens: RegenerateDraftsHandler.maxTokens)
        estimateMs = max(estimateMs, Int64(Date().timeIntervalSince1970 * 1000) - started)
        var finished: Set<DraftKey> = []
        var fatal: String?
        var paused = false
        // A batch with a rate limit in it does not reset the back-off, whatever its order.
        let limited = results.contains { if case .failure(.rateLimited) = $0 { true } else { false } }
        for (item, result) in zip(batch, results) {
            let id = item.key.itemId
            switch result {
            case let .success(completion):
                if !limited { backoff.succeeded() }
                finished.insert(item.key)
                guard let draft = DraftPrompt.draft(in: completion.text) else {
                    out.record(ItemOutcome(id: id, status: .failed, error: "the answer has no \"draft\" string"))
                    slice.log("\(id): failed: the answer has no draft")
                    continue
                }
                writes.append((item.key, draft))
            case let .failure(error):
                // Calls made together hit one rate limit: the back-off steps once per batch.
                if paused, case let .rateLimited(_, after) = error {
                    out.retryAfterMs = max(out.retryAfterMs ?? 0, after ?? 0)
                    continue
                }
                switch ProviderVerdict.of(error, backoff: &backoff, in: slice) {
                case let .itemFailed(why):
                    finished.insert(item.key)
                    out.record(ItemOutcome(id: id, status: .failed, error: why))
                    slice.log("\(id): failed: \(why)")
                case let .pause(ms):
                    paused = true
                    out.retryAfterMs = max(out.retryAfterMs ?? 0, ms)
                case .stopTaking:
                    break
                case let .failSlice(why):
                    fatal = why
                }
            }
        }
        if let fatal {
            try flush()
            throw HandlerError(fatal)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if writes.count >= 64 || now - lastFlushMs >= 250 { try flush() }
        if out.retryAfterMs != nil { slice.log("rate limited: pausing \(out.retryAfterMs!) ms") }
        return finished
    }

    /// Writes the drafts answered so far in one transaction (one commit for many drafts,
    /// not one each) and records their outcomes. Safe to hold back: the cursor only
    /// moves in the result, printed after the last flush, so a slice killed before it
    /// is redone from its old cursor (a draft written twice is acceptable, HANDLERS.md).
    mutating func flush() throws(HandlerError) {
        lastFlushMs = Int64(Date().timeIntervalSince1970 * 1000)
        guard !writes.isEmpty else { return }
        let at = AppDB.timestamp()
        let insert = !settings.scope.onlyPending
        let list = writes
        writes.removeAll()
        let written = try db.transaction { () throws(HandlerError) -> [Bool] in
            var w: [Bool] = []
            for (key, draft) in list { w.append(try DraftStore.write(db, key, content: draft, at: at, insert: insert)) }
            return w
        }
        for ((key, _), ok) in zip(list, written) {
            out.record(ok ? ItemOutcome(id: key.itemId, status: .succeeded)
                          : ItemOutcome(id: key.itemId, status: .skipped, error: "its pending draft was approved, sent or removed meanwhile"))
        }
    }

    /// The result: the cursor at the last finished key, the done set past it.
    mutating func finish() -> SliceOutput {
        var c = Cursor(backoff: backoff.multiplier)
        if slice.input.retryItems != nil {
            c.phase = "retry"
            c.after = retryCursor
        } else {
            if let last {
                c.after = last.lead
                c.extra["key"] = last.json
            }
            let ahead = done.filter { last == nil || $0 > last! }.sorted()
            if !ahead.isEmpty { c.extra["done"] = .array(ahead.map(\.json)) }
        }
        out.cursor = c
        out.hasMore = more
        out.usage = ai.usage
        out.message = "\(out.succeeded) regenerated, \(out.skipped) skipped, \(out.failed) errors; "
            + "\(out.processed) processed of \(out.total ?? 0) eligible"
        slice.log("regenerate-drafts: " + out.message! + (more ? "; more to do" : "; done"))
        return out
    }
}
