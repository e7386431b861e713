#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable run of bytes with value semantics (copy on write). Unlike `[UInt8]`, appending
/// raw bytes is one capacity check and one `memcpy`, and a caller can reserve room and fill it
/// in place: string columns append millions of short strings per second.
public struct ByteArena: @unchecked Sendable {
    @usableFromInline
    final class Storage {
        // Constants (growth makes a new Storage): a class's `var` would cost a dynamic
        // exclusivity check on every access.
        @usableFromInline let pointer: UnsafeMutableRawPointer
        @usableFromInline let capacity: Int

        @usableFromInline
        init(capacity: Int) {
            self.capacity = capacity
            pointer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 8)
        }

        deinit { pointer.deallocate() }
    }

    @usableFromInline var storage: Storage?
    @usableFromInline var _count = 0

    public init() {}

    @inlinable public var count: Int { _count }

    @inlinable public var capacity: Int { storage?.capacity ?? 0 }

    /// The bytes, valid while the arena is not mutated.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage?.pointer, count: _count))
    }

    public mutating func reserveCapacity(_ n: Int) {
        if n > capacity {
            // Geometric once there is content, so repeated reservations stay linear overall.
            reallocate(_count > 0 ? max(n, 2 * capacity) : n)
        } else if storage != nil && !isKnownUniquelyReferenced(&storage) {
            reallocate(capacity)
        }
    }

    /// Makes room for `n` more bytes and returns where they go; the caller must initialise them.
    @inlinable
    public mutating func appendUninitialized(_ n: Int) -> UnsafeMutableRawPointer {
        let needed = count + n
        if storage == nil || needed > storage!.capacity || !isKnownUniquelyReferenced(&storage) {
            reallocate(max(needed, capacity < 64 ? 64 : capacity * 2))
        }
        let at = storage!.pointer + count
        _count = needed
        return at
    }

    @inlinable
    public mutating func append(_ raw: UnsafeRawBufferPointer) {
        let n = raw.count
        guard n > 0 else { return }
        let at = appendUninitialized(n)
        copyBytes(to: at, from: raw.baseAddress!, count: n)
    }

    /// Empties the arena; keeps its storage when it is not shared.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        if !keepingCapacity || (storage != nil && !isKnownUniquelyReferenced(&storage)) { storage = nil }
        _count = 0
    }

    /// Drops the first `n` bytes.
    public mutating func removeFirst(_ n: Int) {
        removeSubrange(0..<n)
    }

    public mutating func removeSubrange(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside the arena")
        guard !range.isEmpty else { return }
        if !isKnownUniquelyReferenced(&storage) { reallocate(capacity) }
        let p = storage!.pointer
        memmove(p + range.lowerBound, p + range.upperBound, count - range.upperBound)
        _count -= range.count
    }

    @usableFromInline
    mutating func reallocate(_ capacity: Int) {
        let fresh = Storage(capacity: capacity)
        if let storage, count > 0 { fresh.pointer.copyMemory(from: storage.pointer, byteCount: count) }
        storage = fresh
    }
}
