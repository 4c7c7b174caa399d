import BatonHandlerKit
import Foundation

/// Which leads' sentiment calls for a reply draft (seed 000, `shouldGenerateDraft`), as
/// one SQL condition so the count of eligible leads, the pages and a retry agree.
///
/// - Sentiment: the tag, trimmed and compared without case, is one of `positiveTags`.
///   A lead with no tag is `Neutral`: not eligible.
/// - Email only: the lead's address is not a bounce or no-reply sender, i.e. its local
///   part (before `@`, without case) is none of `bounceLocalParts` and does not start
///   with one of `bouncePrefixes`. Drafts on other channels ignore the address.
public enum DraftEligibility {
    public static let positiveTags = ["Interested", "Meeting Requested", "Information Requested", "Call Requested",
                                      "Positive", "Follow Up"]
    public static let bounceLocalParts = ["mailer-daemon", "mailer_daemon", "mail-daemon", "maildaemon", "postmaster",
                                          "bounce", "bounces", "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply"]
    /// VERP and list bounce addresses: `bounce-123@…`, `bounces+x@…`.
    public static let bouncePrefixes = ["bounce-", "bounce+", "bounces-", "bounces+"]

    /// Whether a lead with this tag gets a draft on `channel` (the Swift twin of `sql`,
    /// used by `--seed` to report what it made and by the tests).
    public static func allows(tag: String?, email: String?, channel: Channel) -> Bool {
        let t = (tag ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard positiveTags.contains(where: { $0.lowercased() == t }) else { return false }
        guard channel == .email, let email else { return true }
        let local = email.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "@", maxSplits: 1,
                                                                                   omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return !(bounceLocalParts.contains(local) || bouncePrefixes.contains { local.hasPrefix($0) })
    }

    /// The condition on columns `tag`, `email` and `ch`, its values appended to `args`.
    static func sql(_ args: inout SQLArgs) -> String {
        let tags = positiveTags.map { args.bind(.text($0.lowercased())) }.joined(separator: ", ")
        var bounce = bounceLocalParts.map { "lower(trim(email)) LIKE \(args.bind(.text(like($0) + "@%"))) ESCAPE '\\'" }
        bounce += bouncePrefixes.map { "lower(trim(email)) LIKE \(args.bind(.text(like($0) + "%@%"))) ESCAPE '\\'" }
        return "lower(trim(COALESCE(tag, ''))) IN (\(tags)) AND (ch <> 'email' OR email IS NULL OR NOT ("
            + bounce.joined(separator: " OR ") + "))"
    }

    /// A literal for LIKE: `_` and `%` match themselves.
    static func like(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "_", with: "\\_").replacingOccurrences(of: "%", with: "\\%")
    }
}

/// The channels a draft is for.
public enum Channel: String, CaseIterable, Sendable {
    case sms, email, linkedin
}

/// Positional arguments of a statement built piece by piece: `bind` returns `?N`.
struct SQLArgs {
    var values: [AppValue] = []
    mutating func bind(_ v: AppValue) -> String {
        values.append(v)
        return "?\(values.count)"
    }
}
