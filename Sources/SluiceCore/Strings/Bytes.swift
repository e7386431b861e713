#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast, non-cryptographic hash of a string's bytes, for in-memory tables (the wire encoder's
/// dictionary, group-by keys). Every user confirms a match byte for byte, so a collision (even
/// one a peer chose) costs time, never correctness. Not for routing: nothing promises it stays
/// the same across versions.
@inlinable
public func hashBytes(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    @inline(__always) func combine(_ h: UInt64, _ word: UInt64) -> UInt64 {
        let m = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
        return m ^ (m >> 32)
    }
    let n = bytes.count
    var h: UInt64 = 0x2545_F491_4F6C_DD1D ^ UInt64(truncatingIfNeeded: n)
    if n > 0, let p = bytes.baseAddress {
        if n >= 8 {
            var i = 0
            while i + 8 < n {
                h = combine(h, p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            // The last eight bytes, overlapping the previous word when the length is not a multiple of 8.
            h = combine(h, p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
        } else if n >= 4 {
            h = combine(h, UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) << 32
                | UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)))
        } else {
            h = combine(h, UInt64(p.load(fromByteOffset: 0, as: UInt8.self)) << 16
                | UInt64(p.load(fromByteOffset: n / 2, as: UInt8.self)) << 8
                | UInt64(p.load(fromByteOffset: n - 1, as: UInt8.self)))
        }
    }
    // A full avalanche (MurmurHash3's finaliser), so that low bits and high bits both depend on
    // every input byte: tables index with either.
    h ^= h >> 33
    h &*= 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h &*= 0xC4CE_B9FE_1A85_EC53
    return h ^ (h >> 33)
}

/// Calls `body` with a string's UTF-8 bytes, without copying a native string.
@inlinable
public func withUTF8Bytes<R>(_ s: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let r = s.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
    var copy = s
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

@inlinable
public func equalBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
    return memcmp(pa, pb, a.count) == 0
}

/// Byte order (which is code point order for UTF-8): negative, zero or positive.
@inlinable
public func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = min(a.count, b.count)
    if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
        let c = memcmp(pa, pb, common)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// Copies `count` bytes between regions that do not overlap. Short runs (most strings) are moved
/// with a few unaligned word loads and stores instead of a call to `memcpy`.
@inlinable @inline(__always)
public func copyBytes(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
    if count >= 8 {
        if count > 64 {
            destination.copyMemory(from: source, byteCount: count)
            return
        }
        var i = 0
        while i + 8 < count {
            destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        // The last word, overlapping the one before when the count is not a multiple of 8.
        destination.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
    } else if count >= 4 {
        let head = source.loadUnaligned(as: UInt32.self), tail = source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        destination.storeBytes(of: head, as: UInt32.self)
        destination.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
    } else if count > 0 {
        let first = source.load(as: UInt8.self), middle = source.load(fromByteOffset: count / 2, as: UInt8.self)
        let last = source.load(fromByteOffset: count - 1, as: UInt8.self)
        destination.storeBytes(of: first, as: UInt8.self)
        destination.storeBytes(of: middle, toByteOffset: count / 2, as: UInt8.self)
        destination.storeBytes(of: last, toByteOffset: count - 1, as: UInt8.self)
    }
}
