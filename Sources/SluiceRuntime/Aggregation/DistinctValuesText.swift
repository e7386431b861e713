import SluiceCore

/// A `distinctCount` cell's set of values as one text column of a stored aggregation: the
/// snapshot encoding of the values, in hex. Exact for every type, and equal sets read equal.
enum DistinctValuesText {
    /// The values sorted by their encoding, so that equal sets write equal bytes.
    static func canonicalOrder(_ set: Set<Value>) -> [Value] {
        let encoded = set.map { v -> (bytes: [UInt8], value: Value) in
            var one = StateWriter()
            one.write(v)
            return (one.bytes, v)
        }
        return encoded.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }.map(\.value)
    }

    static func encode(_ set: Set<Value>) -> String {
        var w = StateWriter()
        w.write(canonicalOrder(set))
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(w.bytes.count * 2)
        for b in w.bytes {
            text.append(digits[Int(b >> 4)])
            text.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: String) -> Set<Value>? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        var r = StateReader(bytes)
        guard let values = try? r.readValues(), r.isAtEnd else { return nil }
        return Set(values)
    }
}
