const DEFAULT_MAX = 120;

/**
 * Replies and rejected names go into error messages that operators read and logs
 * keep; a full `show stat` or a hostile megabyte-long name must not flood them.
 */
export function excerpt(text: string, max = DEFAULT_MAX): string {
  const short = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(short);
}
