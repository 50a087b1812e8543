#!/usr/bin/env python3
"""Latency of POST /oauth2/token on ONE keep-alive connection, to see answers
held back by Nagle's algorithm on the server and the client's delayed
acknowledgement (docs/benchmarks.md, "Why the WASIp3 build idles").

    python3 bench/keepalive.py PORT 'Basic <client credentials>' [quickack]

With `quickack` the client sets TCP_QUICKACK before every read, so it
acknowledges each segment at once: if the slow answers vanish, they were
waiting for that acknowledgement. Prints the median, the maximum and how
many of 55 answers (after 5 discarded) took over 20 ms. A benchmark helper,
not a test.
"""
import socket
import statistics
import sys
import time


def main() -> None:
    port, auth = int(sys.argv[1]), sys.argv[2]
    quickack = len(sys.argv) > 3 and sys.argv[3] == "quickack"
    body = b"grant_type=client_credentials"
    request = (
        f"POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {auth}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(60):
        start = time.perf_counter()
        sock.sendall(request)
        answer = b""
        while True:
            if quickack:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(65536)
            if not chunk:
                sys.exit("the server closed the connection")
            answer += chunk
            if b"\r\n\r\n" not in answer:
                continue
            head, rest = answer.split(b"\r\n\r\n", 1)
            lengths = [
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if not lengths:
                sys.exit("an answer without content-length")
            if len(rest) >= lengths[0]:
                break
        if not answer.startswith(b"HTTP/1.1 200"):
            sys.exit(f"not a 200: {answer[:40]!r}")
        times.append((time.perf_counter() - start) * 1000)
    kept = times[5:]
    print(
        f"quickack={quickack}: median {statistics.median(kept):.2f} ms, "
        f"max {max(kept):.1f} ms, over 20 ms: {sum(t > 20 for t in kept)} of {len(kept)}"
    )


if __name__ == "__main__":
    main()
