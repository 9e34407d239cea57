export const base = {
  max_restarts: 3,
  kill_timeout: 3000,
};

export function withPort(n) {
  return { PORT: process.env.PORT ?? n };
}
