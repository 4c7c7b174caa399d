import BatonHandlerKit
import GenerateStories
import XCTest

/// The prompt, the summary rule and the answer parser (pure functions).
final class StoryPromptTests: XCTestCase {
    let epic = Epic(id: "e1", projectId: "p", code: "EP-1", title: "Checkout", description: "Pay", priority: "2")

    func testTenShortCardsGoInWholeAndAnEleventhBringsTheSummary() {
        let ten = (1...10).map { "Card line \($0)\nsecond line \($0)" }
        XCTAssertFalse(StoryPrompt.needsSummary(ten))
        XCTAssertTrue(StoryPrompt.context(ten).contains("second line 10"))
        let eleven = ten + ["Card line 11\nsecond line 11"]
        XCTAssertTrue(StoryPrompt.needsSummary(eleven))
        let context = StoryPrompt.context(eleven)
        XCTAssertTrue(context.contains("informed by 11 use case cards"))
        XCTAssertTrue(context.contains("- Card line 11"))
        XCTAssertFalse(context.contains("second line"), "the summary keeps first lines only")
    }

    func testMoreThan8000CharactersBringTheSummaryEvenWithFewCards() {
        let two = [String(repeating: "a", count: 4_001), String(repeating: "b", count: 4_000)]
        XCTAssertTrue(StoryPrompt.needsSummary(two))
        XCTAssertFalse(StoryPrompt.needsSummary([String(repeating: "a", count: 8_000)]))
    }

    func testTheSummaryIsCappedAndSaysHowManyCardsItLeftOut() {
        let many = (1...500).map { "Card \($0) " + String(repeating: "x", count: 300) }
        let s = StoryPrompt.summary(many)
        XCTAssertLessThanOrEqual(s.count, StoryPrompt.maxContextChars)
        XCTAssertTrue(s.contains("more cards not shown"))
        XCTAssertEqual(s, StoryPrompt.summary(many), "deterministic")
    }

    func testThePromptAsksForTheStoriesShapeLast() {
        let user = StoryPrompt.messages(epic: epic, cards: ["c"]).last!.content
        XCTAssertTrue(user.hasSuffix("Respond with JSON: {\"stories\": [{\"title\": \"...\", \"body\": \"...\"}]}"))
        XCTAssertTrue(user.contains("Epic EP-1: Checkout"))
    }

    func testTheParserTakesTheSandboxShapeFencesAndSeedSpellings() throws {
        let a = try StoryParser.parse(#"{"stories":[{"title":"A","body":"As a user…"},{"title":"","body":"x"}]}"#).get()
        XCTAssertEqual(a.stories, [DraftStory(title: "A", body: "As a user…")])
        XCTAssertEqual(a.dropped, 1)
        let b = try StoryParser.parse("```json\n[{\"title\":\"B\",\"user_story\":\"As a buyer\",\"acceptance_criteria\":[\"pays\"]}]\n```").get()
        XCTAssertEqual(b.stories.first?.body, "As a buyer\n\nAcceptance criteria:\n- pays")
    }

    func testTheParserRefusesBadJSONAndAnswersWithoutStories() {
        for bad in ["not json", #"{"stories":[]}"#, #"{"story":[{"title":"A","body":"B"}]}"#, #"{"stories":[{"title":"A"}]}"#, "42"] {
            if case .success = StoryParser.parse(bad) { XCTFail("accepted \(bad)") }
        }
        if case let .failure(f) = StoryParser.parse(#"{"stories":[{"ti"#, stopReason: "length") {
            XCTAssertTrue(f.description.contains("max_tokens"))
        } else { XCTFail("accepted a cut answer") }
    }

    func testTheProfilesAreTheSeeds() {
        XCTAssertEqual(Pacing.allCases.map(\.delayBetweenEpicsMs), [3_000, 1_000, 500])
        XCTAssertEqual(Pacing.allCases.map(\.maxTokensPerRequest), [2_000, 4_000, 4_000])
        XCTAssertEqual(Pacing.allCases.map(\.retryDelayMs), [10_000, 5_000, 3_000])
        XCTAssertEqual(Pacing.allCases.map(\.maxRetries), [3, 2, 2])
        XCTAssertEqual((0..<3).map { Pacing.safe.retryWaitMs(attempt: $0) }, [10_000, 20_000, 40_000])
    }
}
