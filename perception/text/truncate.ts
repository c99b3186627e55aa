// Text limits shared by the sentence encoders.

/** The first `max` code points of `text`; never splits a surrogate pair, never walks a huge string. */
export function firstCodePoints(text: string, max: number): string {
  if (text.length <= max) return text;
  let units = 0;
  let count = 0;
  while (units < text.length && count < max) {
    const c = text.charCodeAt(units);
    units += c >= 0xd800 && c <= 0xdbff && units + 1 < text.length && (text.charCodeAt(units + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
    count++;
  }
  return text.slice(0, units);
}

/** Lone surrogates (broken UTF-16, e.g. from binary junk) replaced by U+FFFD, so the text can be sent as JSON. */
export function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
