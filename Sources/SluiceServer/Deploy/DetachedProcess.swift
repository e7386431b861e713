import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starting and stopping node processes that outlive the command that started them.
public enum DetachedProcess {
    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Starts `executable` with `arguments` in a new session (so it survives its parent and the
    /// parent's terminal), standard input from /dev/null, standard output and error appended to `log`.
    /// It inherits no other descriptor: a pipe left open would keep a caller's `$(…)` waiting.
    public static func spawn(_ executable: String, _ arguments: [String], log: String) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        #if os(Linux)
        for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        // glibc's POSIX_SPAWN_SETSID (2.26+); Swift does not import the _GNU_SOURCE constant.
        let flags: Int32 = 0x80
        #else
        let flags = Int32(POSIX_SPAWN_SETSID | POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        posix_spawnattr_setflags(&attributes, Int16(truncatingIfNeeded: flags))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// True while `pid` runs. Reaps it first when it is our child, so an exited child is not a zombie.
    public static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        #if os(Linux)
        // A zombie someone else has yet to reap has stopped all the same.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")"), stat[close...].dropFirst(2).first == "Z" {
            return false
        }
        #endif
        return true
    }

    /// The exit status of our child `pid`, once it has exited (nil while it runs or if it is not ours).
    public static func exitStatus(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        return status
    }

    /// The process's command line, where the system tells (Linux); nil otherwise.
    public static func commandLine(_ pid: pid_t) -> [String]? {
        #if os(Linux)
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #else
        return nil
        #endif
    }

    /// SIGTERM, then SIGKILL once `grace` has passed. Returns how it ended.
    public enum Stop: Sendable, Equatable { case alreadyStopped, terminated, killed }

    public static func stop(_ pid: pid_t, grace: Duration) async -> Stop {
        guard isRunning(pid) else { return .alreadyStopped }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline {
            if !isRunning(pid) { return .terminated }
            try? await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        while isRunning(pid) { try? await Task.sleep(for: .milliseconds(10)) }
        return .killed
    }

    #if os(Linux)
    private static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }
    }
    #endif
}
