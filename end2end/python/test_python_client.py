"""The official Python Socket.IO client (python-socketio) against the real server binary,
over WebSocket and over the default long-polling start: login, errors, presence, chat,
sessions (cookie), acknowledged chats and history.

    CHAT_SERVER_BIN=target/release/server python -m unittest discover -s end2end/python
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest
import urllib.request

import socketio

READY = re.compile(r"listening on (http://\S+)")
TIMEOUT = 5


# The rate limits (per user and per address) off, as end2end/protocol/server.mjs does.
NO_RATE_LIMITS = {
    "CHAT_MESSAGE_RATE": "0",
    "CHAT_TYPING_RATE": "0",
    "CHAT_READ_RATE": "0",
    "CHAT_JOIN_RATE": "0",
    "CHAT_LOGIN_RATE": "0",
    "CHAT_CONNECTION_RATE": "0",
    "CHAT_CONNECTIONS_PER_ADDRESS": "0",
}

class Server:
    """The chat server binary on a free loopback port, with its own database."""

    made = 0

    def database_args(self):
        """A fresh database: in PostgreSQL when CHAT_TEST_POSTGRES names a server (see
        scripts/with-postgres.sh), else a SQLite file in this server's folder."""
        base = os.environ.get("CHAT_TEST_POSTGRES")
        if not base:
            return ["--database", os.path.join(self.data, "chat.db")]
        Server.made += 1
        name = f"py_{os.getpid()}_{Server.made}"
        subprocess.run(["createdb", name], check=True)
        return ["--database-url", f"{base}/{name}"]

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="chat-py-")
        binary = os.environ.get("CHAT_SERVER_BIN")
        if not binary:
            raise RuntimeError("CHAT_SERVER_BIN is not set: point it at the server binary")
        # The suite logs in many users from one address in a few seconds, faster than
        # the per-address limits allow (as the other suites, it turns them off).
        env = dict(os.environ, NO_COLOR="1", **NO_RATE_LIMITS)
        self.process = subprocess.Popen(
            [binary, "--address", "127.0.0.1", "--port", "0", *self.database_args()],
            cwd=os.path.dirname(os.path.abspath(binary)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.url = None
        ready = threading.Event()

        def read():
            for line in self.process.stdout:
                match = READY.search(re.sub(r"\x1b\[[0-9;]*m", "", line))
                if match and not self.url:
                    self.url = match.group(1)
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(30):
            self.process.kill()
            raise RuntimeError("the server did not start listening")

    def stop(self):
        """SIGTERM; returns the exit code."""
        self.process.terminate()
        code = self.process.wait(15)
        shutil.rmtree(self.data, ignore_errors=True)
        return code


class PythonClientTest:
    transports = None  # set by subclasses

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"the server exited with {code} after SIGTERM")

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for client in self.clients:
            client.disconnect()

    def client(self):
        client = socketio.SimpleClient()
        client.connect(self.server.url, transports=self.transports, wait_timeout=TIMEOUT)
        self.clients.append(client)
        return client

    def name(self, base):
        return f"{base}{self.suffix}"

    def test_login_chat_and_presence(self):
        ann, bob = self.client(), self.client()
        ann.emit("login", self.name("Ann"))
        self.assertEqual(ann.receive(TIMEOUT), ["welcome", self.name("Ann")])
        self.assertEqual(ann.receive(TIMEOUT), ["userJoined", self.name("Ann")])
        self.assertEqual(bob.receive(TIMEOUT), ["userJoined", self.name("Ann")])

        bob.emit("onlineUsers")
        self.assertEqual(bob.receive(TIMEOUT), ["onlineUsers", [self.name("Ann")]])

        ann.emit("chat", "hello from Python")
        got_ann, got_bob = ann.receive(TIMEOUT), bob.receive(TIMEOUT)
        self.assertEqual(got_ann, got_bob)
        event, payload = got_ann
        self.assertEqual(event, "chat")
        self.assertEqual(payload["sender"], self.name("Ann"))
        self.assertEqual(payload["message"], "hello from Python")
        self.assertIsInstance(payload["id"], int)
        self.assertGreater(payload["sentAt"], 0)

    def test_session_acknowledged_chat_and_history(self):
        name = self.name("Py")
        request = urllib.request.Request(
            self.server.url + "/api/session",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            cookie = response.headers["Set-Cookie"].split(";")[0]
        client = socketio.SimpleClient()
        client.connect(
            self.server.url,
            transports=self.transports,
            headers={"Cookie": cookie},
            wait_timeout=TIMEOUT,
        )
        self.clients.append(client)
        self.assertEqual(client.receive(TIMEOUT), ["welcome", name])
        self.assertEqual(client.receive(TIMEOUT), ["userJoined", name])

        chat = {"text": "stored from Python", "clientId": "py-1"}
        receipt = client.call("chat", chat, timeout=TIMEOUT)
        self.assertEqual(set(receipt), {"ok", "id", "sentAt", "duplicate"})
        self.assertEqual((receipt["ok"], receipt["duplicate"]), (True, False))
        self.assertIsInstance(receipt["id"], int)
        stored = {
            "sender": name,
            "message": "stored from Python",
            "id": receipt["id"],
            "sentAt": receipt["sentAt"],
            "clientId": "py-1",
        }
        self.assertEqual(client.receive(TIMEOUT), ["chat", stored])
        again = client.call("chat", chat, timeout=TIMEOUT)
        self.assertEqual(again, dict(receipt, duplicate=True))
        # A resend is acknowledged only: no second chat.
        with self.assertRaises(socketio.exceptions.TimeoutError):
            client.receive(0.3)

        history = client.call("history", {"after": receipt["id"] - 1}, timeout=TIMEOUT)
        self.assertTrue(history["ok"])
        self.assertEqual(history, {"ok": True, "messages": [stored], "hasMore": receipt["id"] > 1, "resync": False})
        refused = client.call("history", {"limit": 0}, timeout=TIMEOUT)
        self.assertEqual((refused["ok"], refused["reason"]), (False, "badRequest"))

    def receive_until(self, client, event):
        """The next event called `event`, skipping others (presence, room lists)."""
        while True:
            got = client.receive(TIMEOUT)
            if got[0] == event:
                return got

    def test_rooms_and_direct_messages(self):
        ann, bob, cat = self.client(), self.client(), self.client()
        joined = ann.call("join_room", {"username": self.name("Ann"), "room": "Py"}, timeout=TIMEOUT)
        self.assertEqual((joined["ok"], joined["room"], joined["joined"]), (True, "py", True))
        self.assertEqual(self.receive_until(ann, "room_joined")[1]["room"], "py")
        bob.call("join_room", {"username": self.name("Bob"), "room": "py"}, timeout=TIMEOUT)
        cat.call("register", self.name("Cat"), timeout=TIMEOUT)
        self.assertEqual(self.receive_until(ann, "user_joined")[1]["username"], self.name("Bob"))

        receipt = bob.call("send_message", {"room": "py", "message": "hi room", "clientId": "b-1"}, timeout=TIMEOUT)
        self.assertEqual((receipt["ok"], receipt["status"], receipt["duplicate"]), (True, "delivered", False))
        for client in (ann, bob):
            event, message = self.receive_until(client, "receive_message")
            self.assertEqual((message["room"], message["message"], message["username"]), ("py", "hi room", self.name("Bob")))
            self.assertRegex(message["time"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

        dm = ann.call("private_message", {"toUsername": self.name("Bob"), "message": "psst"}, timeout=TIMEOUT)
        self.assertTrue(dm["ok"])
        self.assertEqual(self.receive_until(bob, "private_message")[1]["from"], self.name("Ann"))
        self.assertTrue(self.receive_until(ann, "private_message")[1]["isSelf"])
        # Cat is in neither: her own conversation with Bob is empty, the room is not hers.
        self.assertEqual(cat.call("history", {"with": self.name("Bob")}, timeout=TIMEOUT)["messages"], [])
        refused = cat.call("send_message", {"room": "py", "message": "let me in"}, timeout=TIMEOUT)
        self.assertEqual((refused["ok"], refused["reason"]), (False, "notMember"))
        mine = bob.call("my_conversations", timeout=TIMEOUT)
        self.assertEqual([d["with"] for d in mine["dms"]], [self.name("Ann")])
        self.assertEqual(mine["dms"][0]["unread"], 1)

    def test_login_errors(self):
        first, second = self.client(), self.client()
        second.emit("login", 42)
        self.assertEqual(second.receive(TIMEOUT), ["loginNameBad", 42])
        second.emit("login", "ab")
        self.assertEqual(second.receive(TIMEOUT), ["loginNameBad", "ab"])
        first.emit("login", self.name("Cat"))
        self.assertEqual(first.receive(TIMEOUT)[0], "welcome")
        second.emit("login", self.name("Cat"))
        # `second` also sees Cat join, before its own answer.
        self.assertEqual(second.receive(TIMEOUT), ["userJoined", self.name("Cat")])
        self.assertEqual(second.receive(TIMEOUT), ["loginNameExists", self.name("Cat")])


class OverWebSocket(PythonClientTest, unittest.TestCase):
    transports = ["websocket"]
    suffix = "W"


class OverPolling(PythonClientTest, unittest.TestCase):
    transports = ["polling"]
    suffix = "P"


if __name__ == "__main__":
    unittest.main()
