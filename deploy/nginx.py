"""The reverse proxy's routing, rendered for nginx from the topology.

One `server` block with an upstream per route: the test harness includes
it in a minimal nginx.conf of its own (tests/harness/proxy.py), the
container stack mounts it into the nginx image's `conf.d`
(docker/nginx/synapse.conf). What Synapse's reverse-proxy documentation
(docs/reverse_proxy.md) asks for is here: no path after the port in
`proxy_pass`, so the request URI reaches Synapse exactly as the client sent
it; the client's address in `X-Forwarded-For` (the listeners set
`x_forwarded`), `Host` passed on, HTTP/1.1, bodies up to 50 MB.
"""

from __future__ import annotations

from collections.abc import Callable

from deploy.topology import Instance, Topology

#: Answered by nginx itself: the proxy's own health check.
HEALTH_PATH = "/nginx-health"


def upstream_name(name: str) -> str:
    return f"synapse_{name}"


def render_server(
    topology: Topology,
    listen: str,
    address_of: Callable[[Instance], str],
    header: str = "",
) -> str:
    """The `upstream` and `server` blocks. `address_of(instance)` is the
    `host:port` of an instance's HTTP listener."""
    lines = [header] if header else []
    for name, members in topology.upstreams().items():
        lines.append(f"upstream {upstream_name(name)} {{")
        lines += [f"    server {address_of(topology.instance(m))};" for m in members]
        lines += ["}", ""]
    lines += [
        "server {",
        f"    listen {listen};",
        "    server_name _;",
        "    client_max_body_size 50M;",
        "    proxy_http_version 1.1;",
        "    proxy_set_header Host $host;",
        "    proxy_set_header X-Forwarded-For $remote_addr;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "",
        f"    location = {HEALTH_PATH} {{",
        "        access_log off;",
        '        return 200 "ok\\n";',
        "    }",
    ]
    for route in topology.routes:
        lines += ["", f"    # {route.group} -> {', '.join(route.to)}"]
        for pattern in route.patterns:
            lines.append(
                f'    location ~ "{pattern}" '
                f"{{ proxy_pass http://{upstream_name(route.upstream)}; }}"
            )
    lines += [
        "",
        "    # Everything else: the main process.",
        f"    location / {{ proxy_pass http://{upstream_name('main')}; }}",
        "}",
        "",
    ]
    return "\n".join(lines)
