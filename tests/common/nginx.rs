//! A real nginx in front of flowgate, for the gateway test: `auth_request`
//! to flowgate's `/authorize`, the identity headers passed on, and a
//! `proxy_pass` to a loopback upstream. nginx runs in the foreground without
//! a master process, with every path (pid, logs, temp files) in its own
//! directory, and is killed when the guard is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::gateway::{self, Launch, Process};

/// Where nginx is, if it is installed. Debian puts it in `/usr/sbin`, which
/// is not on every user's `PATH`.
pub fn binary() -> Option<PathBuf> {
    gateway::find(
        "nginx",
        &[
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ],
    )
}

/// The configuration: the same shape as `examples/nginx/flowgate.conf`, with
/// test ports and a private directory for everything nginx writes.
pub fn config(dir: &Path, listen: u16, flowgate: u16, upstream: u16) -> String {
    let dir = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    server {{
        listen 127.0.0.1:{listen};

        location /flows/ {{
            auth_request /_flowgate_authorize;
            auth_request_set $flowgate_account $upstream_http_x_flowgate_account;
            auth_request_set $flowgate_account_name $upstream_http_x_flowgate_account_name;
            auth_request_set $flowgate_flow $upstream_http_x_flowgate_flow;
            auth_request_set $flowgate_assertion $upstream_http_x_flowgate_assertion;
            auth_request_set $flowgate_metadata $upstream_http_x_flowgate_metadata;
            # Over a rate limit flowgate answers 403 (asked below) with
            # X-Flowgate-Limited: 1; @flowgate_403 turns that into a 429.
            auth_request_set $flowgate_limited $upstream_http_x_flowgate_limited;
            auth_request_set $flowgate_retry_after $upstream_http_retry_after;
            auth_request_set $flowgate_ratelimit $upstream_http_ratelimit;
            auth_request_set $flowgate_ratelimit_policy $upstream_http_ratelimit_policy;
            error_page 403 = @flowgate_403;
            # On a 401 from flowgate, auth_request itself copies its
            # WWW-Authenticate into the answer: no add_header needed.

            # Identity comes from flowgate only: these replace whatever the
            # client sent under the same names.
            proxy_set_header X-Flowgate-Account $flowgate_account;
            proxy_set_header X-Flowgate-Account-Name $flowgate_account_name;
            proxy_set_header X-Flowgate-Flow $flowgate_flow;
            proxy_set_header X-Flowgate-Assertion $flowgate_assertion;
            proxy_set_header X-Flowgate-Metadata $flowgate_metadata;
            # Credentials stay at the edge.
            proxy_set_header Authorization "";
            proxy_set_header X-API-Key "";
            proxy_pass http://127.0.0.1:{upstream};
        }}

        location = /_flowgate_authorize {{
            internal;
            proxy_pass http://127.0.0.1:{flowgate}/authorize;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            # The other family of forwarded headers, if a client sent it,
            # must not reach flowgate next to these.
            proxy_set_header X-Forwarded-Uri "";
            proxy_set_header X-Forwarded-Method "";
            # auth_request passes on only 401 and 403: over a limit, ask for
            # a 403 marked X-Flowgate-Limited.
            proxy_set_header X-Flowgate-Limit-Status 403;
        }}

        location @flowgate_403 {{
            if ($flowgate_limited) {{
                add_header Retry-After $flowgate_retry_after always;
                add_header RateLimit $flowgate_ratelimit always;
                add_header RateLimit-Policy $flowgate_ratelimit_policy always;
                return 429 '{{"error":"rate_limited"}}';
            }}
            return 403 '{{"error":"forbidden"}}';
        }}
    }}
}}
"#
    )
}

/// Starts `binary` with the configuration that `conf` writes for a
/// directory and a listen port; `Err` with nginx's own words if it does not
/// come up.
pub fn start_with(
    binary: &Path,
    conf: impl FnOnce(&Path, u16) -> String,
) -> Result<Process, String> {
    let launch = Launch {
        kind: "nginx",
        config_file: "nginx.conf",
        log_files: &["error.log"],
    };
    Process::start(launch, conf, |dir, conf| {
        let mut command = Command::new(binary);
        // -p and -e keep nginx away from its compiled-in paths
        // (/var/log/nginx, /usr/share/nginx), which may be root-owned.
        command
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(conf);
        command
    })
}
