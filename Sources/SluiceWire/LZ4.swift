import CLZ4

/// liblz4's block format, on raw memory. Callers own the buffers and the limits.
enum LZ4 {
    /// Worst-case compressed size of `count` bytes.
    static func bound(_ count: Int) -> Int { Int(LZ4_compressBound(Int32(count))) }

    /// Compresses `source` into `destination`; returns the compressed size, or nil when it does
    /// not fit (the caller then sends the bytes raw).
    static func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer,
                         acceleration: Int32) -> Int? {
        guard let src = source.baseAddress, let dst = destination.baseAddress, source.count > 0 else { return nil }
        let n = LZ4_compress_fast(src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                  Int32(source.count), Int32(clamping: destination.count), acceleration)
        return n > 0 ? Int(n) : nil
    }

    /// Decompresses a block that must expand to exactly `destination.count` bytes.
    static func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Bool {
        guard let src = source.baseAddress, let dst = destination.baseAddress else {
            return source.isEmpty && destination.isEmpty
        }
        let n = LZ4_decompress_safe(src.assumingMemoryBound(to: CChar.self), dst.assumingMemoryBound(to: CChar.self),
                                    Int32(source.count), Int32(destination.count))
        return n == Int32(destination.count)
    }
}
