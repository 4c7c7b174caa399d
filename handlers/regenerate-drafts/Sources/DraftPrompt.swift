import BatonHandlerKit
import Foundation

/// The one AI call per lead: its prompt (never logged) and reading the draft back.
enum DraftPrompt {
    static let system = "You write short, friendly reply drafts to sales leads. Plain text, no placeholders, no links you were not given."

    static func messages(_ item: DraftItem) -> [ChatMessage] {
        let limit = switch Channel(rawValue: item.key.channel) {
        case .sms?: "at most 320 characters"
        case .linkedin?: "at most 600 characters"
        default: "a few short paragraphs"
        }
        return [.system(system), .user("""
            Lead: \(item.key.lead)
            Workspace: \(item.key.workspace)
            Channel: \(item.key.channel)
            Sentiment: \(item.tag)
            Write a new \(item.key.channel) reply draft for this lead, \(limit).
            Respond with JSON: {"draft": "..."}
            """)]
    }

    /// The `draft` string of the answer's JSON object (also inside a code fence), or nil.
    static func draft(in text: String) -> String? {
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else { return nil }
        guard let value = JSONValue.parse(Array(text[open...close].utf8)), let draft = value["draft"]?.string else { return nil }
        let trimmed = draft.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}
