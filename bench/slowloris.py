"""Trickling clients: SOCKETS connections from one address, each sending a request head one
byte a second and never finishing it; a connection the server closes is opened again at once.
Runs for SECONDS, then prints how many connections were opened in all and how many were open at
the end. Only for a server on this machine (loopback).

usage: python3 bench/slowloris.py HOST PORT SOCKETS SECONDS
"""

import asyncio
import sys
import time

HEAD = b"GET /health HTTP/1.1\r\nHost: tessera.test\r\n" + b"X-Padding: " + b"a" * 4000


async def trickle(host, port, deadline, counts):
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        counts["opened"] += 1
        counts["open"] += 1
        try:
            for byte in HEAD:
                if time.monotonic() >= deadline:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                # A closed connection shows as an end of stream within the second.
                try:
                    data = await asyncio.wait_for(reader.read(1), timeout=1.0)
                    if not data:
                        break
                except asyncio.TimeoutError:
                    pass
        except OSError:
            pass
        finally:
            counts["open"] -= 1
            writer.close()


async def main():
    host, port, sockets, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    deadline = time.monotonic() + seconds
    counts = {"opened": 0, "open": 0}
    await asyncio.gather(*(trickle(host, port, deadline, counts) for _ in range(sockets)))
    print(f"SLOWLORIS sockets={sockets} seconds={seconds:.0f} connections_opened={counts['opened']}")


asyncio.run(main())
