/// The rules of one IANA time zone, read from its TZif file.
///
/// Conversions follow Python's `zoneinfo` (PEP 495) exactly, because `cronsim`, the
/// reference for every fire time, runs on it: a local time carries a `fold` flag that
/// picks the earlier (`false`) or later (`true`) of two occurrences of a repeated time,
/// and a time inside a gap is read with the offset before the gap (`fold == false`) or
/// after it (`fold == true`). The POSIX TZ footer that covers times after the file's
/// last transition is expanded into explicit transitions up to `ZoneRules.lastYear`,
/// which answers the same as zoneinfo's rule evaluation and keeps lookups a binary
/// search.
public final class ZoneRules: Sendable, CustomStringConvertible {
    /// Rules past this year are not expanded; times after it use the last offset.
    public static let lastYear = 2400

    public let identifier: String
    /// UTC instants of transitions, ascending.
    let transitions: [Int64]
    /// The UTC offset (seconds) in force from each transition on.
    let offsets: [Int32]
    /// Each transition in local time, as zoneinfo's `_trans_local[fold]`.
    let localFold0: [Int64]
    let localFold1: [Int64]
    /// The offset before the first transition (the first standard-time type).
    let offsetBefore: Int32

    public var description: String { identifier }

    /// True when the zone has a single offset forever (UTC, Etc/GMT+5, …).
    public var isFixed: Bool { transitions.isEmpty }

    /// UTC, without reading any file.
    public static let utc = ZoneRules(identifier: "UTC", fixedOffset: 0)

    /// A zone with one offset and no transitions.
    public init(identifier: String, fixedOffset: Int32) {
        self.identifier = identifier
        transitions = []; offsets = []; localFold0 = []; localFold1 = []
        offsetBefore = fixedOffset
    }

    /// Parses a TZif file (RFC 8536, versions 1 to 4).
    /// - Throws: `ZoneError` when the data is not a well-formed TZif file.
    public init(identifier: String, tzif bytes: [UInt8]) throws(ZoneError) {
        self.identifier = identifier
        let file = try TZifFile(bytes, name: identifier)
        var trans = file.transitionTimes
        var offs = file.transitionTypes.map { file.types[Int($0)].offset }

        if let rule = file.footer, !rule.isEmpty {
            let posix = try PosixZoneRule(parsing: rule, zone: identifier)
            if let dst = posix.dst {
                let lastFile = trans.last ?? Int64.min
                let firstYear = trans.last.map { LocalFields(localSeconds: $0).year - 1 } ?? 1900
                for year in firstYear...Self.lastYear {
                    var pair = [
                        (posix.startUTC(year: year, dst: dst), dst.offset),
                        (posix.endUTC(year: year, dst: dst), posix.stdOffset),
                    ]
                    if pair[1].0 < pair[0].0 { pair.swapAt(0, 1) }
                    for (at, offset) in pair where at > lastFile {
                        if let last = trans.last, last == at {
                            offs[offs.count - 1] = offset  // zero-length period: the later one wins
                        } else if offs.last != offset {
                            trans.append(at); offs.append(offset)
                        }
                    }
                }
            } else if trans.isEmpty {
                offs = []
                self.transitions = []; self.offsets = []
                self.localFold0 = []; self.localFold1 = []
                self.offsetBefore = posix.stdOffset
                return
            }
        }

        let before = file.types.first(where: { !$0.isDST })?.offset
            ?? offs.first ?? file.types.first?.offset ?? 0
        if trans.isEmpty {
            self.transitions = []; self.offsets = []
            self.localFold0 = []; self.localFold1 = []
            self.offsetBefore = file.types.last?.offset ?? before
            return
        }
        // zoneinfo's _ts_to_local: fold 0 sees each transition at the larger of the
        // two offsets around it, fold 1 at the smaller.
        var l0 = trans, l1 = trans
        for i in trans.indices {
            let a = i == 0 ? (file.types.first?.offset ?? offs[0]) : offs[i - 1]
            let b = offs[i]
            l0[i] += Int64(max(a, b))
            l1[i] += Int64(min(a, b))
        }
        self.transitions = trans
        self.offsets = offs
        self.localFold0 = l0
        self.localFold1 = l1
        self.offsetBefore = before
    }

    /// The UTC offset that applies to a local time: zoneinfo's `utcoffset()`.
    @inline(__always)
    public func offset(local: Int64, fold: Bool) -> Int32 {
        if transitions.isEmpty { return offsetBefore }
        let table = fold ? localFold1 : localFold0
        if local < table[0] { return offsetBefore }
        return offsets[Self.bisectRight(table, local) - 1]
    }

    /// The UTC instant of a local time: zoneinfo's `astimezone(UTC)`.
    @inline(__always)
    public func utc(local: Int64, fold: Bool) -> Int64 {
        local - Int64(offset(local: local, fold: fold))
    }

    /// The local time and fold of a UTC instant: zoneinfo's `fromutc()`.
    @inline(__always)
    public func local(utc t: Int64) -> (local: Int64, fold: Bool) {
        let p = period(containing: t)
        return (t + Int64(p.offset), p.fold(at: t))
    }

    /// The offset at a UTC instant.
    public func offset(utc t: Int64) -> Int32 { period(containing: t).offset }

    /// True when a local time does not exist (it falls in a gap).
    public func isImaginary(local: Int64) -> Bool {
        let u = utc(local: local, fold: false)
        return self.local(utc: u).local != local
    }

    /// The stretch of UTC time around `t` with one offset.
    @inline(__always)
    func period(containing t: Int64) -> ZonePeriod {
        let n = transitions.count
        if n == 0 || t < transitions[0] {
            return ZonePeriod(start: Int64.min, end: n == 0 ? Int64.max : transitions[0],
                              offset: offsetBefore, foldSeconds: 0)
        }
        let idx = Self.bisectRight(transitions, t)
        let current = offsets[idx - 1]
        let previous = idx >= 2 ? offsets[idx - 2] : offsetBefore
        return ZonePeriod(start: transitions[idx - 1], end: idx < n ? transitions[idx] : Int64.max,
                          offset: current, foldSeconds: Int64(previous) - Int64(current))
    }

    @inline(__always)
    static func bisectRight(_ a: [Int64], _ x: Int64) -> Int {
        var lo = 0, hi = a.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if x < a[mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// A stretch of UTC time with one offset; the first `foldSeconds` of it (when the
/// clock went back) repeat local times that already happened, so they have fold 1.
struct ZonePeriod {
    var start: Int64, end: Int64, offset: Int32, foldSeconds: Int64

    @inline(__always)
    func fold(at t: Int64) -> Bool { foldSeconds > 0 && t < start + foldSeconds }
}

/// Why a zone could not be loaded.
public struct ZoneError: Error, Sendable, CustomStringConvertible {
    public var zone: String
    public var message: String
    public var hint: String?

    public init(zone: String, message: String, hint: String? = nil) {
        self.zone = zone; self.message = message; self.hint = hint
    }

    public var description: String { message }
}
