import BatonJSON
import BatonStore

extension RunText {
    /// Why a finished run ended as it did, in a few words; nil while it goes on.
    public static func endReason(_ run: RunRecord) -> String? {
        switch run.status {
        case .queued, .running: return nil
        case .succeeded: return run.counts.failed > 0 ? "done, \(run.counts.failed) failed within tolerate=" : "done"
        case .failed where run.failedOnItems:
            return "\(run.counts.failed) item\(run.counts.failed == 1 ? "" : "s") failed (more than tolerate= allows)"
        case .failed: return run.error ?? "failed"
        case .cancelled: return run.error ?? "cancelled"
        case .partial: return run.error ?? "stopped part done"
        }
    }

    /// A run's whole story, one shape for `baton show --json` and `GET /runs/RUN`:
    /// `json(run)`, its slices (each with its log's size), failed and unknown items
    /// (the first `itemCap` of each, if given; the totals count all), the runs that
    /// retried it, and its payload's size and top-level keys, never their values.
    public static func detail(_ run: RunRecord, slices: [SliceRecord], failed: [ItemRecord], unknown: [ItemRecord],
                              retries: [RunRecord], itemCap: Int? = nil, now: Int64 = nowMs()) -> [String: Any] {
        var doc = json(run, now: now)
        // `slices` is the list here; the count stays as `slices_done`.
        doc["slices_done"] = run.slicesDone
        doc["slices"] = slices.map { s -> [String: Any] in
            var o = json(s)
            o["log_bytes"] = s.log.utf8.count
            return o
        }
        func list(_ items: [ItemRecord]) -> [[String: Any]] {
            items.prefix(itemCap ?? items.count).map { i -> [String: Any] in
                var o: [String: Any] = ["id": i.itemId, "status": i.status, "slice": i.slice]
                if let e = i.error { o["error"] = e }
                return o
            }
        }
        doc["failed_items"] = list(failed)
        doc["unknown_items"] = list(unknown)
        doc["failed_items_total"] = failed.count
        doc["unknown_items_total"] = unknown.count
        doc["retried_by"] = retries.map(\.id)
        if let payload = run.payload {
            // Its size and top-level keys only: a payload may hold message text.
            var summary: [String: Any] = ["bytes": payload.utf8.count]
            if case let .object(fields)? = JSONValue.parse(Array(payload.utf8)) {
                summary["keys"] = fields.keys.sorted().prefix(20).map { key in
                    String(String.UnicodeScalarView(key.unicodeScalars.prefix(100).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? $0 : "?" }))
                }
            }
            doc["payload_summary"] = summary
        }
        return doc
    }
}
