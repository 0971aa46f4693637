#!/usr/bin/env node
// OpenSSH runs this as SSH_ASKPASS while pilot's openssh transport logs in: the question (argv[2]) goes over
// the private socket named in PILOT_ASKPASS_SOCKET to the pilot process, which asks its prompt callback; the
// answer is printed for ssh. Exit 1 (no answer) aborts the login, as a cancelled askpass dialog would.
import { connect } from 'node:net';

const path = process.env.PILOT_ASKPASS_SOCKET;
if (!path) {
  process.stderr.write('pilot-askpass: PILOT_ASKPASS_SOCKET is not set (only pilot runs this program)\n');
  process.exit(1);
}
const socket = connect(path);
let answer = '';
socket.setEncoding('utf8');
socket.on('connect', () => {
  socket.write(`${JSON.stringify({ token: process.env.PILOT_ASKPASS_TOKEN ?? '', message: process.argv[2] ?? '', hint: process.env.SSH_ASKPASS_PROMPT ?? '' })}\n`);
});
socket.on('data', (d) => { answer += d; });
socket.on('end', () => {
  try {
    const reply = JSON.parse(answer);
    if (typeof reply.answer === 'string') {
      process.stdout.write(`${reply.answer}\n`);
      process.exit(0);
    }
    if (reply.error) process.stderr.write(`pilot-askpass: ${reply.error}\n`);
  } catch {
    process.stderr.write('pilot-askpass: no answer from pilot\n');
  }
  process.exit(1);
});
socket.on('error', (err) => {
  process.stderr.write(`pilot-askpass: ${err.message}\n`);
  process.exit(1);
});
