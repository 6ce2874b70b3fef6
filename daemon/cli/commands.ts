/** Commands of the later layers, registered into the CLI's table. */
import './ingest.ts';
