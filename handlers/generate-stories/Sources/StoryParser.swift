import BatonHandlerKit

/// One story to store.
public struct DraftStory: Sendable, Equatable {
    public var title: String, body: String
    public init(title: String, body: String) { self.title = title; self.body = body }
}

/// Reads the model's answer strictly: `{"stories":[…]}` or a bare array, optionally in a
/// ```json fence. A story needs a non-empty `title` and a body (`body`, or `user_story` /
/// `userStory` with optional `acceptance_criteria`); others are dropped and counted.
/// No usable story is a failure, so the epic keeps the stories it had (the seed counted
/// an empty answer as success and wiped them).
public enum StoryParser {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ text: String, stopReason: String? = nil) -> Result<(stories: [DraftStory], dropped: Int), Failure> {
        var body = Substring(text).trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("```") {
            body = String(body.drop { $0 != "\n" }.dropFirst())
            if let end = body.range(of: "```", options: .backwards) { body = String(body[..<end.lowerBound]) }
        }
        let cut = stopReason == "length" || stopReason == "max_tokens" ? " (the answer was cut at max_tokens)" : ""
        guard let value = JSONValue.parse(Array(body.utf8)) else {
            return .failure(Failure(description: "the answer is not JSON\(cut)"))
        }
        let list: [JSONValue]
        switch value {
        case let .array(a): list = a
        case .object:
            guard case let .array(a)? = value["stories"] else {
                return .failure(Failure(description: "the answer has no \"stories\" array"))
            }
            list = a
        default:
            return .failure(Failure(description: "the answer is \(value.kind), not an object with \"stories\""))
        }
        var stories: [DraftStory] = []
        for item in list {
            let title = (item["title"]?.string ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            var text = (item["body"]?.string ?? item["user_story"]?.string ?? item["userStory"]?.string ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let criteria: [String] = {
                guard case let .array(a)? = item["acceptance_criteria"] ?? item["acceptanceCriteria"] else { return [] }
                return a.compactMap(\.string).filter { !$0.isEmpty }
            }()
            if !text.isEmpty, !criteria.isEmpty {
                text += "\n\nAcceptance criteria:\n" + criteria.map { "- " + $0 }.joined(separator: "\n")
            }
            if !title.isEmpty, !text.isEmpty { stories.append(DraftStory(title: title, body: text)) }
        }
        guard !stories.isEmpty else {
            return .failure(Failure(description: "the answer has no usable story (\(list.count) given, each needs a title and a body)\(cut)"))
        }
        return .success((stories, list.count - stories.count))
    }
}
