/** Commands of the later layers, registered into the CLI's table. */
import './ingest.ts';
import './indicators.ts';
import './repair.ts';

// The daemon: `threadx serve` (JSON-RPC over stdio, a socket or a port).
import '../rpc/serve-command.ts';
