import Foundation
import OCI
import Testing
import TestSupport
@testable import Build

/// `Emulation`: which platforms need QEMU, and what binfmt_misc must hold for them. Each test
/// reads a binfmt_misc directory of its own (never the machine's).
@Suite("Emulation: binfmt_misc lookups")
struct EmulationTests {
    let tree = TempTree("binfmt")

    func binfmt(_ entries: [String: String], register: Bool = true) throws -> String {
        let dir = tree.p(UUID().uuidString)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if register { try "".write(toFile: dir + "/register", atomically: true, encoding: .utf8) }
        for (name, text) in entries { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }

    let arm64 = Platform(architecture: "arm64")
    let amd64 = Platform(architecture: "amd64")

    @Test("native: the same CPU, or 386 on amd64; QEMU's names for OCI's")
    func native() {
        #expect(Emulation.isNative(amd64, host: amd64))
        #expect(Emulation.isNative(Platform(architecture: "386"), host: amd64))
        #expect(!Emulation.isNative(arm64, host: amd64))
        #expect(!Emulation.isNative(Platform(os: "windows", architecture: "amd64"), host: amd64))
        #expect(Emulation.qemuName(architecture: "arm64") == "aarch64")
        #expect(Emulation.qemuName(architecture: "amd64") == "x86_64")
        #expect(Emulation.qemuName(architecture: "s390x") == "s390x")
    }

    @Test("an enabled entry with F is found by name or by its interpreter; every other state is an error naming what to do")
    func lookups() throws {
        let good = "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POF\noffset 0\n"
        #expect(try Emulation.interpreter(for: arm64, directory: binfmt(["qemu-aarch64": good])) == "qemu-aarch64")
        #expect(try Emulation.interpreter(for: arm64, directory: binfmt(["aarch64": good])) == "qemu-aarch64")
        #expect(throws: EmulationError.self) { try Emulation.interpreter(for: arm64, directory: binfmt([:], register: false)) }
        let none = try binfmt(["qemu-arm": good.replacingOccurrences(of: "aarch64", with: "arm")])
        #expect(throws: EmulationError.notRegistered(subject: "this stage's platform", platform: "linux/arm64",
                                                     interpreter: "qemu-aarch64", directory: none)) {
            try Emulation.interpreter(for: arm64, directory: none)
        }
        let off = try binfmt(["qemu-aarch64": good.replacingOccurrences(of: "enabled", with: "disabled")])
        #expect(throws: EmulationError.disabled(subject: "this stage's platform", platform: "linux/arm64", interpreter: "qemu-aarch64",
                                                entry: off + "/qemu-aarch64")) {
            try Emulation.interpreter(for: arm64, directory: off)
        }
        let noF = try binfmt(["qemu-aarch64": good.replacingOccurrences(of: "POF", with: "OC")])
        do {
            _ = try Emulation.interpreter(for: arm64, directory: noF)
            Issue.record("an entry without F was accepted")
        } catch let e as EmulationError {
            #expect("\(e)".contains("without the F flag (flags: OC)"), "\(e)")
        }
        #expect(throws: EmulationError.self) { try Emulation.interpreter(for: Platform(os: "windows", architecture: "arm64")) }
    }

    @Test("a signal death under emulation gets a note; an exit code does not")
    func crashNote() {
        #expect(Emulation.crashNote(status: 139, interpreter: "qemu-aarch64")?.contains("killed by SIGSEGV") == true)
        #expect(Emulation.crashNote(status: 132, interpreter: "qemu-aarch64")?.contains("SIGILL") == true)
        #expect(Emulation.crashNote(status: 1, interpreter: "qemu-aarch64") == nil)
        #expect(Emulation.crashNote(status: 137, interpreter: "qemu-aarch64") == nil)
    }
}
