//! JSON-RPC over stdio with `Content-Length` framing.
//!
//! lsp-server's own stdio transport ends its reader at the first payload that is not a
//! message; a language server must answer it with an error and go on. So this reads the
//! frames itself and uses lsp-server for the message model and its serialization.

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use lsp_server::{ErrorCode, Message};
use serde::Serialize;
use serde_json::{Value, json};

pub enum Incoming {
    Message(Message),
    /// A frame that is no JSON-RPC message: answered with this error (its `id` if it had one).
    Malformed {
        id: Value,
        code: ErrorCode,
        message: String,
    },
}

/// What the server writes; a writer thread frames it on stdout.
#[derive(Clone)]
pub struct Outbox(Sender<Vec<u8>>);

impl Outbox {
    pub fn send(&self, message: impl Into<Message>) {
        let mut frame = Vec::new();
        // writing to memory cannot fail; a closed writer means the client went away
        if message.into().write(&mut frame).is_ok() {
            let _ = self.0.send(frame);
        }
    }

    /// A notification serialized straight from `params`: diagnostics go out without first
    /// becoming a `serde_json::Value` tree, as lsp-server's `Notification` would make them.
    pub fn notify(&self, method: &str, params: impl Serialize) {
        #[derive(Serialize)]
        struct Frame<'a, P> {
            jsonrpc: &'static str,
            method: &'a str,
            params: P,
        }
        let frame = Frame {
            jsonrpc: "2.0",
            method,
            params,
        };
        if let Ok(body) = serde_json::to_vec(&frame) {
            self.send_body(body);
        }
    }

    /// An error response for a frame that had no usable request id (`null` then).
    pub fn send_malformed(&self, id: Value, code: ErrorCode, message: &str) {
        let body = json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code as i32, "message": message},
        });
        self.send_body(body.to_string().into_bytes());
    }

    fn send_body(&self, body: Vec<u8>) {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend(body);
        let _ = self.0.send(frame);
    }
}

pub struct Stdio {
    pub incoming: Receiver<Incoming>,
    pub outbox: Outbox,
    writer: JoinHandle<io::Result<()>>,
}

impl Stdio {
    pub fn start() -> Stdio {
        let (in_sender, incoming) = mpsc::channel();
        thread::spawn(move || {
            let mut stdin = io::stdin().lock();
            while let Ok(Some(frame)) = read_frame(&mut stdin) {
                if in_sender.send(decode(frame)).is_err() {
                    break;
                }
            }
        });
        let (out_sender, outgoing) = mpsc::channel::<Vec<u8>>();
        let writer = thread::spawn(move || {
            let mut stdout = io::stdout().lock();
            for frame in outgoing {
                stdout.write_all(&frame)?;
                stdout.flush()?;
            }
            Ok(())
        });
        Stdio {
            incoming,
            outbox: Outbox(out_sender),
            writer,
        }
    }

    /// Writes out what is queued, then returns.
    pub fn finish(self) -> io::Result<()> {
        let Stdio { outbox, writer, .. } = self;
        drop(outbox);
        writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Larger frames are skipped (answered with an error), not allocated.
const MAX_FRAME_BYTES: usize = 256 << 20;

/// One frame's body, or why its header was unusable; `None` at the end of input.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length = None;
    let mut bad_header = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if length.is_none() && bad_header.is_none() {
                // blank lines between frames
                continue;
            }
            break;
        }
        match header.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("content-length") => {
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => bad_header = Some(format!("bad Content-Length `{}`", value.trim())),
                }
            }
            Some(_) => {}
            None => bad_header = Some(format!("malformed header line `{header}`")),
        }
    }
    let Some(length) = length.filter(|_| bad_header.is_none()) else {
        return Ok(Some(Err(
            bad_header.unwrap_or_else(|| "frame without Content-Length".into())
        )));
    };
    if length > MAX_FRAME_BYTES {
        io::copy(&mut input.take(length as u64), &mut io::sink())?;
        return Ok(Some(Err(format!(
            "a frame of {length} bytes is over the {MAX_FRAME_BYTES}-byte limit"
        ))));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(Ok(body)))
}

fn decode(frame: Result<Vec<u8>, String>) -> Incoming {
    let parse_error = |message: String| Incoming::Malformed {
        id: Value::Null,
        code: ErrorCode::ParseError,
        message,
    };
    let body = match frame {
        Ok(body) => body,
        Err(message) => return parse_error(message),
    };
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return parse_error(format!("not JSON: {e}")),
    };
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    let has_id = value.get("id").is_some_and(|id| !id.is_null());
    match serde_json::from_value::<Message>(value) {
        // a request whose id lsp-server cannot hold (not an i32 or a string) would otherwise
        // pass for a notification and never be answered
        Ok(Message::Notification(_)) if has_id => Incoming::Malformed {
            id,
            code: ErrorCode::InvalidRequest,
            message: "a request id must be a 32-bit integer or a string".into(),
        },
        Ok(message) => Incoming::Message(message),
        Err(e) => Incoming::Malformed {
            id,
            code: ErrorCode::InvalidRequest,
            message: format!("not a JSON-RPC request, response or notification: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_past_bad_ones() {
        let input =
            b"Content-Length: 2\r\n\r\n{}Content-Length: x\r\n\r\nContent-Length: 4\r\n\r\nnull";
        let mut reader = &input[..];
        let frames: Vec<_> = std::iter::from_fn(|| read_frame(&mut reader).unwrap()).collect();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], Ok(b"{}".to_vec()));
        assert!(frames[1].as_ref().unwrap_err().contains("Content-Length"));
        assert_eq!(frames[2], Ok(b"null".to_vec()));
        // a huge length is skipped, not allocated (here the input ends first)
        let mut huge = &b"Content-Length: 99999999999999\r\n\r\n{}"[..];
        let refused = read_frame(&mut huge).unwrap().unwrap().unwrap_err();
        assert!(refused.contains("limit"), "{refused}");
    }

    #[test]
    fn a_request_with_an_unusable_id_is_refused_with_that_id() {
        let body = br#"{"jsonrpc": "2.0", "id": 1.5, "method": "shutdown"}"#;
        let Incoming::Malformed { id, code, .. } = decode(Ok(body.to_vec())) else {
            panic!("taken for a message");
        };
        assert_eq!(id, serde_json::json!(1.5));
        assert_eq!(code as i32, ErrorCode::InvalidRequest as i32);
    }
}
