"""Clients that never read: SOCKETS connections spread over ADDRESSES loopback addresses
(127.0.1.1, 127.0.1.2, ...), each asking for PATH and then reading nothing; a connection the
server closes is opened again after a second. Runs for SECONDS, then prints how many requests
were sent. Only for a server on this machine (loopback).

usage: python3 bench/unread.py PORT PATH SOCKETS ADDRESSES SECONDS
"""

import asyncio
import socket
import sys
import time


async def hold(port, path, source, deadline, counts):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        except OSError:
            await asyncio.sleep(1.0)
            continue
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        counts["sent"] += 1
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: tessera.test\r\n\r\n".encode())
            await writer.drain()
            # Never read; notice only that the server closed the connection.
            while time.monotonic() < deadline and not reader.at_eof() and not writer.is_closing():
                await asyncio.sleep(1.0)
                if writer.transport.is_closing():
                    break
        except OSError:
            pass
        finally:
            writer.close()
        await asyncio.sleep(1.0)


async def main():
    port, path, sockets = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    addresses, seconds = int(sys.argv[4]), float(sys.argv[5])
    deadline = time.monotonic() + seconds
    counts = {"sent": 0}
    await asyncio.gather(*(hold(port, path, f"127.0.1.{1 + i % addresses}", deadline, counts) for i in range(sockets)))
    print(f"UNREAD sockets={sockets} addresses={addresses} seconds={seconds:.0f} requests_sent={counts['sent']}")


asyncio.run(main())
