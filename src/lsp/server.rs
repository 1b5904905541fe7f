//! The server's state and its message loop: one thread; checks run when their debounce ends.

use std::collections::HashMap;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidChangeWatchedFilesRegistrationOptions,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    FileSystemWatcher, GlobPattern, HoverParams, HoverProviderCapability, InitializeParams,
    InitializeResult, MessageType, Registration, RegistrationParams, SaveOptions,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};
use serde::de::DeserializeOwned;

use super::actions;
use super::check::{self, Flagged, SetKey};
use super::document::{self, Document};
use super::position::{Encoding, PositionMap};
use super::settings::Configs;
use super::transport::{Incoming, Outbox};
use crate::config;

/// How long typing must pause before a changed buffer is checked.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

struct Open {
    document: Document,
    /// The findings of the last check, in the text as it was then.
    findings: Vec<Flagged>,
}

pub struct Server {
    outbox: Outbox,
    encoding: Encoding,
    configs: Configs,
    open: HashMap<Url, Open>,
    /// Sets waiting for their check, and when it is due.
    due: HashMap<SetKey, Instant>,
    watch_config: bool,
    next_request: i32,
    shutdown: bool,
}

/// The exit code once the client says `exit` (0 only after `shutdown`, as the protocol asks).
pub fn serve(incoming: &std::sync::mpsc::Receiver<Incoming>, outbox: Outbox) -> i32 {
    let Some(mut server) = initialize(incoming, &outbox) else {
        return 1;
    };
    loop {
        let next = server.due.values().min().copied();
        let received = match next {
            Some(at) => incoming.recv_timeout(at.saturating_duration_since(Instant::now())),
            None => incoming.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Incoming::Message(Message::Notification(n))) if n.method == note::Exit::METHOD => {
                return if server.shutdown { 0 } else { 1 };
            }
            Ok(Incoming::Message(message)) => server.handle(message),
            Ok(Incoming::Malformed { id, code, message }) => {
                outbox.send_malformed(id, code, &message)
            }
            Err(RecvTimeoutError::Timeout) => {}
            // the client closed our input without `exit`
            Err(RecvTimeoutError::Disconnected) => return 1,
        }
        server.run_due(Instant::now());
    }
}

/// Answers everything but `initialize` with an error until it comes.
fn initialize(incoming: &std::sync::mpsc::Receiver<Incoming>, outbox: &Outbox) -> Option<Server> {
    loop {
        match incoming.recv().ok()? {
            Incoming::Message(Message::Request(request))
                if request.method == req::Initialize::METHOD =>
            {
                let id = request.id.clone();
                match params::<InitializeParams>(request.params) {
                    Ok(params) => {
                        let server = Server::new(outbox.clone(), &params);
                        outbox.send(Response::new_ok(id, server.capabilities()));
                        return Some(server);
                    }
                    Err(e) => {
                        outbox.send(Response::new_err(id, ErrorCode::InvalidParams as i32, e))
                    }
                }
            }
            Incoming::Message(Message::Request(request)) => outbox.send(Response::new_err(
                request.id,
                ErrorCode::ServerNotInitialized as i32,
                "the first request must be `initialize`".into(),
            )),
            Incoming::Message(Message::Notification(n)) if n.method == note::Exit::METHOD => {
                return None;
            }
            Incoming::Message(_) => {}
            Incoming::Malformed { id, code, message } => outbox.send_malformed(id, code, &message),
        }
    }
}

fn params<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("invalid params: {e}"))
}

impl Server {
    fn new(outbox: Outbox, params: &InitializeParams) -> Server {
        let capabilities = &params.capabilities;
        let encoding = Encoding::negotiate(
            capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        #[allow(deprecated)] // root_uri is what clients without workspace folders send
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .map(|f| &f.uri)
            .or(params.root_uri.as_ref())
            .and_then(|uri| uri.to_file_path().ok());
        let watch_config = capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files)
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        Server {
            outbox,
            encoding,
            configs: Configs::new(root),
            open: HashMap::new(),
            due: HashMap::new(),
            watch_config,
            next_request: 0,
            shutdown: false,
        }
    }

    fn capabilities(&self) -> InitializeResult {
        InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(self.encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "pgrisk".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        }
    }

    fn handle(&mut self, message: Message) {
        match message {
            Message::Request(request) => {
                let id = request.id.clone();
                let response = match self.respond(request) {
                    Ok(result) => Response::new_ok(id, result),
                    Err((code, message)) => Response::new_err(id, code as i32, message),
                };
                self.outbox.send(response);
            }
            Message::Notification(notification) => {
                let method = notification.method.clone();
                if let Err(e) = self.notified(notification) {
                    self.log(MessageType::WARNING, format!("pgrisk: {method}: {e}"));
                }
            }
            // answers to our registration request: nothing to do
            Message::Response(_) => {}
        }
    }

    fn respond(&mut self, request: Request) -> Result<serde_json::Value, (ErrorCode, String)> {
        let invalid = |e: String| (ErrorCode::InvalidParams, e);
        if self.shutdown {
            return Err((
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            ));
        }
        let result = match request.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                serde_json::Value::Null
            }
            req::HoverRequest::METHOD => {
                let p: HoverParams = params(request.params).map_err(invalid)?;
                let at = p.text_document_position_params;
                let encoding = self.encoding;
                let hover = self.fresh(&at.text_document.uri).and_then(|open| {
                    let map = PositionMap::new(&open.document.text, encoding);
                    actions::hover(&open.findings, map.offset(at.position))
                });
                serde_json::to_value(hover).unwrap_or_default()
            }
            req::CodeActionRequest::METHOD => {
                let p: CodeActionParams = params(request.params).map_err(invalid)?;
                let wanted = p.context.only.as_ref().is_none_or(|kinds| {
                    kinds
                        .iter()
                        .any(|k| CodeActionKind::QUICKFIX.as_str().starts_with(k.as_str()))
                });
                let encoding = self.encoding;
                let dir = self
                    .open
                    .get(&p.text_document.uri)
                    .map(|o| SetKey::of(&o.document));
                let settings = self
                    .configs
                    .settings_for(dir.as_ref().and_then(SetKey::dir));
                let found = match self.fresh(&p.text_document.uri) {
                    Some(open) if wanted => actions::code_actions(
                        &open.document,
                        &open.findings,
                        (p.range, &p.context.diagnostics),
                        &settings,
                        encoding,
                    ),
                    _ => Vec::new(),
                };
                serde_json::to_value(found).unwrap_or_default()
            }
            req::Initialize::METHOD => {
                return Err((ErrorCode::InvalidRequest, "already initialized".into()));
            }
            other => {
                return Err((
                    ErrorCode::MethodNotFound,
                    format!("unknown method `{other}`"),
                ));
            }
        };
        Ok(result)
    }

    fn notified(&mut self, notification: Notification) -> Result<(), String> {
        match notification.method.as_str() {
            note::Initialized::METHOD => self.register_config_watch(),
            note::DidOpenTextDocument::METHOD => {
                let p: DidOpenTextDocumentParams = params(notification.params)?;
                let item = p.text_document;
                if document::is_sql(&item.language_id, &item.uri) {
                    let document = Document::new(item.uri.clone(), item.text, item.version);
                    let set = SetKey::of(&document);
                    self.open.insert(
                        item.uri,
                        Open {
                            document,
                            findings: Vec::new(),
                        },
                    );
                    self.due.insert(set, Instant::now());
                }
            }
            note::DidChangeTextDocument::METHOD => {
                let p: DidChangeTextDocumentParams = params(notification.params)?;
                if let Some(open) = self.open.get_mut(&p.text_document.uri) {
                    open.document
                        .apply(p.content_changes, p.text_document.version, self.encoding);
                    self.due
                        .insert(SetKey::of(&open.document), Instant::now() + DEBOUNCE);
                }
            }
            note::DidSaveTextDocument::METHOD => {
                let p: DidSaveTextDocumentParams = params(notification.params)?;
                if let Some(open) = self.open.get(&p.text_document.uri) {
                    self.due.insert(SetKey::of(&open.document), Instant::now());
                }
            }
            note::DidCloseTextDocument::METHOD => {
                let p: DidCloseTextDocumentParams = params(notification.params)?;
                if let Some(open) = self.open.remove(&p.text_document.uri) {
                    self.publish(&open.document.uri, &[], None);
                    // the others in its set now see the file as it is on disk
                    self.due.insert(SetKey::of(&open.document), Instant::now());
                }
            }
            note::DidChangeWatchedFiles::METHOD => {
                self.configs.invalidate();
                let sets: Vec<SetKey> = self
                    .open
                    .values()
                    .map(|o| SetKey::of(&o.document))
                    .collect();
                let now = Instant::now();
                self.due.extend(sets.into_iter().map(|s| (s, now)));
            }
            // `$/cancelRequest`, `$/setTrace` and other optional notifications
            _ => {}
        }
        Ok(())
    }

    /// Asks the client to tell us when a `pgrisk.toml` changes (the mtime check before each
    /// check covers clients that cannot).
    fn register_config_watch(&mut self) {
        if !self.watch_config {
            return;
        }
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String(format!("**/{}", config::FILE_NAME)),
                kind: None,
            }],
        };
        let registration = Registration {
            id: "pgrisk-config".into(),
            method: note::DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(options).ok(),
        };
        self.next_request += 1;
        self.outbox.send(Request::new(
            RequestId::from(self.next_request),
            req::RegisterCapability::METHOD.into(),
            RegistrationParams {
                registrations: vec![registration],
            },
        ));
    }

    /// The open buffer with findings for its current text (a pending check runs first, so
    /// that spans match what the client sees).
    fn fresh(&mut self, uri: &Url) -> Option<&Open> {
        let set = SetKey::of(&self.open.get(uri)?.document);
        if let Some(at) = self.due.get(&set).copied() {
            self.run_due(at);
        }
        self.open.get(uri)
    }

    /// Checks every set whose time has come (all due by `now`).
    fn run_due(&mut self, now: Instant) {
        let ready: Vec<SetKey> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(s, _)| s.clone())
            .collect();
        for set in ready {
            self.due.remove(&set);
            self.check(&set);
        }
    }

    fn check(&mut self, set: &SetKey) {
        let settings = self.configs.settings_for(set.dir());
        for message in std::mem::take(&mut self.configs.messages) {
            self.show(MessageType::ERROR, message);
        }
        let mut members: Vec<&Open> = self
            .open
            .values()
            .filter(|o| SetKey::of(&o.document) == *set)
            .collect();
        members.sort_by(|a, b| a.document.uri.cmp(&b.document.uri));
        let documents: Vec<&Document> = members.iter().map(|o| &o.document).collect();
        let encoding = self.encoding;
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check::check_set(set, &documents, &settings, encoding)
        }));
        let uris: Vec<(Url, i32)> = documents
            .iter()
            .map(|d| (d.uri.clone(), d.version))
            .collect();
        let Ok(results) = checked else {
            self.show(
                MessageType::ERROR,
                "pgrisk: internal error while checking; see the server's stderr".into(),
            );
            return;
        };
        for ((uri, version), findings) in uris.into_iter().zip(results) {
            self.publish(&uri, &findings, Some(version));
            if let Some(open) = self.open.get_mut(&uri) {
                open.findings = findings;
            }
        }
    }

    fn publish(&self, uri: &Url, findings: &[Flagged], version: Option<i32>) {
        /// `PublishDiagnosticsParams`, borrowing the diagnostics.
        #[derive(serde::Serialize)]
        struct Publish<'a> {
            uri: &'a Url,
            diagnostics: Vec<&'a lsp_types::Diagnostic>,
            #[serde(skip_serializing_if = "Option::is_none")]
            version: Option<i32>,
        }
        let diagnostics = findings.iter().map(|f| &f.diagnostic).collect();
        self.outbox.notify(
            note::PublishDiagnostics::METHOD,
            Publish {
                uri,
                diagnostics,
                version,
            },
        );
    }

    fn show(&self, typ: MessageType, message: String) {
        self.outbox.notify(
            note::ShowMessage::METHOD,
            ShowMessageParams { typ, message },
        );
    }

    fn log(&self, typ: MessageType, message: String) {
        self.outbox.notify(
            note::LogMessage::METHOD,
            lsp_types::LogMessageParams { typ, message },
        );
    }
}
