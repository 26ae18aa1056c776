"""A local SMTP sink for the tests: accepts every message and writes it to
a directory, one file per message (envelope as JSON headers, then the raw
message). Usage: smtp-sink.py DIR [PORT]; binds 127.0.0.1 (port 0 = any
free port) and prints the port on stdout once it is listening."""

import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}
        name = os.path.join(self.directory, f"{self.count:05d}.eml")
        # Written under a temporary name, then renamed: readers never see half a message.
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Sink-Envelope: " + json.dumps(meta) + "\r\n").encode())
            f.write(envelope.original_content or envelope.content)
        os.replace(name + ".tmp", name)
        return "250 OK"


async def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(directory, exist_ok=True)
    sink = Sink(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.local"), "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
