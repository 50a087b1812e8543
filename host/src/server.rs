//! Loading the application and serving it over HTTP/1.1 as Spin's HTTP
//! trigger does: each component is compiled once and pre-instantiated; every
//! request gets a fresh instance (Spin's behaviour for WASI 0.2 components).
//! Request preparation follows Spin's trigger: the `Connection` header is
//! dropped, the URI gets scheme and authority from `Host`, and the `spin-*`
//! headers are appended after the client's own headers, so a client-sent
//! header of the same name keeps its place and comes first. No route: 404
//! with an empty body. A trap, or a guest that sets no response or an error
//! response: 500 with an empty body.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context as TaskContext, Poll};

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::WasiHttpView as _;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::instance::{InstanceState, add_spin_interfaces};
use crate::kv::{Faults, KvBackend, KvCounts, KvState};
use crate::manifest::Manifest;
use crate::outbound::{AllowedHosts, OutboundHooks};
use crate::routes::{RouteMatch, Router};
use crate::runtime_config::RuntimeConfig;
use crate::variables::{ComponentVariables, Resolved, VariableSources};

/// Where key-value data lives, as `spin up --state-dir` chooses it.
#[derive(Debug, Clone, Default)]
pub enum StateDir {
    /// `.spin` next to the manifest.
    #[default]
    Default,
    /// `--state-dir ""`: no state dir, so an in-memory store.
    Unset,
    /// An explicit directory.
    Path(PathBuf),
}

/// Everything needed to start a host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Path of `spin.toml`.
    pub manifest: PathBuf,
    /// Listen address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Key-value state directory.
    pub state_dir: StateDir,
    /// `-e NAME=VALUE`: WASI environment variables for every component.
    pub env: Vec<(String, String)>,
    /// `--variable NAME=VALUE` and the dotenv file.
    pub variables: VariableSources,
    /// `--key-value KEY=VALUE`: written to the default store at startup.
    pub key_values: Vec<(String, String)>,
    /// Test switch: per-request key-value call log.
    pub kv_log: Option<PathBuf>,
    /// Test switch: key-value fault injection.
    pub kv_faults: Faults,
    /// Test switch: per-request peak linear memory log.
    pub memory_log: Option<PathBuf>,
    /// Reuse outbound `http://` connections (Spin's default); the test
    /// switch `FLOWGATE_HOST_NO_CONNECTION_POOLING=1` turns it off.
    pub connection_pooling: bool,
    /// Use wasmtime's pooling allocator (Spin's default too).
    pub pooling: bool,
    /// `--runtime-config-file` (env `RUNTIME_CONFIG_FILE`): where the
    /// key-value stores live.
    pub runtime_config_file: Option<PathBuf>,
}

impl HostConfig {
    /// Defaults like `spin up`, plus the test switches read from the
    /// environment (`FLOWGATE_HOST_KV_LOG`, `FLOWGATE_HOST_KV_FAULTS`).
    pub fn new(manifest: impl Into<PathBuf>) -> Result<Self> {
        let kv_faults = match std::env::var("FLOWGATE_HOST_KV_FAULTS") {
            Ok(spec) => Faults::parse(&spec).context("FLOWGATE_HOST_KV_FAULTS")?,
            Err(_) => Faults::default(),
        };
        Ok(Self {
            manifest: manifest.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            state_dir: StateDir::Default,
            env: Vec::new(),
            variables: VariableSources {
                cli: BTreeMap::new(),
                dotenv: Some(PathBuf::from(".env")),
            },
            key_values: Vec::new(),
            kv_log: std::env::var_os("FLOWGATE_HOST_KV_LOG").map(PathBuf::from),
            kv_faults,
            memory_log: std::env::var_os("FLOWGATE_HOST_MEMORY_LOG").map(PathBuf::from),
            connection_pooling: std::env::var("FLOWGATE_HOST_NO_CONNECTION_POOLING").as_deref()
                != Ok("1"),
            pooling: true,
            runtime_config_file: std::env::var_os("RUNTIME_CONFIG_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        })
    }
}

/// A component ready to instantiate.
struct Prepared {
    pre: ProxyPre<InstanceState>,
    stores: Arc<HashSet<String>>,
    hosts: Arc<AllowedHosts>,
    variables: Arc<ComponentVariables>,
    env: Vec<(String, String)>,
}

/// The loaded application.
struct App {
    router: Router,
    components: HashMap<String, Prepared>,
    kv: Arc<KvBackend>,
    kv_log: Option<Mutex<std::fs::File>>,
    memory_log: Option<Mutex<std::fs::File>>,
    pool: crate::outbound::ConnectionPool,
    self_addr: OnceLock<SocketAddr>,
    info: String,
    stdio: ComponentStdio,
}

/// Where the components' stdout and stderr go: the host's own, written
/// synchronously, one `write` per guest write, as released Spin does.
/// Spin 4.0.2 and 3.6.3 hand each instance a `PipedWriteStream`
/// (`crates/factor-wasi/src/io.rs` at `v4.0.2` and `v3.6.3`) over a
/// `ComponentStdioWriter` (`crates/trigger/src/cli/stdio.rs`), whose
/// `std::io::Write` appends to the component's log file and, since `spin up`
/// follows every component, to Spin's stderr, inside the guest's call.
/// wasmtime-wasi's `inherit_stderr` instead starts a worker task for every
/// `get-stderr` and writes through tokio's stderr on its blocking pool. The
/// difference did not show in what a logged refusal costs against an allow
/// (docs/benchmarks.md, "What a refusal's log line costs, again"), but the
/// test host now does what Spin does.
#[derive(Clone)]
struct ComponentStdio {
    out: wasmtime_wasi::cli::OutputFile,
    err: wasmtime_wasi::cli::OutputFile,
}

impl ComponentStdio {
    fn of_host() -> Result<Self> {
        use std::os::fd::AsFd as _;
        let dup = |fd: std::os::fd::BorrowedFd<'_>, name: &str| {
            fd.try_clone_to_owned()
                .map(|fd| wasmtime_wasi::cli::OutputFile::new(std::fs::File::from(fd)))
                .with_context(|| format!("cannot duplicate the host's {name}"))
        };
        Ok(Self {
            out: dup(std::io::stdout().as_fd(), "stdout")?,
            err: dup(std::io::stderr().as_fd(), "stderr")?,
        })
    }
}

/// A started host.
#[derive(Debug)]
pub struct RunningHost {
    /// The bound address.
    pub addr: SocketAddr,
    /// `(component, route display)` as listed at startup.
    pub routes: Vec<(String, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningHost {
    /// The lines `spin up` prints once it serves.
    pub fn banner(&self) -> String {
        let base = format!("http://{}", self.addr);
        let mut out = format!("\nServing {base}\nAvailable Routes:\n");
        for (component, route) in &self.routes {
            out.push_str(&format!("  {component}: {base}{route}\n"));
        }
        out
    }

    /// Serves until the process ends.
    pub async fn wait(self) -> Result<()> {
        self.task
            .await
            .map_err(|e| anyhow!("server task failed: {e}"))
    }

    /// Stops serving (open connections finish on their own tasks).
    pub fn stop(&self) {
        self.task.abort();
    }
}

fn engine(pooling: bool) -> Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    #[cfg(feature = "profiling")]
    if std::env::var("FLOWGATE_HOST_PROFILE").as_deref() == Ok("perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        // Modest limits so that the reservation fits small machines.
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256)
            .total_core_instances(1024)
            .total_memories(512)
            .total_tables(1024)
            .max_memory_size(256 << 20);
        // What Spin keeps resident between instances (crates/core: 2 MiB of
        // each linear memory, 512 KiB of each table, with the same
        // environment overrides). Without it every request pays page faults
        // and TLB shootdowns for each page its instance touched, which Spin's
        // hosts do not pay, and which cost a component that touches more
        // memory more than the hello-world floor.
        pool.linear_memory_keep_resident(env_bytes(
            "SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT",
            2 << 20,
        )?)
        .table_keep_resident(env_bytes("SPIN_WASMTIME_TABLE_KEEP_RESIDENT", 512 << 10)?);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(anyhow::Error::from)
}

/// A byte count from the environment, or `default` when unset.
fn env_bytes(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{name} must be a number of bytes")),
        Err(_) => Ok(default),
    }
}

async fn load(config: &HostConfig) -> Result<App> {
    let manifest = Manifest::load(&config.manifest)?;
    let app_dir = config
        .manifest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let resolved = Resolved::resolve(&manifest, &config.variables)?;
    let router = Router::build(&manifest.trigger.http)?;

    let runtime_config = match &config.runtime_config_file {
        Some(path) => {
            let parsed = RuntimeConfig::load(path)?;
            if let Some(line) = crate::runtime_config::summary(&parsed, path) {
                eprintln!("{line}");
            }
            parsed
        }
        None => RuntimeConfig::default(),
    };
    // `--state-dir` wins; else the runtime config's `state_dir` ("" means
    // none); else `.spin` next to the manifest (crates/runtime-config).
    let state_dir = match (&config.state_dir, runtime_config.state_dir.as_deref()) {
        (StateDir::Path(p), _) => Some(p.clone()),
        (StateDir::Unset, _) => None,
        (StateDir::Default, Some("")) => None,
        (StateDir::Default, Some(dir)) => Some(PathBuf::from(dir)),
        (StateDir::Default, None) => Some(app_dir.join(".spin")),
    };
    let default_file = state_dir
        .as_deref()
        .map(|d| d.join(crate::kv::DEFAULT_SQLITE_FILE));
    let kv = Arc::new(KvBackend::open(
        &runtime_config.key_value_stores,
        default_file.as_deref(),
        config.kv_faults.clone(),
    )?);
    for (k, v) in &config.key_values {
        kv.seed(k, v.as_bytes())
            .await
            .map_err(|e| anyhow!("--key-value {k}: {e:?}"))?;
    }

    // Falling back to on-demand allocation keeps the host usable where the
    // pooling reservation is refused (small address-space limits).
    let engine = match engine(config.pooling) {
        Ok(e) => e,
        Err(_) if config.pooling => engine(false)?,
        Err(e) => return Err(e),
    };
    let mut linker = Linker::<InstanceState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(anyhow::Error::from)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .map_err(anyhow::Error::from)?;
    add_spin_interfaces(&mut linker).map_err(anyhow::Error::from)?;

    // Only components that some trigger uses are loaded, as in Spin.
    let used: HashSet<&str> = manifest
        .trigger
        .http
        .iter()
        .map(|t| t.component.as_str())
        .collect();
    let mut components = HashMap::new();
    for (id, c) in manifest
        .component
        .iter()
        .filter(|(id, _)| used.contains(id.as_str()))
    {
        // Names and templates were checked when the manifest loaded; labels
        // need the runtime config, which may define more than `default`.
        kv.check_labels(id, &c.key_value_stores)?;
        let mut values = HashMap::new();
        for (name, template) in &c.variables {
            values.insert(name.clone(), resolved.expand(template)?);
        }
        let hosts = AllowedHosts::parse(&c.allowed_outbound_hosts, &resolved)
            .with_context(|| format!("invalid allowed_outbound_hosts of component {id:?}"))?;
        if let Some(e) = hosts.error() {
            // Spin logs this on the first outbound request and denies it
            // and every later one; said once at startup here.
            eprintln!(
                "Error parsing allowed outbound hosts of component {id:?}: {e}; \
                 every outbound request of this component will be denied"
            );
        }
        let path = app_dir.join(&c.source);
        let component = Component::from_file(&engine, &path)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("failed to load component {id:?} from {}", path.display()))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("component {id:?} imports something this host lacks"))?;
        let pre = ProxyPre::new(pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component {id:?} does not export wasi:http/incoming-handler")
            })?;
        let mut env: Vec<(String, String)> = c.environment.clone().into_iter().collect();
        env.extend(config.env.iter().cloned());
        components.insert(
            id.clone(),
            Prepared {
                pre,
                stores: Arc::new(c.key_value_stores.iter().cloned().collect()),
                hosts: Arc::new(hosts),
                variables: Arc::new(ComponentVariables {
                    component: id.clone(),
                    values,
                }),
                env,
            },
        );
    }

    let kv_log = match &config.kv_log {
        Some(p) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("FLOWGATE_HOST_KV_LOG: cannot open {}", p.display()))?,
        )),
        None => None,
    };
    let memory_log = match &config.memory_log {
        Some(p) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| {
                    format!("FLOWGATE_HOST_MEMORY_LOG: cannot open {}", p.display())
                })?,
        )),
        None => None,
    };
    let info = format!(
        "{{\n  \"name\": {:?},\n  \"version\": null\n}}",
        manifest.application.name
    );
    Ok(App {
        router,
        components,
        kv,
        kv_log,
        memory_log,
        pool: crate::outbound::ConnectionPool::new(config.connection_pooling),
        self_addr: OnceLock::new(),
        info,
        stdio: ComponentStdio::of_host()?,
    })
}

/// Loads the application, binds the listener and starts serving in the
/// background. Must be called inside a multi-thread tokio runtime.
pub async fn start(config: HostConfig) -> Result<RunningHost> {
    let app = Arc::new(load(&config).await?);
    let listener = TcpListener::bind(config.listen).await.map_err(|err| {
        if err.kind() == std::io::ErrorKind::AddrInUse {
            anyhow!("{} is already in use.", config.listen)
        } else {
            anyhow!("Unable to listen on {}: {err:?}", config.listen)
        }
    })?;
    let addr = listener.local_addr()?;
    let _ = app.self_addr.set(addr);
    let routes = app.router.listing();
    let task = tokio::spawn(accept_loop(app, listener));
    Ok(RunningHost { addr, routes, task })
}

async fn accept_loop(app: Arc<App>, listener: TcpListener) {
    loop {
        let (stream, client_addr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { app.handle(req, client_addr).await }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("Error serving HTTP connection: {e:?}");
            }
        });
    }
}

fn empty(status: StatusCode) -> Response<HyperOutgoingBody> {
    full(status, Bytes::new())
}

fn full(status: StatusCode, body: Bytes) -> Response<HyperOutgoingBody> {
    let mut res = Response::new(
        http_body_util::Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *res.status_mut() = status;
    res
}

/// Spin's `SPIN_*` names become these headers (underscores to dashes).
fn spin_headers(
    uri: &Uri,
    host: &str,
    route: &RouteMatch,
    client: SocketAddr,
) -> Vec<(String, String)> {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let scheme = uri.scheme_str().unwrap_or("http");
    let mut out = vec![
        ("spin-path-info".to_string(), route.path_info.clone()),
        (
            "spin-full-url".to_string(),
            format!("{scheme}://{host}{path_and_query}"),
        ),
        ("spin-matched-route".to_string(), route.based_route.clone()),
        ("spin-base-path".to_string(), "/".to_string()),
        (
            "spin-raw-component-route".to_string(),
            route.raw_route.clone(),
        ),
        (
            "spin-component-route".to_string(),
            route.raw_route_or_prefix().to_string(),
        ),
        ("spin-client-addr".to_string(), client.to_string()),
    ];
    for (name, value) in &route.named {
        out.push((
            format!(
                "spin-path-match-{}",
                name.to_ascii_lowercase().replace('_', "-")
            ),
            value.clone(),
        ));
    }
    out
}

impl App {
    async fn handle(
        self: Arc<Self>,
        mut req: Request<Incoming>,
        client: SocketAddr,
    ) -> Result<Response<HyperOutgoingBody>> {
        // Transport-level header; Spin removes it before the guest sees it.
        req.headers_mut().remove(http::header::CONNECTION);
        if let Some(host) = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            && host
                .rsplit_once(':')
                .map_or(host, |(h, _)| h)
                .split_once('.')
                .is_some_and(|(_, rest)| rest == "spin.internal")
        {
            req.headers_mut().remove(http::header::HOST);
        }
        let path = req.uri().path().to_string();
        if let Some(well_known) = path.strip_prefix("/.well-known/spin/") {
            return Ok(match well_known {
                "health" => full(StatusCode::OK, Bytes::from_static(b"OK")),
                "info" => {
                    let mut r = full(StatusCode::OK, Bytes::from(self.info.clone()));
                    r.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    r
                }
                _ => empty(StatusCode::NOT_FOUND),
            });
        }
        let Some(route) = self.router.route(&path) else {
            return Ok(empty(StatusCode::NOT_FOUND));
        };
        set_uri_authority(&mut req)?;
        let host = req
            .headers()
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_string();
        let extra = spin_headers(req.uri(), &host, &route, client);
        // Rebuild the map from (client headers..., spin headers...): equal
        // names group at the first one's position, client value first.
        let mut pairs: Vec<(HeaderName, HeaderValue)> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in extra {
            if let (Ok(k), Ok(v)) = (k.parse::<HeaderName>(), HeaderValue::from_str(&v)) {
                pairs.push((k, v));
            }
        }
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(k, v);
        }
        *req.headers_mut() = headers;

        let Some(prepared) = self.components.get(&route.component) else {
            return Ok(empty(StatusCode::INTERNAL_SERVER_ERROR));
        };
        match self.clone().execute(prepared, &route, req).await {
            Ok(res) => Ok(res),
            Err(e) => {
                eprintln!("Error processing request: {e:?}");
                Ok(empty(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    async fn execute(
        self: Arc<Self>,
        prepared: &Prepared,
        route: &RouteMatch,
        req: Request<Incoming>,
    ) -> Result<Response<HyperOutgoingBody>> {
        let mut wasi = WasiCtx::builder();
        wasi.stdout(self.stdio.out.clone())
            .stderr(self.stdio.err.clone());
        for (k, v) in &prepared.env {
            wasi.env(k, v);
        }
        let state = InstanceState::new(
            wasi.build(),
            OutboundHooks {
                allowed: prepared.hosts.clone(),
                self_addr: self.self_addr.get().copied(),
                pool: self.pool.clone(),
            },
            KvState::new(prepared.stores.clone(), self.kv.clone()),
            prepared.variables.clone(),
        );
        let mut store = Store::new(prepared.pre.engine(), state);
        if self.memory_log.is_some() {
            store.limiter(InstanceState::memory_limiter);
        }
        let log_prefix = format!("{} {} {}", route.component, req.method(), req.uri().path());
        let req = req.map(|b| {
            b.map_err(|e| {
                wasmtime_wasi_http::Error::from(wasmtime_wasi_http::p2::hyper_response_error(e))
            })
            .boxed_unsync()
        });
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)
            .map_err(anyhow::Error::from)?;
        let (res_tx, res_rx) = oneshot::channel();
        let outparam = store
            .data_mut()
            .http()
            .new_response_outparam(res_tx)
            .map_err(anyhow::Error::from)?;
        let pre = prepared.pre.clone();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let app = self.clone();
        let task = tokio::spawn(async move {
            let result = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            }
            .await
            .map_err(anyhow::Error::from);
            app.log_kv(&log_prefix, store.data().kv_counts());
            app.log_memory(&log_prefix, store.data().peak_memory());
            let _ = done_tx.send(());
            result
        });

        match res_rx.await {
            Ok(Ok(res)) => {
                tokio::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        eprintln!("Component error after response started: {e:?}");
                    }
                });
                if self.kv_log.is_some() || self.memory_log.is_some() {
                    Ok(res.map(|body| {
                        WaitForGuest {
                            body,
                            body_done: false,
                            done: Some(done_rx),
                        }
                        .boxed_unsync()
                    }))
                } else {
                    Ok(res)
                }
            }
            Ok(Err(code)) => {
                let _ = task.await;
                Err(anyhow!("guest returned an error response: {code:?}"))
            }
            Err(_) => {
                task.await
                    .context("guest invocation panicked")?
                    .context("guest invocation failed")?;
                Err(anyhow!(
                    "guest failed to produce a response prior to returning"
                ))
            }
        }
    }

    fn log_memory(&self, prefix: &str, (bytes, grows): (usize, usize)) {
        let Some(file) = &self.memory_log else { return };
        let line = format!("{prefix} peak_linear_memory={bytes} memory_grows={grows}\n");
        let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            eprintln!("FLOWGATE_HOST_MEMORY_LOG: write failed: {e}");
        }
    }

    fn log_kv(&self, prefix: &str, c: KvCounts) {
        let Some(file) = &self.kv_log else { return };
        let line = format!(
            "{prefix} get={} set={} delete={} exists={} get_keys={} variables={} spin_opens={} wasi_opens={}\n",
            c.get, c.set, c.delete, c.exists, c.get_keys, c.variables, c.spin_opens, c.wasi_opens
        );
        let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()).and_then(|()| file.flush()) {
            eprintln!("FLOWGATE_HOST_KV_LOG: write failed: {e}");
        }
    }
}

/// Spin's `set_req_uri`: scheme `http`, authority from `Host` (which must
/// agree with an absolute-form URI's authority).
fn set_uri_authority(req: &mut Request<Incoming>) -> Result<()> {
    let header = req
        .headers()
        .get(http::header::HOST)
        .map(|h| -> Result<http::uri::Authority> {
            let s = h.to_str().context("'Host' header is not valid UTF-8")?;
            s.parse()
                .context("'Host' header contains an invalid authority")
        })
        .transpose()?;
    let mut parts = req.uri().clone().into_parts();
    let authority = match (header, parts.authority.take()) {
        (None, None) => return Err(anyhow!("no 'Host' header present in request")),
        (Some(a), None) | (None, Some(a)) => a,
        (Some(a), Some(b)) if a == b => a,
        _ => {
            return Err(anyhow!(
                "authority in 'Host' header does not match authority in URI"
            ));
        }
    };
    parts.scheme = Some(http::uri::Scheme::HTTP);
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    *req.uri_mut() = Uri::from_parts(parts)?;
    Ok(())
}

/// A response body whose end waits for the guest to finish, so the
/// `FLOWGATE_HOST_KV_LOG` line exists once a client has the whole response.
struct WaitForGuest {
    body: HyperOutgoingBody,
    body_done: bool,
    done: Option<oneshot::Receiver<()>>,
}

impl Body for WaitForGuest {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if !self.body_done {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(None) => self.body_done = true,
                other => return other,
            }
        }
        if let Some(done) = self.done.as_mut() {
            if Pin::new(done).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.done = None;
        }
        Poll::Ready(None)
    }
}
