/// What an executable file is, from its first bytes. A statically linked ELF needs nothing
/// else from the image, which is what makes a `FROM scratch` final stage possible.
public enum ExecutableFormat: String, Sendable, Codable, Hashable {
    case staticELF = "static-elf"
    case dynamicELF = "dynamic-elf"
    case script
    case other

    /// Classifies from a file's first bytes (4 KiB is enough for ELF program headers).
    public static func detect(_ head: [UInt8]) -> ExecutableFormat {
        if head.count >= 2, head[0] == 0x23, head[1] == 0x21 { return .script }
        guard head.count >= 64, head[0] == 0x7F, head[1] == 0x45, head[2] == 0x4C, head[3] == 0x46 else { return .other }
        let is64 = head[4] == 2
        let little = head[5] == 1
        func read(_ offset: Int, _ size: Int) -> Int? {
            guard offset >= 0, offset + size <= head.count else { return nil }
            var value = 0
            for i in 0..<size {
                let byte = Int(head[offset + (little ? i : size - 1 - i)])
                value |= byte << (8 * i)
            }
            return value
        }
        let phoff = is64 ? read(0x20, 8) : read(0x1C, 4)
        let phentsize = is64 ? read(0x36, 2) : read(0x2A, 2)
        let phnum = is64 ? read(0x38, 2) : read(0x2C, 2)
        guard let phoff, let phentsize, let phnum, phentsize > 0 else { return .other }
        for index in 0..<phnum {
            guard let type = read(phoff + index * phentsize, 4) else { return .other }
            if type == 3 { return .dynamicELF }  // PT_INTERP: needs a dynamic loader and libraries
        }
        return .staticELF
    }
}
