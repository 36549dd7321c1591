/** Where the CLI writes; injected so that tests can run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Present when `out` is a terminal that can be redrawn in place (the live view); absent for pipes and logs. */
  terminal?: Terminal;
}

export interface Terminal {
  /** Read at every redraw, so that a resized window is followed. */
  size(): { columns: number; rows: number };
  color: boolean;
}
