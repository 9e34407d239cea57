// Waits for a port that is never free.
let port = 3000;
while (true) {
  port = port + 1 > 65535 ? 3000 : port + 1;
}
