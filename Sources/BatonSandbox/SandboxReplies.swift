import BatonCrypto
import BatonJSON
import Foundation

/// What the sandbox's AI stand-ins answer: deterministic for a given model and prompt
/// (a test can assert on it), with word counts standing in for tokens. A prompt that
/// asks for JSON with `Respond with JSON: {"KEY"` gets an answer of that shape that a
/// handler can act on; any other prompt gets a short text reply.
///
/// | KEY          | answer |
/// |--------------|--------|
/// | `stories`    | `{"stories":[{"title","body"}…]}`, 2 to 5 stories |
/// | `report`     | `{"report":"…"}`, a report body of a few lines |
/// | `draft`      | `{"draft":"…"}`, a reply draft |
/// | `summary`    | `{"summary":"…"}` |
/// | `confidence` | `{"confidence":0.00-1.00,"hard_block":false,"reason":"…"}` |
/// | `revised`    | `{"revised":"…"}` |
/// | `context`    | `{"context":[…]}`, ids picked from `CONTEXT IDS: a,b,c` in the prompt |
///
/// A prompt line `SANDBOX CONFIDENCE: 0.42` pins the confidence (tests of thresholds).
enum SandboxReplies {
    static let marker = "Respond with JSON: {\""

    static func reply(model: String, prompt: [String]) -> (text: String, input: Int, output: Int) {
        let joined = prompt.joined(separator: "\n")
        let digest = Digest.sha256(Array((model + "\n" + joined).utf8))
        let words = joined.split(whereSeparator: \.isWhitespace).count
        let text = answer(joined, digest: digest) ?? "Sandbox reply \(Digest.hex(digest).prefix(12)) to a \(words)-word prompt."
        return (text, max(1, words), max(1, text.split(whereSeparator: \.isWhitespace).count))
    }

    static func answer(_ prompt: String, digest: [UInt8]) -> String? {
        guard let range = prompt.range(of: marker, options: .backwards) else { return nil }
        let key = String(prompt[range.upperBound...].prefix { $0 != "\"" })
        let tag = Digest.hex(digest).prefix(8)
        func json(_ o: [String: Any]) -> String {
            JSONValue(any: o).text
        }
        switch key {
        case "stories":
            let n = 2 + Int(digest[0] % 4)
            return json(["stories": (1...n).map { k in
                ["title": "Story \(k) (\(tag))",
                 "body": "As a user I want capability \(k) of \(tag) so that the epic's goal is met. Acceptance: it works end to end."]
            }])
        case "report":
            return json(["report": "Report \(tag)\n- Mentions: \(digest[1])\n- Sentiment: \(Int(digest[2]) * 100 / 255)% positive\n- Trend: \(digest[3] % 2 == 0 ? "up" : "flat")"])
        case "draft":
            return json(["draft": "Hi, thanks for getting back to us (\(tag)). Would a short call this week work?"])
        case "summary":
            return json(["summary": "Summary \(tag): the cards describe \(digest[4] % 9 + 2) related needs."])
        case "confidence":
            let pinned = prompt.split(separator: "\n").first { $0.hasPrefix("SANDBOX CONFIDENCE: ") }
                .flatMap { Double($0.dropFirst("SANDBOX CONFIDENCE: ".count)) }
            let value = pinned ?? Double(digest[5]) / 255
            return json(["confidence": (value * 100).rounded() / 100, "hard_block": false, "reason": "sandbox \(tag)"])
        case "revised":
            return json(["revised": "Revised draft \(tag): clearer, shorter, with one question."])
        case "context":
            let ids = prompt.split(separator: "\n").first { $0.hasPrefix("CONTEXT IDS: ") }
                .map { $0.dropFirst("CONTEXT IDS: ".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            return json(["context": Array(ids.prefix(3))])
        default:
            return json([key: "sandbox \(tag)"])
        }
    }
}
