import BatonHandlerKit
import Foundation

/// One draft's evaluation, bounded revision and decision (seed 003).
struct DraftDecision {
    let slice: Slice
    let db: any AppDatabase
    let ai: AIModel
    let threshold: Double
    let revisionKilled: Bool
    let retry: Bool
    var channels = DraftChannels()
    var sent = 0, queued = 0, revised = 0

    init(slice: Slice, db: any AppDatabase, ai: AIModel, threshold: Double, revisionKilled: Bool, retry: Bool) {
        self.slice = slice; self.db = db; self.ai = ai; self.threshold = threshold; self.revisionKilled = revisionKilled; self.retry = retry
    }

    struct Evaluation { var confidence: Double; var hardBlock: Bool }

    mutating func decide(_ draft: AutoSendStore.Draft) throws -> ItemOutcome {
        // A send already recorded decides before any AI call (a slice killed after it).
        switch try AutoSendStore.delivery(db, draft.id) {
        case "sent"?:
            try markSent(draft.id, confidence: nil)
            return ItemOutcome(id: draft.id, status: .skipped, error: "already sent")
        case "sending"?, "unknown"?:
            try db.execute("UPDATE auto_send_deliveries SET status = 'unknown' WHERE draft_id = ?1 AND status = 'sending'", [.text(draft.id)])
            if !retry { return ItemOutcome(id: draft.id, status: .unknown, error: "an earlier send's outcome is unknown; not resent") }
        case "failed"? where !retry:
            return ItemOutcome(id: draft.id, status: .skipped, error: "its send failed earlier; baton retry sends it again")
        default: break
        }
        let first = try evaluate(draft.content, draft)
        var decision = first.confidence
        var content = draft.content
        var revision: (confidence: Double, applied: Bool)?
        if first.confidence < threshold, !first.hardBlock, draft.revisionEnabled, !revisionKilled, claimRevision(draft.id) {
            let context = try selectContext(draft)
            let text = try revise(draft, context: context)
            let again = try evaluate(text, draft)
            let applied = again.confidence > first.confidence && !again.hardBlock
            revision = (again.confidence, applied)
            if applied { decision = again.confidence; content = text; revised += 1 }
        }
        try db.execute("""
            UPDATE ai_drafts SET auto_send_original_confidence = ?2, auto_send_revision_confidence = ?3,
                auto_send_revision_applied = ?4, content = ?5, auto_send_confidence = ?6 WHERE id = ?1
            """, [.text(draft.id), .real(first.confidence), revision.map { .real($0.confidence) } ?? .null,
                  .bool(revision?.applied ?? false), .text(content), .real(decision)])
        guard decision >= threshold, !first.hardBlock else {
            try db.execute("UPDATE ai_drafts SET status = 'needs_review', auto_send_action = ?2 WHERE id = ?1 AND status = 'pending'",
                           [.text(draft.id), .text(first.hardBlock ? "blocked" : "needs_review")])
            queued += 1
            return ItemOutcome(id: draft.id, status: .succeeded)
        }
        let row = SendLedger.Row(table: "auto_send_deliveries", key: [("draft_id", .text(draft.id))], providerId: "provider_message_id",
                                 error: "error", insert: true)
        let outcome = try SendLedger(db: db).send(row, from: retry ? ["failed", "unknown"] : []) { () throws(ProviderError) in
            try channels.send(draft, text: content, slice: slice)
        }
        switch outcome {
        case .sent, .alreadySent:
            try markSent(draft.id, confidence: decision)
            sent += 1
            return ItemOutcome(id: draft.id, status: .succeeded)
        case let .notSent(error):
            throw error
        default:
            return outcome.item(draft.id) ?? ItemOutcome(id: draft.id, status: .failed)
        }
    }

    func markSent(_ id: String, confidence: Double?) throws(HandlerError) {
        try db.execute("UPDATE ai_drafts SET status = 'sent', auto_send_action = 'sent', auto_send_confidence = COALESCE(?2, auto_send_confidence) WHERE id = ?1",
                       [.text(id), confidence.map { .real($0) } ?? .null])
    }

    /// The single revision attempt: only the write that stamps it revises. A write that
    /// fails for any reason means no revision (fail closed), logged by id.
    func claimRevision(_ id: String) -> Bool {
        do { return try AutoSendStore.claimRevision(db, id, nowMs: slice.nowMs) } catch {
            slice.log("event=revision_claim_failed draft=\(id)")
            return false
        }
    }

    func evaluate(_ text: String, _ draft: AutoSendStore.Draft) throws -> Evaluation {
        let c = try ai.complete([.system("You judge whether a sales reply draft can be sent without a human."),
                                 .user("Draft \(draft.id) on \(draft.channel):\n\(text)\nRespond with JSON: {\"confidence\": 0.0, \"hard_block\": false, \"reason\": \"...\"}")],
                                maxTokens: 200)
        guard let v = JSONValue.parse(Array(c.text.utf8)), let conf = v["confidence"]?.doubleValue,
              conf.isFinite else { throw ProviderError.badResponse(provider: ai.provider, field: "confidence is not a number") }
        return Evaluation(confidence: min(1, max(0, conf)), hardBlock: v["hard_block"]?.boolValue ?? false)
    }

    func selectContext(_ draft: AutoSendStore.Draft) throws -> [String] {
        let ids = try db.query("SELECT d.id FROM ai_drafts d JOIN leads l ON l.id = d.lead_id WHERE l.workspace_id = ?1 AND d.status = 'sent' ORDER BY d.id DESC LIMIT 8",
                               [.text(draft.workspace)]).compactMap { $0.string(0) }
        let c = try ai.complete([.user("Pick the sent drafts most useful as examples for draft \(draft.id).\nCONTEXT IDS: \(ids.joined(separator: ","))\nRespond with JSON: {\"context\": []}")],
                                maxTokens: 100)
        return JSONValue.parse(Array(c.text.utf8))?["context"]?.arrayValue?.compactMap(\.string) ?? []
    }

    func revise(_ draft: AutoSendStore.Draft, context: [String]) throws -> String {
        let c = try ai.complete([.system("You improve sales reply drafts: clearer, shorter, one question."),
                                 .user("Draft \(draft.id):\n\(draft.content)\nExamples: \(context.joined(separator: ","))\nRespond with JSON: {\"revised\": \"...\"}")],
                                maxTokens: 400)
        guard let text = JSONValue.parse(Array(c.text.utf8))?["revised"]?.string, !text.isEmpty else {
            throw ProviderError.badResponse(provider: ai.provider, field: "revised is not a non-empty string")
        }
        return text
    }
}

/// Sends a draft on its channel: `sms` through Twilio to the lead's phone, `email`
/// through SMTP to the lead's email. Other channels have no provider here.
struct DraftChannels {
    var twilio: TwilioClient?
    var smtp: SMTPClient?

    mutating func send(_ draft: AutoSendStore.Draft, text: String, slice: Slice) throws(ProviderError) -> Receipt {
        switch draft.channel {
        case "sms":
            if twilio == nil { twilio = try TwilioClient(environment: slice.environment, deadline: slice.deadline()) }
            return try twilio!.send(to: draft.phone ?? "", from: slice.environment["TWILIO_FROM"] ?? "+15550000000", body: text)
        case "email":
            if smtp == nil { smtp = try SMTPClient(environment: slice.environment, deadline: slice.deadline()) }
            return try smtp!.send(from: slice.environment["SMTP_FROM"] ?? "baton@localhost", to: [draft.email ?? ""],
                                  subject: slice.environment["SMTP_SUBJECT"] ?? "Re: your message", text: text)
        default:
            throw ProviderError.rejected(provider: draft.channel, status: 0, code: "no provider for channel \(draft.channel)")
        }
    }
}
