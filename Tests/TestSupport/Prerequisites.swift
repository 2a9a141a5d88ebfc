import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a test needs from the machine that the machine may lack: root, an installed tool, the
/// built `slipway`, data under `../shared`. Tests state these as traits —
/// `@Test(.requires(.root, .tool("runc")))` — so a missing one shows as a skipped test with the
/// reason instead of an early return that passes; `scripts/test.sh` fails in CI when anything was
/// skipped. Every check is a cheap look at the file system (no child process); things a test
/// can build itself (the base-image fixtures of scripts/fixtures.sh) are not prerequisites: the
/// test builds them, and a failure to build is a test failure.
public struct Prerequisite: Sendable {
    /// Whether the machine has it.
    public let isMet: Bool
    /// What is missing, for the skip message ("runc is not installed (apt-get install runc)").
    public let missing: String

    public init(isMet: Bool, missing: String) {
        self.isMet = isMet
        self.missing = missing
    }

    /// The tests run as root (overlayfs mounts, runc, chown).
    public static let root = Prerequisite(isMet: Host.isRoot, missing: "needs root")

    /// An executable on PATH (or in /usr/sbin, /sbin), with the Debian package that installs it.
    public static func tool(_ name: String, package: String? = nil) -> Prerequisite {
        Prerequisite(isMet: Host.executable(name) != nil,
                     missing: "\(name) is not installed (apt-get install \(package ?? name))")
    }

    /// An executable at exactly `path` (for tools the tests start by absolute path).
    public static func executable(at path: String, package: String) -> Prerequisite {
        Prerequisite(isMet: FileManager.default.isExecutableFile(atPath: path),
                     missing: "\(path) is not installed (apt-get install \(package))")
    }

    public static let runc = tool("runc")
    public static let crun = tool("crun")
    public static let busybox = tool("busybox", package: "busybox-static")
    public static let skopeo = tool("skopeo")
    public static let shellcheck = tool("shellcheck")
    public static let umoci = tool("umoci")
    /// Debian base-image fixtures (scripts/fixtures.sh debian*).
    public static let mmdebstrap = tool("mmdebstrap")
    public static let python3 = executable(at: "/usr/bin/python3", package: "python3")
    public static let git = executable(at: "/usr/bin/git", package: "git")
    public static let curl = executable(at: "/usr/bin/curl", package: "curl")
    public static let dockerRegistry = executable(at: "/usr/bin/docker-registry", package: "docker-registry")
    public static let openssl = executable(at: "/usr/bin/openssl", package: "openssl")
    public static let htpasswd = executable(at: "/usr/bin/htpasswd", package: "apache2-utils")
    /// util-linux's `script` (a pseudo-terminal for progress tests).
    public static let script = executable(at: "/usr/bin/script", package: "bsdutils")
    public static let chromium = Prerequisite(isMet: Host.chromium != nil,
                                              missing: "chromium is not installed (apt-get install chromium)")

    /// QEMU for `cpu` (`aarch64`) registered in binfmt_misc, enabled, with the F flag (so it runs
    /// inside any container's root): what an emulated RUN needs. scripts/setup.sh installs
    /// qemu-user-static and registers qemu-aarch64 when it is not registered yet.
    public static func binfmt(_ cpu: String) -> Prerequisite {
        let text = (try? String(contentsOfFile: "/proc/sys/fs/binfmt_misc/qemu-" + cpu, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n")
        let isMet = lines.first == "enabled" && lines.contains { $0.hasPrefix("flags:") && $0.contains("F") }
        return Prerequisite(isMet: isMet, missing: "qemu-\(cpu) is not registered in binfmt_misc with the F flag "
                            + "(scripts/setup.sh: apt-get install qemu-user-static binfmt-support, then register /usr/lib/binfmt.d/qemu-\(cpu).conf)")
    }

    /// `.build/debug/slipway` of this checkout (scripts/test.sh builds it before `swift test`).
    public static let slipwayBinary = Prerequisite(
        isMet: FileManager.default.isExecutableFile(atPath: Host.slipwayBinary),
        missing: "\(Host.slipwayBinary) is not built (run `swift build` first)")

    /// `../shared/<sub>` beside the package (see `Host.shared`), optionally with a file in it.
    public static func shared(_ sub: String, containing file: String? = nil) -> Prerequisite {
        present(Host.shared(sub), file, "../shared/" + sub)
    }

    /// `../shared/conformance/<sub>` (or `$SLIPWAY_CONFORMANCE/<sub>`), optionally with a file in it.
    public static func conformance(_ sub: String, containing file: String? = nil) -> Prerequisite {
        present(Host.conformance(sub), file, (ProcessInfo.processInfo.environment["SLIPWAY_CONFORMANCE"] ?? "../shared/conformance") + "/" + sub)
    }

    private static func present(_ dir: String?, _ file: String?, _ name: String) -> Prerequisite {
        let isMet = dir.map { dir in file.map { FileManager.default.fileExists(atPath: dir + "/" + $0) } ?? true } ?? false
        return Prerequisite(isMet: isMet, missing: name + (file.map { "/" + $0 } ?? "") + " is absent")
    }
}

/// Facts about this machine and checkout, each computed once.
public enum Host {
    public static let isRoot: Bool = geteuid() == 0

    /// The package root (this file is Tests/TestSupport/Prerequisites.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Where `swift build` puts the debug `slipway`.
    public static let slipwayBinary = packageRoot + "/.build/debug/slipway"

    /// The first executable `name` on PATH or in the sbin directories (not on a user's PATH
    /// under sudo), or nil.
    public static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return dirs.lazy.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Headless Chromium (Debian's `chromium`, or `chromium-browser` elsewhere).
    public static let chromium: String? = executable("chromium") ?? executable("chromium-browser")

    /// `../shared/<sub>` beside the package root, or nil when absent. A worktree one level deeper
    /// (/work/wt/<name>) finds it one level further up.
    public static func shared(_ sub: String) -> String? {
        let parent = URL(fileURLWithPath: packageRoot).deletingLastPathComponent()
        for base in [parent, parent.deletingLastPathComponent()] {
            let url = base.appendingPathComponent("shared/" + sub)
            if FileManager.default.fileExists(atPath: url.path) { return url.path }
        }
        return nil
    }

    /// `../shared/conformance/<sub>`, or `$SLIPWAY_CONFORMANCE/<sub>` when that is set (a checkout
    /// that is not beside shared/), or nil when absent.
    public static func conformance(_ sub: String) -> String? {
        if let base = ProcessInfo.processInfo.environment["SLIPWAY_CONFORMANCE"] {
            let dir = base + "/" + sub
            return FileManager.default.fileExists(atPath: dir) ? dir : nil
        }
        return shared("conformance/" + sub)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test (or every test of the suite) only when the machine has all of
    /// `prerequisites`; otherwise it is reported skipped, naming what is missing.
    public static func requires(_ prerequisites: Prerequisite..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        requires(prerequisites, sourceLocation: sourceLocation)
    }

    public static func requires(_ prerequisites: [Prerequisite], sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        let missing = prerequisites.filter { !$0.isMet }.map(\.missing)
        return .enabled(if: missing.isEmpty, missing.isEmpty ? nil : Comment(rawValue: missing.joined(separator: "; ")),
                        sourceLocation: sourceLocation)
    }
}
