//! Hostile HTTP against the real `c360 serve` on loopback: slow and idle clients holding
//! connections (slowloris) under a low open-file limit, password guessing from one address,
//! `next` with control characters, and a garbage commit under a running dashboard.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const PASSWORD: &str = "faults-password-1";

/// A `c360 serve` child process on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    stderr: PathBuf,
}

impl Server {
    /// Serves `lake` with `config` (a c360.toml) under `sh -c 'ulimit -n …'` when `files` is set.
    fn start(lake: &Path, config: &Path, files: Option<u32>) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let stderr = config.with_extension("stderr");
        let limit = files.map_or(String::new(), |n| format!("ulimit -n {n} && "));
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("{limit}exec \"$0\" \"$@\""))
            .arg(BIN)
            .arg("--lake")
            .arg(lake)
            .arg("--config")
            .arg(config)
            .args(["serve", "--bind", &addr.to_string()])
            .env_remove("C360_LAKE")
            .env_remove("RUST_LOG")
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            addr,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while request(addr, "GET", "/health", &[], "").is_none() {
            assert!(Instant::now() < deadline, "no server: {}", server.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`); `None` when the server
/// cannot be reached.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<Answer> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}

/// Percent-encodes a form value.
fn form(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sign_in(addr: SocketAddr, user: &str, password: &str, next: &str) -> Answer {
    let body = format!(
        "username={}&password={}&next={}",
        form(user),
        form(password),
        form(next)
    );
    let content_type = ("Content-Type", "application/x-www-form-urlencoded");
    request(addr, "POST", "/login", &[content_type], &body).expect("the server answers")
}

/// A c360.toml in `dir` with `[server]` lines `server` and the user `ana` (analyst).
fn config_with_user(dir: &Path, project: &str, server: &str) -> PathBuf {
    let mut hash_cmd = c360(&dir.join("lake"));
    let mut child = hash_cmd
        .args(["serve", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let hash = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let path = dir.join("c360.toml");
    let text = format!(
        "{project}\n[server]\n{server}\n\n[[server.users]]\nname = \"ana\"\nrole = \"analyst\"\npassword_hash = \"{}\"\n",
        hash.trim()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Whether the server closed `stream` (EOF or reset) before `deadline`.
fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 512];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 before closing is fine
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_headers_are_cut_off_and_the_server_keeps_accepting() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let config = config_with_user(
        tmp.path(),
        "name = \"faults\"",
        "header_read_timeout_seconds = 2",
    );
    // 256 open files, as in the probe; the default cap (512) is lowered to fit.
    let server = Server::start(&lake, &config, Some(256));
    assert!(
        server
            .log()
            .contains("max_connections lowered from 512 to 192"),
        "{}",
        server.log()
    );

    // 300 clients send the start of a request and then a header line every 400 ms (slowloris);
    // 20 more connect and send nothing.
    let start = Instant::now();
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(server.addr).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
            s
        })
        .collect();
    let silent: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    let dripping = std::thread::spawn({
        let mut streams: Vec<TcpStream> = slow.iter().map(|s| s.try_clone().unwrap()).collect();
        move || {
            for i in 0..15 {
                std::thread::sleep(Duration::from_millis(400));
                for s in &mut streams {
                    let _ = s.write_all(format!("X-Slow-{i}: 1\r\n").as_bytes());
                }
            }
        }
    });
    // A real client is answered while they hold on (it waits at most for one round of cuts).
    let health = request(server.addr, "GET", "/health", &[], "").expect("health answers");
    assert_eq!(health.status, 200);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    // Every slow and every silent connection is closed by the server, none held 35 s.
    let deadline = start + Duration::from_secs(20);
    for (i, s) in slow.iter_mut().enumerate() {
        assert!(closed_by(s, deadline), "slow connection {i} still open");
    }
    for (i, mut s) in silent.into_iter().enumerate() {
        assert!(
            closed_by(&mut s, deadline),
            "silent connection {i} still open"
        );
    }
    dripping.join().unwrap();
    let t = Instant::now();
    assert_eq!(
        request(server.addr, "GET", "/health", &[], "")
            .unwrap()
            .status,
        200
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn sign_in_is_throttled_per_address_and_next_must_be_a_local_path() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = lake_dir(&tmp);
    let config = config_with_user(tmp.path(), "name = \"faults\"", "login_free_attempts = 5");
    let server = Server::start(&lake, &config, None);
    // Control characters, backslashes and other origins in a posted `next` land on `/`.
    for next in [
        "/\t/evil.example",
        "/\r\nSet-Cookie: x=1",
        "/\\evil.example",
        "//evil.example",
    ] {
        let r = sign_in(server.addr, "ana", PASSWORD, next);
        assert_eq!(r.status, 303, "{next:?}: {}", r.body);
        assert_eq!(r.header("location"), Some("/"), "{next:?}");
    }
    // Guesses spread over many user names: the address is locked after 4 × 5 of them, and
    // then even the right password of a real user waits.
    let mut checked = 0;
    for i in 0..60 {
        let r = sign_in(server.addr, &format!("user{i}"), "guess", "/");
        if r.status == 401 {
            checked += 1;
            continue;
        }
        assert_eq!(r.status, 429, "{}", r.body);
        let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!(wait >= 1);
        let right = sign_in(server.addr, "ana", PASSWORD, "/");
        assert_eq!(right.status, 429, "the address is locked for every user");
        assert!(right.header("set-cookie").is_none());
        assert!(
            (21..=23).contains(&checked),
            "{checked} guesses were checked"
        );
        return;
    }
    panic!("60 guesses from one address and no throttling");
}

const TOKEN: &str = "c360_faults_http_admin_token";

/// The project over a lake of 1,000 generated customers, built, with `[server]` lines `server`
/// and an admin token ([`TOKEN`]) in its c360.toml.
fn built_project(dir: &Path, server: &str) -> (PathBuf, PathBuf) {
    use sha2::Digest;
    let project = dir.join("project");
    copy_dir(Path::new(PROJECT), &project);
    let lake = dir.join("lake");
    let config = project.join("c360.toml");
    let digest = hex(&sha2::Sha256::digest(TOKEN.as_bytes()));
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[server]\n{server}\n\n[[server.tokens]]\nname = \"faults\"\nrole = \"admin\"\nsha256 = \"{digest}\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let run = |args: &[&str]| {
        ok(Command::new(BIN)
            .arg("--lake")
            .arg(&lake)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("C360_LAKE")
            .env_remove("C360_FAILPOINT_BEFORE_COMMIT")
            .env_remove("RUST_LOG"))
    };
    run(&["generate", "--customers", "1000"]);
    run(&["build"]);
    (lake, config)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn get_as_admin(addr: SocketAddr, path: &str) -> Answer {
    let auth = format!("Bearer {TOKEN}");
    request(addr, "GET", path, &[("Authorization", &auth)], "").expect("the server answers")
}

fn json(answer: &Answer) -> serde_json::Value {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body))
}

/// Lines of `log` at `level` (`WARN`, `ERROR`) and lines that look like backtrace frames.
fn log_lines<'a>(log: &'a str, level: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(level)).collect()
}

fn backtrace_frames(log: &str) -> usize {
    log.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("stack backtrace")
                || t.split_once(": ")
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
        })
        .count()
}

#[test]
fn a_garbage_commit_does_not_take_the_dashboard_down() {
    let tmp = tempfile::tempdir().unwrap();
    let (lake, config) = built_project(tmp.path(), "refresh_seconds = 1");
    let server = Server::start(&lake, &config, None);
    let segments = json(&get_as_admin(server.addr, "/api/segments?page_size=1"));
    let id = segments["rows"][0]["customer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let pages = [
        "/".to_string(),
        "/segments".to_string(),
        format!("/customers/{id}"),
        format!("/api/customers/{id}/transactions"),
        "/pipeline".to_string(),
        "/api/overview".to_string(),
    ];
    for path in &pages {
        assert_eq!(get_as_admin(server.addr, path).status, 200, "{path}");
    }
    let before = json(&get_as_admin(server.addr, "/api/overview"));
    let log = lake.join("gold/customer_360_profile/_delta_log");
    let last = std::fs::read_dir(&log)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".json")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap();
    std::fs::write(
        log.join(format!("{:020}.json", last + 1)),
        "{\"garbage\": tru",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));

    for _ in 0..3 {
        for path in &pages {
            let r = get_as_admin(server.addr, path);
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
    }
    let after = json(&get_as_admin(server.addr, "/api/overview"));
    assert_eq!(
        after["kpis"], before["kpis"],
        "the last good version is served"
    );
    let health = json(&request(server.addr, "GET", "/health", &[], "").unwrap());
    assert_eq!(health["status"], "degraded");
    let pipeline = json(&get_as_admin(server.addr, "/api/pipeline"));
    let u = &pipeline["unreadable"][0];
    assert_eq!(u["table"], "gold.customer_360_profile");
    assert_eq!(u["version"], last + 1);
    assert_eq!(u["serving"], last);
    let page = get_as_admin(server.addr, "/").body;
    assert!(page.contains(&format!("this page shows version {last}")));

    let text = server.log();
    let warnings = log_lines(&text, "WARN");
    assert_eq!(warnings.len(), 1, "one WARN for one reload:\n{text}");
    assert!(warnings[0].contains("customer_360_profile"), "{text}");
    assert_eq!(log_lines(&text, "ERROR"), Vec::<&str>::new(), "{text}");
    assert_eq!(backtrace_frames(&text), 0, "{text}");
    drop(server);

    // Started with the garbage in place: the pages that need the profile say so, the rest work.
    let server = Server::start(&lake, &config, None);
    for path in [
        "/",
        "/segments",
        "/pipeline",
        "/api/overview",
        "/api/pipeline",
    ] {
        assert_eq!(get_as_admin(server.addr, path).status, 200, "{path}");
    }
    let pipeline = json(&get_as_admin(server.addr, "/api/pipeline"));
    assert_eq!(
        pipeline["unreadable"][0]["table"],
        "gold.customer_360_profile"
    );
    assert_eq!(
        pipeline["unreadable"][0]["serving"],
        serde_json::Value::Null
    );
    assert!(pipeline["runs"].as_array().is_some_and(|r| !r.is_empty()));
    let text = server.log();
    assert_eq!(log_lines(&text, "ERROR"), Vec::<&str>::new(), "{text}");
    assert_eq!(backtrace_frames(&text), 0, "{text}");
}
