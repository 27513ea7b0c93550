//! What answers a request the HTTP parser refuses before any route sees it:
//! a request line longer than 65 534 bytes, a head past 128 KiB or 96
//! headers, a forbidden byte (a NUL, say) in a header. actix-http writes a
//! bare `400` or `431` with no body for them and closes the connection.
//! Every connection's stream passes through [`Guarded`], which swaps that
//! bare answer for a problem+json one with a request id (414 when the
//! request line was too long), and logs it.
//!
//! The parser's answers are told from the application's by their head:
//! every answer of the application carries `X-Request-Id`, the parser's
//! carry nothing but `content-length: 0`, `connection` and `date`, and are
//! the last bytes written on their connection.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::http::error::{PROBLEM_JSON, ProblemDetails};
use crate::http::problem_types;

/// The longest request line the parser takes (the `http` crate's URI limit).
const LONGEST_REQUEST_LINE: usize = 65_534;

/// How long a bare refusal's head is at most (they are about 110 bytes).
const BARE_REFUSAL_AT_MOST: usize = 256;

/// A connection's stream, with the parser's bare refusals made problems.
pub struct Guarded<T> {
    inner: T,
    /// The problem still to be written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
    /// The longest line of the request head being read, of the one before,
    /// and the length of the current line.
    longest: usize,
    longest_before: usize,
    line: usize,
    /// How much of a head's end (`\r\n\r\n`) was just read.
    ending: usize,
}

impl<T> Guarded<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: None,
            longest: 0,
            longest_before: 0,
            line: 0,
            ending: 0,
        }
    }

    /// Follows the lines of what the parser reads.
    fn saw(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.longest = self.longest.max(self.line);
                self.line = 0;
            } else {
                self.line += 1;
            }
            let expected = [b'\r', b'\n', b'\r', b'\n'];
            self.ending = match expected.get(self.ending) {
                Some(&next) if next == byte => self.ending + 1,
                _ if byte == b'\r' => 1,
                _ => 0,
            };
            if self.ending == expected.len() {
                self.longest_before = self.longest;
                self.longest = 0;
                self.ending = 0;
            }
        }
    }

    fn request_line_too_long(&self) -> bool {
        self.longest.max(self.longest_before).max(self.line) > LONGEST_REQUEST_LINE
    }
}

/// Where the parser's bare refusal starts at the end of `written`, and its
/// status.
fn bare_refusal(written: &[u8]) -> Option<(usize, StatusCode)> {
    // A bare refusal is a short head that ends the write: anything else is
    // passed on without a search.
    if !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let from = written.len().saturating_sub(BARE_REFUSAL_AT_MOST);
    let start = from
        + written
            .get(from..)?
            .windows(9)
            .rposition(|window| window == b"HTTP/1.1 ")?;
    let tail = written.get(start..)?;
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(length) = response.parse(tail).ok()? else {
        return None;
    };
    if length != tail.len() {
        return None;
    }
    let only_framing = response.headers.iter().all(|h| {
        let name = h.name.to_ascii_lowercase();
        match name.as_str() {
            "content-length" => h.value == b"0",
            "connection" | "date" => true,
            _ => false,
        }
    });
    let status = StatusCode::from_u16(response.code?).ok()?;
    (only_framing && (status.is_client_error() || status.is_server_error()))
        .then_some((start, status))
}

/// The problem that replaces a bare refusal of `status`.
fn problem(status: StatusCode, request_line_too_long: bool) -> Vec<u8> {
    let id = uuid::Uuid::now_v7().to_string();
    let (status, kind, detail) = match status {
        StatusCode::BAD_REQUEST if request_line_too_long => (
            StatusCode::URI_TOO_LONG,
            Some(&problem_types::URI_TOO_LONG),
            "The request line is longer than 65 534 bytes: send the criteria in a body \
             (`POST /v1/persons/search`, say), or fewer query parameters.",
        ),
        StatusCode::BAD_REQUEST => (
            status,
            Some(&problem_types::VALIDATION),
            "The request is not valid HTTP/1.1: a line is malformed, or a header holds a byte \
             HTTP forbids (a NUL or another control character). Nothing was read.",
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            status,
            Some(&problem_types::HEADERS_TOO_LARGE),
            "The request head is too large: at most 96 headers and 128 KiB in all.",
        ),
        _ => (status, None, "The request could not be read."),
    };
    tracing::warn!(
        request_id = %id,
        status = status.as_u16(),
        "a request the HTTP parser refused"
    );
    let mut body = ProblemDetails::for_status(status, &id);
    if let Some(kind) = kind {
        body.problem_type = kind.uri();
        body.title = kind.title.to_owned();
    }
    body.detail = detail.to_owned();
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_JSON}\r\ncontent-length: {}\r\n\
         x-request-id: {id}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
}

impl<T: AsyncWrite + Unpin> Guarded<T> {
    /// Writes what is left of the problem; ready once all of it is.
    fn drive_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            let Some(rest) = bytes.get(*done..).filter(|rest| !rest.is_empty()) else {
                self.pending = None;
                break;
            };
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let read = buf.filled().get(before..).unwrap_or_default();
        this.saw(read);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.is_some() {
            // The refusal is being replaced: nothing follows it.
            ready!(this.drive_pending(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        match bare_refusal(buf) {
            Some((start, status)) => {
                let mut replaced = buf.get(..start).unwrap_or_default().to_vec();
                replaced.extend(problem(status, this.request_line_too_long()));
                this.pending = Some((replaced, 0));
                ready!(this.drive_pending(cx))?;
                Poll::Ready(Ok(buf.len()))
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_parsers_bare_refusals_are_replaced() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\
                     date: Mon, 07 Dec 2026 23:10:00 GMT\r\n\r\n";
        assert_eq!(bare_refusal(bare), Some((0, StatusCode::BAD_REQUEST)));
        let mut after =
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-request-id: a\r\n\r\n{}".to_vec();
        let start = after.len();
        after.extend_from_slice(bare);
        assert_eq!(bare_refusal(&after), Some((start, StatusCode::BAD_REQUEST)));
        let too_large = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                          connection: close\r\ndate: Mon, 07 Dec 2026 23:10:00 GMT\r\n\r\n";
        assert_eq!(
            bare_refusal(too_large),
            Some((0, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        );
        // The application's answers carry a request id, or a body.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: a\r\n\r\n";
        assert_eq!(bare_refusal(ours), None);
        let fine = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(bare_refusal(fine), None);
        let partial = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n";
        assert_eq!(bare_refusal(partial), None);
    }

    #[test]
    fn a_request_line_too_long_is_told_apart() {
        let mut guarded = Guarded::new(tokio::io::empty());
        guarded.saw(b"GET /v1/persons HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!guarded.request_line_too_long());
        let mut long = b"GET /v1/pathways?".to_vec();
        long.extend(std::iter::repeat_n(b'a', 70_000));
        long.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
        guarded.saw(&long);
        assert!(guarded.request_line_too_long());
    }
}
