import BatonHandlerKit

/// An epic as the prompt sees it.
public struct Epic: Sendable, Equatable {
    public var id: String, projectId: String, code: String, title: String, description: String
    public var priority: String?
    public init(id: String, projectId: String, code: String, title: String, description: String, priority: String?) {
        self.id = id; self.projectId = projectId; self.code = code; self.title = title; self.description = description
        self.priority = priority
    }
}

/// The story request for one epic. Cards go in whole up to 10 cards and 8,000
/// characters (seed §7.1's `MAX_CARDS_WITHOUT_SUMMARY` and `MAX_CONTEXT_CHARS`; the seed
/// declares the second and never checks it); past either, a summary replaces them. The
/// summary is a deterministic template like the seed's `summarizeCards` (no AI call, no
/// tokens, the same text every time): the card count and each card's first line, cut to
/// 160 characters, the whole capped at 8,000 characters, saying how many cards were left out.
public enum StoryPrompt {
    public static let maxCardsWithoutSummary = 10
    public static let maxContextChars = 8_000
    static let lineCap = 160

    public static let system = "You write agile user stories. Answer with JSON only."

    /// Whether `cards` (bodies, in id order) need the summary.
    public static func needsSummary(_ cards: [String]) -> Bool {
        cards.count > maxCardsWithoutSummary || cards.reduce(0) { $0 + $1.count } > maxContextChars
    }

    public static func summary(_ cards: [String]) -> String {
        var text = "This epic is informed by \(cards.count) use case cards covering:"
        for (i, card) in cards.enumerated() {
            let first = card.split(whereSeparator: \.isNewline).first.map { String($0.prefix(lineCap)) } ?? ""
            let line = "\n- " + first.trimmingCharacters(in: .whitespaces)
            let tail = "\n- (\(cards.count - i) more cards not shown)"
            guard text.count + line.count + tail.count <= maxContextChars else {
                text += tail
                break
            }
            text += line
        }
        return text
    }

    /// The cards block: every body in full, or the summary.
    public static func context(_ cards: [String]) -> String {
        if cards.isEmpty { return "No use case cards." }
        if needsSummary(cards) { return "Use case cards (summarised):\n" + summary(cards) }
        return "Use case cards:\n" + cards.enumerated().map { "Card \($0.offset + 1):\n\($0.element)" }.joined(separator: "\n\n")
    }

    public static func messages(epic: Epic, cards: [String]) -> [ChatMessage] {
        let user = """
            Write the user stories for this epic.
            Epic \(epic.code): \(epic.title)
            Priority: \(epic.priority ?? "unset")
            Description: \(epic.description)

            \(context(cards))

            Each story has a short title and a body: "As a <persona>, I want <capability>, so that <benefit>", \
            then its acceptance criteria.
            Respond with JSON: {"stories": [{"title": "...", "body": "..."}]}
            """
        return [.system(system), .user(user)]
    }
}
