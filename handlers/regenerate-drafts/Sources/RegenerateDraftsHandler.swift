import BatonHandlerKit
import Foundation

/// `regenerate-drafts` (seed 000, HANDLERS.md): regenerates the AI reply drafts of
/// leads whose sentiment calls for one, per workspace and channel, `concurrency` calls
/// in flight at once. Unlike the seed's index cursor, the cursor is the key of the last
/// lead finished (workspace, channel, lead id), so leads deleted or added between slices
/// never make it skip or repeat one. See docs/handlers.md.
public struct RegenerateDraftsHandler: SliceHandler {
    public static let concurrencyVariable = "REGENERATE_ALL_DRAFTS_CONCURRENCY"
    static let pageSize = 500
    static let maxTokens = 400

    public init() {}

    public var commands: [String: HandlerCommand] { DraftCommands.all }

    /// The run's settings from its params (and `REGENERATE_ALL_DRAFTS_CONCURRENCY`).
    struct Settings {
        var scope: DraftScope
        var concurrency: Int
        /// Leads per slice at most (nil: as many as the budget allows).
        var perSlice: Int?

        init(_ slice: Slice) throws(HandlerError) {
            let p = slice.params
            let onlyPending = try p.bool("only_pending", default: true)
            let channel: Channel? = try p.string("channel") == nil ? nil : p.choice("channel", default: Channel.sms)
            guard onlyPending || channel != nil else {
                throw HandlerError("only_pending=false creates new drafts, so it needs one channel",
                                   hint: "add --param channel=sms (or email, linkedin)")
            }
            scope = DraftScope(workspace: p.string("workspace"), channels: channel.map { [$0] } ?? Channel.allCases, onlyPending: onlyPending)
            var fallback = 1
            if let text = slice.environment[RegenerateDraftsHandler.concurrencyVariable], !text.isEmpty {
                guard let n = Int(text), (1...64).contains(n) else {
                    throw HandlerError("\(RegenerateDraftsHandler.concurrencyVariable)='\(text)' is not a whole number from 1 to 64",
                                       hint: "set it to e.g. 4, or pass --param concurrency=4")
                }
                fallback = n
            }
            concurrency = try p.int("concurrency", default: fallback, range: 1...64)
            perSlice = p.string("per_slice") == nil ? nil : try p.int("per_slice", default: 100, range: 1...1_000_000)
        }
    }

    public func run(_ slice: Slice) throws -> SliceOutput {
        let settings = try Settings(slice)
        let db = try slice.openAppDB()
        try db.migrate("regenerate-drafts", DraftStore.migrations(db.dialect))
        let ai = try AIModel(environment: slice.environment, deadline: slice.deadline())
        var run = DraftRun(slice: slice, db: db, ai: ai, settings: settings)
        try run.start()
        if let retry = slice.input.retryItems { try run.retry(retry) } else { try run.walk() }
        try run.flush()
        return run.finish()
    }
}
