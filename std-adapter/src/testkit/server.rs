//! One `redis-server` process.

use std::{
    io,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use super::{free_port, wait_until};

/// How long a server may take to answer `PING` after start.
const START_LIMIT: Duration = Duration::from_secs(10);
/// Start attempts, each on a new free port (another process may take the port
/// between probing and binding).
const ATTEMPTS: usize = 5;

/// A `redis-server` on `127.0.0.1`, killed by PID when dropped.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a standalone server on a free port, without persistence.
    pub fn start() -> io::Result<Self> {
        Self::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments (`["--maxmemory", "1mb"]`).
    pub fn start_with(extra: &[&str]) -> io::Result<Self> {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let mut last = None;
        for _ in 0..ATTEMPTS {
            let port = free_port()?;
            let dir =
                std::env::temp_dir().join(format!("tessera-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let mut server = RedisServer {
                port,
                dir,
                extra: extra.clone(),
                child: None,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process (SIGKILL: no shutdown save) and waits for it. Data is lost.
    pub fn kill(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            // The child may have exited already; `wait` reaps it either way.
            let _ = child.kill();
            child.wait()?;
        }
        Ok(())
    }

    /// Kills the server if running, then starts a new, empty one on the same port.
    pub fn restart(&mut self) -> io::Result<()> {
        self.kill()?;
        self.spawn()
    }

    /// Stops the process with SIGSTOP: connections stay open but nothing answers.
    pub fn pause(&self) -> io::Result<()> {
        self.signal("-STOP")
    }

    /// Resumes a paused process with SIGCONT.
    pub fn resume(&self) -> io::Result<()> {
        self.signal("-CONT")
    }

    /// Runs `redis-cli -p <port> <args>` and returns its trimmed output.
    pub fn cli(&self, args: &[&str]) -> io::Result<String> {
        cli(self.port, args)
    }

    /// Starts `redis-server` on `self.port` and waits until it answers `PING`.
    fn spawn(&mut self) -> io::Result<()> {
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .arg("--dir")
        .arg(&self.dir)
        .args(&self.extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut child = cmd.spawn()?;
        let ready = wait_until(START_LIMIT, || {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server on port {port} exited: {status}"
                )));
            }
            Ok(cli(self.port, &["PING"]).is_ok_and(|out| out == "PONG"))
        });
        match ready {
            Ok(()) => {
                self.child = Some(child);
                Ok(())
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    fn signal(&self, signal: &str) -> io::Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| io::Error::other("redis-server is not running"))?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "kill {signal} {pid} failed: {status}"
            )))
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A paused process must be resumed to die from anything but SIGKILL;
        // `kill` sends SIGKILL, which works on stopped processes too.
        let _ = self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `redis-cli -h 127.0.0.1 -p <port> <args>`, trimmed stdout; an error if the
/// client fails or prints a Redis error.
pub(super) fn cli(port: u16, args: &[&str]) -> io::Result<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || text.starts_with("ERR") || text.starts_with("(error)") {
        return Err(io::Error::other(format!("redis-cli {args:?}: {text}")));
    }
    Ok(text)
}
