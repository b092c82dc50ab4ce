// The lobby chat of the original Node.js tutorials, as they wrote it: names unique ignoring
// case, `chat` broadcast to every socket, nothing stored. Plus the rooms of the
// "full-featured chat" guide, the way it writes them: `join_room` (socket.join(room), which
// logs the socket in like `login` when it is not yet) and `send_message` →
// io.to(room).emit('receive_message', {...}). Usage: node server.js PORT
// Environment: PING_INTERVAL_MS, PING_TIMEOUT_MS (socket.io's defaults: 25000, 20000).
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 3001);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingInterval: Number(process.env.PING_INTERVAL_MS ?? 25000),
  pingTimeout: Number(process.env.PING_TIMEOUT_MS ?? 20000),
});
const names = new Map(); // socket id -> name
const userIds = new Map(); // socket id -> user id
let nextId = 1;
let nextUserId = 1;

const valid = (name) => typeof name === 'string' && [...name.trim()].length >= 3 && [...name.trim()].length <= 10;
const taken = (name) => [...names.values()].some((n) => n.toLowerCase() === name.toLowerCase());
const roomName = (raw) => {
  const room = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  return /^[a-z0-9_-]{1,30}$/.test(room) ? room : null;
};
const roomUsers = (room) => [...(io.sockets.adapter.rooms.get(room) ?? [])].map((id) => names.get(id)).filter(Boolean);

// Logs the socket in as `raw`: welcome to it, userJoined to everyone. Returns the refusal.
const logIn = (socket, raw) => {
  if (!valid(raw)) return 'invalidName';
  const name = raw.trim();
  if (taken(name)) return 'nameTaken';
  names.set(socket.id, name);
  userIds.set(socket.id, nextUserId++);
  socket.emit('welcome', name);
  io.emit('userJoined', name);
  return null;
};

io.on('connection', (socket) => {
  const refuse = (event, reason) => socket.emit('error', { msg: reason, reason, event });
  socket.on('login', (raw) => {
    if (names.has(socket.id)) return socket.emit('requestRejected', { event: 'login', reason: 'alreadyLoggedIn' });
    const refusal = logIn(socket, raw);
    if (refusal === 'invalidName') socket.emit('loginNameBad', raw ?? null);
    if (refusal === 'nameTaken') socket.emit('loginNameExists', raw.trim());
  });
  socket.on('chat', (message) => {
    const sender = names.get(socket.id);
    if (!sender || typeof message !== 'string' || message.trim() === '') return;
    io.emit('chat', { sender, message, id: nextId++, sentAt: Date.now() });
  });
  socket.on('join_room', (data) => {
    const room = roomName(data?.room);
    if (!room) return refuse('join_room', 'badRoomName');
    if (!names.has(socket.id)) {
      const refusal = data?.username == null ? 'notLoggedIn' : logIn(socket, data.username);
      if (refusal) return refuse('join_room', refusal);
    } else if (typeof data.username === 'string' && data.username.trim().toLowerCase() !== names.get(socket.id).toLowerCase()) {
      return refuse('join_room', 'nameMismatch');
    }
    const username = names.get(socket.id);
    const joined = !socket.rooms.has(room);
    socket.join(room);
    socket.emit('room_joined', { room, username, userId: userIds.get(socket.id) });
    if (joined) socket.to(room).emit('user_joined', { username, room, time: new Date().toISOString() });
    io.to(room).emit('room_users', roomUsers(room), { room });
  });
  socket.on('send_message', (data) => {
    const username = names.get(socket.id);
    if (!username) return refuse('send_message', 'notLoggedIn');
    const room = roomName(data?.room);
    if (!room || !socket.rooms.has(room)) return refuse('send_message', 'notMember');
    const message = data.message;
    if (typeof message !== 'string' || message.trim() === '') return refuse('send_message', 'emptyMessage');
    io.to(room).emit('receive_message', {
      id: nextId++, username, message, time: new Date().toISOString(), room, userId: userIds.get(socket.id),
    });
  });
  socket.on('typing', () => {
    const name = names.get(socket.id);
    if (name) socket.broadcast.emit('userTyping', name);
  });
  socket.on('stopTyping', () => {
    const name = names.get(socket.id);
    if (name) socket.broadcast.emit('userStoppedTyping', name);
  });
  socket.on('onlineUsers', () => socket.emit('onlineUsers', [...names.values()]));
  socket.on('disconnect', () => {
    const name = names.get(socket.id);
    names.delete(socket.id);
    userIds.delete(socket.id);
    if (name) io.emit('userLeft', name);
  });
});

httpServer.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
