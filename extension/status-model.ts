/** The status bar item's text and tooltip from the daemon's state and the running jobs. */

export type DaemonState =
  | { kind: 'stopped' }
  | { kind: 'starting' }
  | { kind: 'ready'; pid: number; version: string; joined: boolean }
  | { kind: 'restarting'; attempt: number }
  | { kind: 'failed'; reason: string };

export interface JobStatus {
  title: string;
  percentage?: number;
  message?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

export function statusView(state: DaemonState, jobs: JobStatus[]): StatusView {
  if (jobs.length > 0) {
    const j = jobs[jobs.length - 1];
    const pct = j.percentage === undefined ? '' : ` ${Math.round(j.percentage)}%`;
    const more = jobs.length > 1 ? ` (+${jobs.length - 1})` : '';
    return {
      text: `$(sync~spin) ThreadX${pct}${more}`,
      tooltip: `${j.title}${j.message ? `: ${j.message}` : ''}`,
      error: false,
    };
  }
  switch (state.kind) {
    case 'ready':
      return {
        text: '$(database) ThreadX',
        tooltip: `ThreadX daemon ${state.version}, pid ${state.pid}${state.joined ? ' (shared)' : ''}`,
        error: false,
      };
    case 'starting':
      return {
        text: '$(loading~spin) ThreadX',
        tooltip: 'Starting the ThreadX daemon',
        error: false,
      };
    case 'restarting':
      return {
        text: '$(loading~spin) ThreadX',
        tooltip: `Restarting the ThreadX daemon (attempt ${state.attempt})`,
        error: false,
      };
    case 'failed':
      return { text: '$(error) ThreadX', tooltip: state.reason, error: true };
    case 'stopped':
      return {
        text: '$(circle-slash) ThreadX',
        tooltip: 'The ThreadX daemon is stopped',
        error: false,
      };
  }
}
