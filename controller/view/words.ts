/** HOST_ROLLING_BACK → "rolling back": a state as an operator reads it. */
export function word(state: string): string {
  return state
    .replace(/^[A-Z]+?_/, '')
    .replaceAll('_', ' ')
    .toLowerCase();
}
