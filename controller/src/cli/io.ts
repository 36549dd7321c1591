/** Where the CLI writes; injected so that tests can run commands in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}
