import Foundation

/// The subset of the OCI runtime spec (config.json) that a build step needs. Field names are the
/// spec's; optional fields that are nil are left out of the JSON.
struct RuntimeConfig: Encodable {
    var ociVersion = "1.0.2"
    var process: Process
    var root: Root
    var hostname: String
    var mounts: [Mount]
    var linux: Linux

    struct Process: Encodable {
        var terminal = false
        var user: User
        var args: [String]
        var env: [String]
        var cwd: String
        var capabilities: Capabilities
        var rlimits: [Rlimit]
        var noNewPrivileges = false
    }
    struct User: Encodable {
        var uid: UInt32
        var gid: UInt32
        var additionalGids: [UInt32]?
    }
    struct Capabilities: Encodable {
        var bounding: [String]
        var effective: [String]
        var permitted: [String]
        var inheritable: [String] = []
        var ambient: [String] = []
    }
    struct Rlimit: Encodable {
        var type: String
        var hard: UInt64
        var soft: UInt64
    }
    struct Root: Encodable {
        var path: String
        var readonly = false
    }
    struct Mount: Encodable {
        var destination: String
        var type: String
        var source: String
        var options: [String]
    }
    struct Linux: Encodable {
        var namespaces: [Namespace]
        var maskedPaths: [String]
        var readonlyPaths: [String]
        var resources: Resources?
    }
    struct Namespace: Encodable {
        var type: String
    }
    struct Resources: Encodable {
        var devices: [DeviceRule]
    }
    struct DeviceRule: Encodable {
        var allow: Bool
        var type: String?
        var access: String
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// Docker's defaults, from moby's oci/defaults.go and caps/defaults.go.
enum DockerDefaults {
    /// The 14 capabilities a Docker container gets.
    static let capabilities = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    static let maskedPaths = [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]

    static let readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys and the cgroup tree, as Docker mounts them.
    static let mounts: [RuntimeConfig.Mount] = [
        .init(destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        .init(destination: "/dev/pts", type: "devpts", source: "devpts",
              options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
        .init(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
        .init(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"]),
        .init(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
        .init(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    ]

    /// Deny device access except creating nodes (mknod), as Docker does; runc and crun add the
    /// usual allowed set (null, zero, full, random, urandom, tty, ptmx) themselves.
    static let devices: [RuntimeConfig.DeviceRule] = [
        .init(allow: false, type: nil, access: "rwm"),
        .init(allow: true, type: "c", access: "m"),
        .init(allow: true, type: "b", access: "m"),
    ]

    static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}
