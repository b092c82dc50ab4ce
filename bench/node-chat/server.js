// The lobby chat of the original Node.js tutorials, as they wrote it: names unique ignoring
// case, `chat` broadcast to every socket, nothing stored. Usage: node server.js PORT
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] ?? 3001);
const httpServer = createServer();
const io = new Server(httpServer);
const names = new Map(); // socket id -> name
let nextId = 1;

const valid = (name) => typeof name === 'string' && [...name.trim()].length >= 3 && [...name.trim()].length <= 10;
const taken = (name) => [...names.values()].some((n) => n.toLowerCase() === name.toLowerCase());

io.on('connection', (socket) => {
  socket.on('login', (raw) => {
    if (names.has(socket.id)) return socket.emit('requestRejected', { event: 'login', reason: 'alreadyLoggedIn' });
    if (!valid(raw)) return socket.emit('loginNameBad', raw ?? null);
    const name = raw.trim();
    if (taken(name)) return socket.emit('loginNameExists', name);
    names.set(socket.id, name);
    socket.emit('welcome', name);
    io.emit('userJoined', name);
  });
  socket.on('chat', (message) => {
    const sender = names.get(socket.id);
    if (!sender || typeof message !== 'string' || message.trim() === '') return;
    io.emit('chat', { sender, message, id: nextId++, sentAt: Date.now() });
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
    if (name) io.emit('userLeft', name);
  });
});

httpServer.listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
