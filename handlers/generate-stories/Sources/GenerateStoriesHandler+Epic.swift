import BatonHandlerKit

extension GenerateStoriesHandler {
    /// What became of one epic.
    enum EpicResult {
        /// Done for this run (completed, failed or skipped); the cursor moves past it.
        case finished(ItemOutcome, stories: Int)
        /// Left pending for the next slice: a rate limit (pause this long), a retry wait
        /// that does not fit the budget, SIGTERM, or the budget's end.
        case stop(retryAfterMs: Int64?)
    }

    /// One epic: check it still belongs to its project, load its cards in id order, ask
    /// for stories (transient errors retried per the pacing profile), parse strictly, and
    /// replace its stories and close its row in one transaction.
    /// - Throws: `HandlerError` when every epic would fail the same way (key refused,
    ///   quota gone), or `APP_DB` fails; the row is back to `pending` first.
    func generate(_ row: RunQueue.Row, slice: Slice, db: any AppDatabase, queue: RunQueue, ai: AIModel,
                  state: inout State) throws(HandlerError) -> EpicResult {
        let now = { AppDB.timestamp(slice.clockMs) }
        let id = row.epicId
        func finish(_ status: String, _ error: String) throws(HandlerError) -> EpicResult {
            try queue.set(id, status: status, error: error, now: now())
            slice.log("event=epic epic=\(id) status=\(status)")
            return .finished(ItemOutcome(id: id, status: status == "skipped" ? .skipped : .failed, error: error), stories: 0)
        }
        guard let e = try db.queryOne("SELECT id, project_id, code, title, description, priority FROM epics WHERE id = ?1",
                                      [.text(id)]),
              e.string(1) == row.projectId else {
            return try finish("skipped", "the epic was deleted or moved out of project \(row.projectId ?? "?") after the run was queued")
        }
        let epic = Epic(id: id, projectId: e.string(1) ?? "", code: e.string(2) ?? "", title: e.string(3) ?? "",
                        description: e.string(4) ?? "", priority: e.string(5))
        let cards = try db.query("SELECT body FROM epic_cards WHERE epic_id = ?1 ORDER BY id", [.text(id)]).map { $0.string(0) ?? "" }
        guard !cards.isEmpty else { return try finish("skipped", "the epic has no cards") }
        try queue.set(id, status: "generating", now: now())
        let messages = StoryPrompt.messages(epic: epic, cards: cards)
        let pacing = state.pacing
        while true {
            let completion: Completion
            do {
                completion = try ai.complete(messages, maxTokens: pacing.maxTokensPerRequest)
            } catch {
                switch ProviderVerdict.of(error, backoff: &state.backoff, baseMs: pacing.delayBetweenEpicsMs) {
                case let .pause(wait):
                    try queue.set(id, status: "pending", now: now())
                    slice.log("event=rate_limited epic=\(id) wait_ms=\(wait) backoff=\(state.backoff.multiplier)")
                    return .stop(retryAfterMs: wait)
                case .stopTaking:
                    try queue.set(id, status: "pending", now: now())
                    return .stop(retryAfterMs: nil)
                case let .failSlice(message):
                    try queue.set(id, status: "pending", now: now())
                    throw HandlerError(message)
                case let .itemFailed(message):
                    if error.isTransient {
                        if case .timeout = error, slice.remainingMs < 1_000 || slice.stopRequested {
                            // Our budget ended the call, not the provider: try it next slice.
                            try queue.set(id, status: "pending", now: now())
                            return .stop(retryAfterMs: nil)
                        }
                        if state.attempts < pacing.maxRetries {
                            let wait = pacing.retryWaitMs(attempt: state.attempts)
                            state.attempts += 1
                            slice.log("event=retry epic=\(id) attempt=\(state.attempts) wait_ms=\(wait)")
                            if slice.shouldTakeItem(estimateMs: wait + state.callEstimateMs), slice.pause(ms: wait) { continue }
                            // The wait does not fit this slice (or SIGTERM): the run waits instead.
                            try queue.set(id, status: "pending", now: now())
                            return .stop(retryAfterMs: slice.stopRequested ? nil : wait)
                        }
                        return try finish("failed", "\(message) (after \(state.attempts + 1) calls)")
                    }
                    return try finish("failed", message)
                }
            }
            state.backoff.succeeded()
            switch StoryParser.parse(completion.text, stopReason: completion.stopReason) {
            case let .failure(why):
                return try finish("failed", why.description)
            case let .success((stories, dropped)):
                do throws(HandlerError) { try db.transaction { () throws(HandlerError) in
                    try db.execute("DELETE FROM stories WHERE epic_id = ?1", [.text(id)])
                    for (k, s) in stories.enumerated() {
                        try db.execute("INSERT INTO stories (id, epic_id, title, body) VALUES (?1, ?2, ?3, ?4)",
                                       [.text("\(id)-story-\(k + 1)"), .text(id), .text(s.title), .text(s.body)])
                    }
                    let closed = try db.execute("""
                        UPDATE story_runs SET status = 'completed', stories_created = ?3, error = NULL, completed_at = ?4
                        WHERE run_id = ?1 AND epic_id = ?2 AND status IN ('pending', 'generating')
                        """, [.text(queue.runId), .text(id), .int(stories.count), .text(now())])
                    // Someone else closed it meanwhile (a takeover): keep their result, roll ours back.
                    guard closed == 1 else { throw HandlerError("its row was closed by another slice") }
                } } catch {
                    // Rolled back: the epic keeps the stories it had.
                    return try finish("failed", "the stories could not be saved: \(error.message)")
                }
                slice.log("event=epic epic=\(id) status=completed stories=\(stories.count) dropped=\(dropped) "
                          + "summarised=\(StoryPrompt.needsSummary(cards)) cards=\(cards.count)")
                return .finished(ItemOutcome(id: id, status: .succeeded), stories: stories.count)
            }
        }
    }
}
