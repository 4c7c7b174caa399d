/// The raw contents of a TZif file (RFC 8536): transitions, local time types, footer.
struct TZifFile {
    struct LocalType { var offset: Int32; var isDST: Bool }

    var transitionTimes: [Int64] = []
    var transitionTypes: [UInt8] = []
    var types: [LocalType] = []
    /// The POSIX TZ string of a version 2+ file (may be empty).
    var footer: String?

    init(_ bytes: [UInt8], name: String) throws(ZoneError) {
        var reader = ByteReader(bytes: bytes, zone: name)
        let v1 = try reader.header()
        if v1.version == 0 {
            try read(&reader, header: v1, timeSize: 4)
            return
        }
        // Skip the version 1 block; the 64-bit block after it is authoritative.
        try reader.skip(v1.timecnt * 5 + v1.typecnt * 6 + v1.charcnt
                        + v1.leapcnt * 8 + v1.isstdcnt + v1.isutcnt)
        let v2 = try reader.header()
        try read(&reader, header: v2, timeSize: 8)
        guard try reader.byte() == 0x0A else { throw reader.malformed("footer does not start with a newline") }
        var text: [UInt8] = []
        while true {
            let b = try reader.byte()
            if b == 0x0A { break }
            text.append(b)
        }
        footer = String(decoding: text, as: UTF8.self)
    }

    private mutating func read(_ r: inout ByteReader, header h: ByteReader.Header, timeSize: Int) throws(ZoneError) {
        transitionTimes.reserveCapacity(h.timecnt)
        for _ in 0..<h.timecnt {
            transitionTimes.append(timeSize == 8 ? try r.int64() : Int64(try r.int32()))
        }
        for _ in 0..<h.timecnt {
            let t = try r.byte()
            guard Int(t) < h.typecnt else { throw r.malformed("transition type \(t) out of range") }
            transitionTypes.append(t)
        }
        for _ in 0..<h.typecnt {
            let offset = try r.int32()
            let dst = try r.byte() != 0
            _ = try r.byte()  // abbreviation index
            types.append(LocalType(offset: offset, isDST: dst))
        }
        try r.skip(h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt)
        guard !types.isEmpty else { throw r.malformed("no local time types") }
    }
}

/// Reads big-endian integers from a byte array, failing cleanly at the end.
private struct ByteReader {
    struct Header { var version: UInt8; var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int }

    let bytes: [UInt8]
    let zone: String
    var at = 0

    func malformed(_ why: String) -> ZoneError {
        ZoneError(zone: zone, message: "time zone file for \(zone) is damaged: \(why)",
                  hint: "reinstall the tzdata package")
    }

    mutating func skip(_ n: Int) throws(ZoneError) {
        guard n >= 0, at + n <= bytes.count else { throw malformed("truncated") }
        at += n
    }

    mutating func byte() throws(ZoneError) -> UInt8 {
        guard at < bytes.count else { throw malformed("truncated") }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func int32() throws(ZoneError) -> Int32 {
        var v: UInt32 = 0
        for _ in 0..<4 { v = v << 8 | UInt32(try byte()) }
        return Int32(bitPattern: v)
    }

    mutating func int64() throws(ZoneError) -> Int64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(try byte()) }
        return Int64(bitPattern: v)
    }

    mutating func header() throws(ZoneError) -> Header {
        guard at + 44 <= bytes.count, Array(bytes[at..<at + 4]) == Array("TZif".utf8) else {
            throw malformed("not a TZif file")
        }
        at += 4
        let raw = try byte()
        let version: UInt8 = raw == 0 ? 0 : raw - 0x30
        try skip(15)
        var counts: [Int] = []
        for _ in 0..<6 {
            let c = try int32()
            guard c >= 0, c < 1_000_000 else { throw malformed("implausible count \(c)") }
            counts.append(Int(c))
        }
        return Header(version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2],
                      timecnt: counts[3], typecnt: counts[4], charcnt: counts[5])
    }
}
