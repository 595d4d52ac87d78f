"""Clients that never read: SOCKETS connections spread over ADDRESSES loopback addresses
(127.0.1.1, 127.0.1.2, ...), each asking for PATH and then reading nothing past the status line. A refused
request (503) is asked again after a second; an answered one is held HOLD seconds (default 35, past the server's 30 s request timeout, so that the server's
own disconnect is what frees it), then dropped and opened again, until SECONDS have passed;
prints how many requests were sent. Only for a server on this machine (loopback).

A client that reads nothing cannot see the server close its connection: the close waits
behind the answer's unread bytes. Waiting for it, as this script once did, left every socket
idle once the server had let it go, and the load stopped after the first wave; hence the
fixed hold.

usage: python3 bench/unread.py PORT PATH SOCKETS ADDRESSES SECONDS [HOLD]
"""

import asyncio
import socket
import sys
import time


async def hold(port, path, source, deadline, hold_secs, counts):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)),
                timeout=max(0.1, min(10.0, deadline - time.monotonic())),
            )
        except (OSError, asyncio.TimeoutError):
            counts["refused"] += 1
            await asyncio.sleep(1.0)
            continue
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        started = time.monotonic()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: tessera.test\r\n\r\n".encode())
            counts["sent"] += 1
            # The status line only, never the body: a refusal (503 when the heavy work or the
            # answer buffer is full) is asked again after a second, as Retry-After says.
            left = max(0.1, min(hold_secs, deadline - started))
            status = (await asyncio.wait_for(reader.readexactly(12), timeout=left))[9:12].decode()
            counts[status] = counts.get(status, 0) + 1
            if status == "200":
                await asyncio.sleep(max(0.0, min(started + hold_secs, deadline) - time.monotonic()))
            else:
                await asyncio.sleep(1.0)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            # Reset rather than close: nothing is left lingering on either side.
            writer.transport.abort()


async def main():
    port, path, sockets = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    addresses, seconds = int(sys.argv[4]), float(sys.argv[5])
    hold_secs = float(sys.argv[6]) if len(sys.argv) > 6 else 35.0
    deadline = time.monotonic() + seconds
    counts = {"sent": 0, "refused": 0}
    tasks = (hold(port, path, f"127.0.1.{1 + i % addresses}", deadline, hold_secs, counts) for i in range(sockets))
    await asyncio.gather(*tasks)
    print(
        f"UNREAD sockets={sockets} addresses={addresses} seconds={seconds:.0f} hold={hold_secs:.0f} "
        f"requests_sent={counts['sent']} connects_failed={counts['refused']} "
        + " ".join(f"status_{k}={v}" for k, v in sorted(counts.items()) if k.isdigit())
    )


asyncio.run(main())
