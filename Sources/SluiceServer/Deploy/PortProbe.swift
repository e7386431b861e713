import SluiceCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether a TCP address can be bound here, checked before starting a node on it so that a port in
/// use reads as one clear line instead of a node dying with it in its log.
public enum PortProbe {
    /// nil when `address` can be bound (as a node binds it, with SO_REUSEADDR), else why not.
    public static func problem(binding address: HostPort) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(address.host, String(address.port), &hints, &list)
        guard resolved == 0, let info = list else {
            return "cannot resolve '\(address.host)': \(String(cString: gai_strerror(resolved)))"
        }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return "cannot open a socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            switch errno {
            case EADDRINUSE: return "\(address) is already in use by another process"
            case EADDRNOTAVAIL: return "\(address) is not an address of this machine"
            case EACCES: return "\(address) needs privileges (port below 1024?)"
            default: return "cannot bind \(address): \(String(cString: strerror(errno)))"
            }
        }
        return nil
    }

    /// Whether something accepts TCP connections on `address` (a process that is up and listening).
    public static func accepts(_ address: HostPort) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &list) == 0, let info = list else { return false }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }
}
