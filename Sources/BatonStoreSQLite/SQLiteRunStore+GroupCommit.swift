import BatonStore
import Synchronization

/// Group commit, inside this backend: slice commits that arrive while the store's
/// thread is busy (several drivers finishing slices at once) are written in ONE
/// transaction, each in a savepoint of its own, so they share one fsync. Each keeps its
/// own answer: a commit refused (`.fenced`, `.conflict`) rolls back alone; if the
/// shared COMMIT fails, every commit of the group gets that failure (none was written).
///
/// Order is kept: a write queued without waiting (`performLater`) closes the group
/// being gathered, so no commit queued after it runs before it.
final class CommitGroups: Sendable {
    struct Op: Sendable {
        let body: @Sendable (SQLiteRunTables) throws(StoreError) -> RunRecord
        let done: CheckedContinuation<Result<RunRecord, StoreError>, Never>
    }

    private struct State {
        var batches: [[Op]] = []
        /// The last batch still takes commits (its flush has not run yet).
        var open = false
    }

    private let state = Mutex(State())

    /// Adds `op`; true when it starts a new batch, whose flush the caller must queue.
    func add(_ op: Op) -> Bool {
        state.withLock { s in
            if s.open, !s.batches.isEmpty {
                s.batches[s.batches.count - 1].append(op)
                return false
            }
            s.batches.append([op])
            s.open = true
            return true
        }
    }

    /// Later commits go to a batch of their own, flushed after what is queued now.
    func close() { state.withLock { $0.open = false } }

    /// The oldest batch, to flush now.
    func next() -> [Op] {
        state.withLock { s in
            guard !s.batches.isEmpty else { return [] }
            let batch = s.batches.removeFirst()
            if s.batches.isEmpty { s.open = false }
            return batch
        }
    }
}

extension SQLiteRunStore {
    /// Runs `body` (a slice commit) in the next group commit and hands back its answer.
    func performGrouped(_ body: @escaping @Sendable (SQLiteRunTables) throws(StoreError) -> RunRecord)
        async throws(StoreError) -> RunRecord {
        let groups = self.groups
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<RunRecord, StoreError>, Never>) in
            if groups.add(CommitGroups.Op(body: body, done: c)) { queueFlush(groups) }
        }
        return try result.get()
    }

    static func flush(_ ops: [CommitGroups.Op], _ tables: SQLiteRunTables) {
        if ops.count == 1 {
            let op = ops[0]
            op.done.resume(returning: Result { () throws(StoreError) in try op.body(tables) })
            return
        }
        let answers = Result { () throws(StoreError) -> [Result<RunRecord, StoreError>] in
            try tables.db.transaction { () throws(StoreError) in
                ops.map { op in Result { () throws(StoreError) in try op.body(tables) } }
            }
        }
        switch answers {
        case let .success(each): for (op, answer) in zip(ops, each) { op.done.resume(returning: answer) }
        case let .failure(error): for op in ops { op.done.resume(returning: .failure(error)) }
        }
    }
}
