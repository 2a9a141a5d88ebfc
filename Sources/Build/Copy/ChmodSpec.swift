/// A `--chmod` value: octal (`755`, `0644`) or, as Dockerfile 1.14 accepts, chmod(1)'s
/// symbolic form (`+x`, `u=rwX,go=rX`, `g=u`), applied with a zero umask.
public enum ChmodSpec: Sendable, Hashable {
    case octal(UInt32)
    case symbolic([Clause])

    public struct Clause: Sendable, Hashable {
        /// Bits selected by the who letters (`ugoa`); empty means all.
        let who: UInt32
        let ops: [Op]
    }

    struct Op: Sendable, Hashable {
        let op: Character  // + - =
        let perms: String  // letters from rwxXst
        let copyFrom: Character?  // u g o
    }

    public enum ParseError: Error, Equatable, Sendable { case invalid(String) }

    public init(parsing raw: String) throws(ParseError) {
        if !raw.isEmpty, raw.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let v = UInt32(raw, radix: 8), v <= 0o7777 else { throw .invalid(raw) }
            self = .octal(v)
            return
        }
        var clauses: [Clause] = []
        for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
            var chars = Array(part)[...]
            var who: UInt32 = 0
            while let c = chars.first, "ugoa".contains(c) {
                switch c {
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                case "o": who |= 0o0007
                default: who |= 0o7777
                }
                chars = chars.dropFirst()
            }
            var ops: [Op] = []
            while let op = chars.first {
                guard "+-=".contains(op) else { throw .invalid(raw) }
                chars = chars.dropFirst()
                if let c = chars.first, "ugo".contains(c) {
                    ops.append(Op(op: op, perms: "", copyFrom: c))
                    chars = chars.dropFirst()
                    continue
                }
                var perms = ""
                while let c = chars.first, "rwxXst".contains(c) { perms.append(c); chars = chars.dropFirst() }
                ops.append(Op(op: op, perms: perms, copyFrom: nil))
            }
            guard !ops.isEmpty, chars.isEmpty else { throw .invalid(raw) }
            clauses.append(Clause(who: who, ops: ops))
        }
        self = .symbolic(clauses)
    }

    /// The mode a file with permission bits `mode` gets (`isDirectory` matters for `X`).
    public func apply(to mode: UInt32, isDirectory: Bool) -> UInt32 {
        switch self {
        case .octal(let v):
            return v
        case .symbolic(let clauses):
            var m = mode & 0o7777
            for clause in clauses {
                let whoAll = clause.who == 0
                let mask: UInt32 = whoAll ? 0o7777 : clause.who
                for op in clause.ops {
                    var bits: UInt32 = 0
                    if let from = op.copyFrom {
                        let src: UInt32
                        switch from {
                        case "u": src = (m >> 6) & 7
                        case "g": src = (m >> 3) & 7
                        default: src = m & 7
                        }
                        bits = src << 6 | src << 3 | src
                    } else {
                        for p in op.perms {
                            switch p {
                            case "r": bits |= 0o444
                            case "w": bits |= 0o222
                            case "x": bits |= 0o111
                            case "X": if isDirectory || m & 0o111 != 0 { bits |= 0o111 }
                            case "s": bits |= 0o6000
                            case "t": bits |= 0o1000
                            default: break
                            }
                        }
                    }
                    bits &= mask
                    switch op.op {
                    case "+": m |= bits
                    case "-": m &= ~bits
                    default: m = (m & ~mask) | bits
                    }
                }
            }
            return m
        }
    }
}
