/**
 * Every message the daemon's protocol layer sends a person, written once. Tests assert on these
 * functions rather than on copies of their text.
 */
export const messages = {
  parseError: (why: string) => `The message is not valid JSON: ${why}.`,
  framingError: (why: string) => `The message framing is broken: ${why}.`,
  batchUnsupported: () => 'Batch requests are not supported; send one request per message.',
  invalidRequest: (why: string) => `Not a JSON-RPC 2.0 request: ${why}.`,
  methodNotFound: (method: string) => `Unknown method ${JSON.stringify(method.slice(0, 100))}.`,
  notInitialized: (method: string) =>
    `Send "initialize" before ${JSON.stringify(method)}: the connection is not initialized yet.`,
  alreadyInitialized: () => 'The connection is already initialized.',
  shuttingDown: (method: string) =>
    `The daemon is shutting down and no longer accepts ${JSON.stringify(method)}.`,
  unauthorized: () =>
    'Wrong or missing token: pass the content of <data>/.threadx-token as "token" in initialize.',
  duplicateId: (id: string | number) => `A request with id ${JSON.stringify(id)} is still running.`,
  tooManyRequests: (n: number) =>
    `Too many requests in flight on this connection (limit ${n}); wait for some to finish.`,
  cancelled: () => 'The request was cancelled.',
  cancelledByShutdown: () => 'The request was cancelled because the daemon is shutting down.',
  internal: (why: string) => `Internal error in the daemon: ${why}`,
  storage: (why: string) => `Storage error: ${why}`,
  unavailable: (what: string) =>
    `${what} is not available in this build of the daemon (the module is missing).`,
  daemonRunning: (dataDir: string, endpoint: string, pid: number) =>
    `A ThreadX daemon already serves ${dataDir} (pid ${pid}) at ${endpoint}; connect to it, or run "threadx serve --stdio --join" to proxy to it.`,
  daemonLockBusy: (dataDir: string) =>
    `Another ThreadX daemon is starting for ${dataDir}; try again in a moment.`,
  /**
   * The fix for a damaged file, as this daemon's clients can apply it: the bank is the daemon's,
   * so a plain "threadx repair" from a shell is refused while it runs.
   */
  repairThroughDaemon: (symbol: string) =>
    `While this daemon serves the bank, repair through it: "threadx repair --symbol ${symbol} --join" from a shell, the registry/repair request, or Repair in VS Code.`,
  noDaemonToJoin: (dataDir: string) =>
    `No running ThreadX daemon for ${dataDir} has an endpoint to join.`,
} as const;
