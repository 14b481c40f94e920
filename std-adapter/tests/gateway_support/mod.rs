//! Shared by the gateway tests: a real `tessera gateway` process on a free
//! loopback port, with a key file holding [`SECRET`].
#![allow(dead_code)] // each test binary uses a different part

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

use serde_json::Value;

use super::http_support::SECRET;

/// A running `tessera gateway`, stopped (SIGKILL by PID) when dropped.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    /// The admin listener, when started with `--admin-listen`.
    pub admin: Option<SocketAddr>,
    logs: Arc<Mutex<Vec<String>>>,
    /// Reads stderr into `logs`; ends when the process's stderr closes.
    reader: Option<JoinHandle<()>>,
    _key: KeyFile,
}

struct KeyFile(PathBuf);

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Gateway {
    /// Starts a gateway on a free port; `extra` adds flags (`--redis`, `--ttl`, ...).
    /// Blocks until the gateway logs its address.
    pub fn start(upstream: &str, extra: &[&str]) -> Self {
        Self::start_with(upstream, &[], true, extra)
    }

    /// Like [`Gateway::start`], with environment variables `env`, and without
    /// `--key-file` unless `key_file` (`extra` then names the keys).
    pub fn start_with(
        upstream: &str,
        env: &[(&str, &str)],
        key_file: bool,
        extra: &[&str],
    ) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let key = KeyFile(
            std::env::temp_dir().join(format!("tessera-gw-{}-{n}.key", std::process::id())),
        );
        std::fs::write(&key.0, SECRET).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(["gateway", "--listen", "127.0.0.1:0", "--upstream", upstream])
            .args(if key_file {
                vec!["--key-file", key.0.to_str().unwrap()]
            } else {
                vec![]
            })
            .args(extra)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&logs);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let message = v["fields"]["message"].as_str().unwrap_or("");
                    if message == "listening" || message == "admin listening" {
                        let addr = v["fields"]["addr"].as_str().unwrap().parse().unwrap();
                        let _ = tx.send((message == "admin listening", addr));
                    }
                }
                sink.lock().unwrap().push(line);
            }
        });
        let mut admin = None;
        let addr = loop {
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok((true, addr)) => admin = Some(addr),
                Ok((false, addr)) => break addr,
                Err(_) => {
                    let _ = child.kill();
                    panic!("gateway did not start: {:?}", logs.lock().unwrap())
                }
            }
        };
        Gateway {
            child,
            addr,
            admin,
            logs,
            reader: Some(reader),
            _key: key,
        }
    }

    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!(
            "http://{}{path}",
            self.admin.expect("started with --admin-listen")
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// Waits for the process to exit, then for its last log lines: the exit
    /// can be seen before the reader thread has drained the pipe.
    pub fn wait_with_logs(&mut self) -> (ExitStatus, Vec<String>) {
        let status = self.child.wait().unwrap();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.logs())
    }

    /// SIGKILL, then reap the process.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}
