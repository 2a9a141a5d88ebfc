import CCurl
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import System

/// libcurl result codes as the errors users read: short, naming what happened and what to do.
enum CurlErrors {
    static func error(code: CURLcode, detail: String, osErrno: Int32, url: String,
                      settings: HTTPTransport.Settings) -> HTTPError {
        let said = detail.isEmpty ? String(cString: ccurl_easy_strerror(code)) : detail
        switch code {
        case CURLE_COULDNT_CONNECT:
            if osErrno == ECONNREFUSED { return .transport("connection refused", url: url) }
            return .transport("cannot connect (\(osErrno != 0 ? SystemError.describe(errno: osErrno, path: "") : said))", url: url)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .transport("unknown host", url: url)
        case CURLE_OPERATION_TIMEDOUT:
            if said.contains("too slow") { return stalled(url: url, settings: settings) }
            return .transport("timed out (\(said))", url: url)
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
            return .transport("connection lost (\(said))", url: url)
        case CURLE_SSL_CONNECT_ERROR where osErrno == ECONNRESET || osErrno == EPIPE:
            return .transport("connection lost during the TLS handshake (\(said))", url: url)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ENGINE_INITFAILED:
            return .tls(tlsMessage(said, code: code, settings: settings), url: url)
        case CURLE_TOO_MANY_REDIRECTS:
            return .transport("too many redirects", url: url)
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .transport("unsupported protocol (\(said)); only http and https are followed", url: url)
        default:
            return .transport(said, url: url)
        }
    }

    /// A connection on which nothing moved for the stall timeout.
    static func stalled(url: String, settings: HTTPTransport.Settings) -> HTTPError {
        .transport("timed out: no data moved for \(seconds(settings.stallTimeout)) s", url: url)
    }

    private static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? String(Int(t)) : String(format: "%.1f", t)
    }

    /// What failed, which CA bundle was used, and the two usual fixes.
    private static func tlsMessage(_ said: String, code: CURLcode, settings: HTTPTransport.Settings) -> String {
        var sources: [String] = []
        if let file = settings.trust.caFile { sources.append("CA file \(file)") }
        if let directory = settings.trust.caDirectory { sources.append("CA directory \(directory)") }
        let trust = sources.isEmpty ? "the system CA bundle" : sources.joined(separator: " and ")
        if code == CURLE_SSL_CACERT_BADFILE {
            return "TLS setup failed: cannot read \(trust) (\(said)); SSL_CERT_FILE must name a PEM file"
        }
        return "TLS handshake failed (\(said)), trusting \(trust); for a registry with a private CA set "
            + "SSL_CERT_FILE to a PEM bundle that includes it (or add it with update-ca-certificates); "
            + "for a plain-HTTP registry pass --insecure-registry HOST"
    }
}
